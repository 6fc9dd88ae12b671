// Address translation rules (decisions.md §5, compatibility.md "Translation"): rules in file order,
// the first whose pattern is *found* in the address (a search: `^`/`$` anchor only when written)
// wins, and its output is a template where `$1`–`$9` stand for the pattern's groups. The same
// pattern dialect serves the toll-fraud lists (DestinationAllow/Deny, InitiatorAllow/Deny).
// Everything is compiled once at start-up; translating an address builds no regex.

export type CallMode = 'refer' | 'anchored' | 'ood-refer';

export const CALL_MODES: readonly CallMode[] = ['refer', 'anchored', 'ood-refer'];

/** One rule as written in the configuration. */
export interface TranslationRuleSource {
  readonly pattern: string;
  readonly output: string;
  readonly mode?: CallMode;
  /** Where the TranslationPattern line is, for messages. */
  readonly file: string;
  readonly line?: number;
  /** Where the TranslationOutput line is. */
  readonly outputLine?: number;
}

export interface Translation {
  readonly uri: string;
  /** The rule's TranslationMode, when it has one. */
  readonly mode?: CallMode;
}

export interface TranslationProblem {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly line?: number;
  readonly setting: string;
  readonly message: string;
}

/** A pattern of the translation dialect, compiled. */
export interface CompiledPattern {
  readonly source: string;
  readonly regex: RegExp;
  /** True when the pattern only compiled without the `u` flag (PCRE-style escapes such as `\-`). */
  readonly withoutUnicodeFlag: boolean;
}

export type PatternResult =
  | { readonly ok: true; readonly pattern: CompiledPattern }
  | { readonly ok: false; readonly message: string };

// A leading PCRE option group such as `(?i)` becomes RegExp flags (JavaScript has no inline flags).
const LEADING_OPTIONS = /^\(\?([ims]+)\)/;

/**
 * Compiles one pattern: with the `u` flag, or — where that is a syntax error PCRE accepts, like
 * the identity escape `\-` — without it (decisions.md §5; the caller warns with the line).
 */
export function compilePattern(source: string): PatternResult {
  let body = source;
  let flags = '';
  const options = LEADING_OPTIONS.exec(source);
  if (options) {
    body = source.slice(options[0].length);
    flags = [...new Set(options[1])].join('');
  }
  try {
    return { ok: true, pattern: { source, regex: new RegExp(body, flags + 'u'), withoutUnicodeFlag: false } };
  } catch (unicodeError) {
    try {
      return { ok: true, pattern: { source, regex: new RegExp(body, flags), withoutUnicodeFlag: true } };
    } catch {
      const text = unicodeError instanceof Error ? unicodeError.message : String(unicodeError);
      // V8 says "Invalid regular expression: /body/flags: reason"; keep just the reason.
      const reason = text.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      return { ok: false, message: `"${source}" is not a valid pattern: ${reason}` };
    }
  }
}

/** True when any pattern is found in the text. */
export function matchesAnyPattern(patterns: readonly CompiledPattern[], text: string): boolean {
  for (const p of patterns) if (p.regex.test(text)) return true;
  return false;
}

/** Output template parts: literal text, or the number of a group to insert. */
type TemplatePart = string | number;

function compileTemplate(output: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literalStart = 0;
  for (let i = 0; i < output.length - 1; i++) {
    const next = output.charCodeAt(i + 1);
    // `$1`–`$9` only: `$0`, `$$` and `$x` stay literal; `$12` is group 1 then "2".
    if (output.charCodeAt(i) === 0x24 /* $ */ && next >= 0x31 && next <= 0x39) {
      if (i > literalStart) parts.push(output.slice(literalStart, i));
      parts.push(next - 0x30);
      literalStart = i + 2;
      i++;
    }
  }
  if (literalStart < output.length) parts.push(output.slice(literalStart));
  return parts;
}

/** Number of capturing groups: an alternation with the empty string always matches. */
function groupCount(regex: RegExp): number {
  const probe = new RegExp(regex.source + '|', regex.flags);
  return (probe.exec('') as RegExpExecArray).length - 1;
}

interface CompiledRule {
  readonly source: TranslationRuleSource;
  readonly regex: RegExp;
  readonly template: readonly TemplatePart[];
  readonly literalOutput: string | undefined;
  readonly mode: CallMode | undefined;
}

export interface CompiledTranslation {
  readonly rules: TranslationRules;
  readonly problems: readonly TranslationProblem[];
}

export class TranslationRules {
  private constructor(private readonly compiled: readonly CompiledRule[]) {}

  static readonly empty = new TranslationRules([]);

  /** Compiles every rule; a rule whose pattern does not compile is left out and reported as an error. */
  static compile(sources: readonly TranslationRuleSource[]): CompiledTranslation {
    const problems: TranslationProblem[] = [];
    const compiled: CompiledRule[] = [];
    for (const source of sources) {
      const at = { file: source.file, line: source.line, setting: 'TranslationPattern' };
      const result = compilePattern(source.pattern);
      if (!result.ok) {
        problems.push({ severity: 'error', ...at, message: result.message });
        continue;
      }
      const { regex, withoutUnicodeFlag } = result.pattern;
      if (withoutUnicodeFlag) {
        problems.push({ severity: 'warning', ...at, message: unicodeFallbackMessage(source.pattern) });
      }
      const template = compileTemplate(source.output);
      const groups = groupCount(regex);
      const missing = [...new Set(template.filter((p): p is number => typeof p === 'number' && p > groups))];
      if (missing.length > 0) {
        problems.push({
          severity: 'warning', ...at, line: source.outputLine ?? source.line, setting: 'TranslationOutput',
          message: `"${source.output}" uses ${missing.map((n) => '$' + n).join(', ')} but the pattern has ${groups} group(s): it becomes empty`,
        });
      }
      const literalOutput = template.every((p) => typeof p === 'string') ? source.output : undefined;
      compiled.push({ source, regex, template, literalOutput, mode: source.mode });
    }
    return { rules: new TranslationRules(compiled), problems };
  }

  get size(): number {
    return this.compiled.length;
  }

  /** The rules as written, in order (for logs and the status page). */
  get sources(): readonly TranslationRuleSource[] {
    return this.compiled.map((r) => r.source);
  }

  /** The first rule whose pattern is found in the address decides; undefined when none matches. */
  translate(address: string): Translation | undefined {
    for (const rule of this.compiled) {
      const match = rule.regex.exec(address);
      if (match === null) continue;
      let uri = rule.literalOutput;
      if (uri === undefined) {
        uri = '';
        for (const part of rule.template) uri += typeof part === 'string' ? part : (match[part] ?? '');
      }
      return rule.mode === undefined ? { uri } : { uri, mode: rule.mode };
    }
    return undefined;
  }
}

export function unicodeFallbackMessage(pattern: string): string {
  return `"${pattern}" is not valid with the u flag (an escape PCRE allows, such as \\-): compiled without it`;
}
