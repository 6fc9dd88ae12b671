// Turns the ordered `Name = Value` entries (from the file, then the command line) into a typed
// Config, collecting every error and warning instead of stopping at the first.
import { TranslationRules, type CallMode, type TranslationRuleSource } from '../call/translate.js';
import type { Config, ConfigKey } from './config.js';
import { problem, type ConfigProblem, type Origin } from './problems.js';
import { defaultConfig, findSetting, type SettingDef } from './settings.js';
import { convertValue } from './values.js';

export interface SettingEntry {
  /** The name as written (any case, or an alias). */
  readonly name: string;
  /** The value as written, trimmed. */
  readonly value: string;
  readonly origin: Origin;
}

export interface BuildOptions {
  /** Default of TLSDomainName (the replaced system uses the local host name). */
  readonly hostName: string;
}

interface PendingRule {
  pattern: string;
  output: string | undefined;
  outputLine: number | undefined;
  mode: CallMode | undefined;
  origin: Origin;
  broken: boolean;
}

function needsValue(def: SettingDef): boolean {
  return def.type.kind === 'int' || def.type.kind === 'bool' || def.type.kind === 'enum';
}

export function buildConfig(entries: readonly SettingEntry[], options: BuildOptions): { config: Config; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values: Record<string, unknown> = { ...defaultConfig(options.hostName) };
  const lists = new Map<ConfigKey, unknown[]>();
  const seen = new Map<ConfigKey, Origin>();
  const rules: PendingRule[] = [];
  let previousSetting: string | undefined;

  const error = (origin: Origin, setting: string | undefined, message: string) => problems.push(problem('error', origin, setting, message));
  const warn = (origin: Origin, setting: string | undefined, message: string) => problems.push(problem('warning', origin, setting, message));

  const translationEntry = (def: SettingDef, entry: SettingEntry): void => {
    const { value, origin } = entry;
    const pending = rules.length > 0 && rules[rules.length - 1]!.output === undefined ? rules[rules.length - 1] : undefined;
    if (def.name === 'TranslationPattern') {
      if (pending !== undefined) error(pending.origin, 'TranslationPattern', 'has no TranslationOutput after it (they come in pairs)');
      const rule: PendingRule = { pattern: value, output: undefined, outputLine: undefined, mode: undefined, origin, broken: false };
      if (value === '') {
        error(origin, def.name, 'needs a value');
        rule.broken = true;
      }
      rules.push(rule);
      return;
    }
    if (def.name === 'TranslationOutput') {
      if (pending === undefined) {
        error(origin, def.name, 'has no TranslationPattern before it (they come in pairs)');
        return;
      }
      pending.output = value;
      pending.outputLine = origin.line;
      if (value === '') {
        error(origin, def.name, 'needs a value');
        pending.broken = true;
      }
      return;
    }
    // TranslationMode: decisions.md §2, an optional line right after a TranslationOutput.
    const last = rules[rules.length - 1];
    if (previousSetting !== 'TranslationOutput' || last === undefined || last.output === undefined) {
      error(origin, def.name, 'must come right after a TranslationOutput line');
      return;
    }
    const converted = value === '' ? { ok: false as const, message: 'needs a value' } : convertValue(def, value);
    if (!converted.ok) {
      error(origin, def.name, converted.message);
      last.broken = true;
      return;
    }
    last.mode = converted.value as CallMode;
  };

  for (const entry of entries) {
    const def = findSetting(entry.name);
    if (def === undefined) {
      warn(entry.origin, undefined, `unknown setting "${entry.name}" (ignored)`);
      continue;
    }
    const { value, origin } = entry;
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      warn(origin, def.name, 'the quotes are part of the value (values are taken literally, quotes included)');
    }
    if (def.key === 'translationRules') {
      translationEntry(def, entry);
      previousSetting = def.name;
      continue;
    }
    previousSetting = def.name;
    if (value === '') {
      // A blank value means "not set" (`IPAddress =` binds all addresses), except where a value is required.
      if (def.repeats) continue;
      if (needsValue(def)) {
        error(origin, def.name, 'needs a value');
        continue;
      }
      values[def.key] = def.key === 'tlsDomainName' ? options.hostName : def.default;
      seen.set(def.key, origin);
      continue;
    }
    const converted = convertValue(def, value);
    if (!converted.ok) {
      error(origin, def.name, converted.message);
      continue;
    }
    if (converted.warning !== undefined) warn(origin, def.name, converted.warning);
    if (def.repeats) {
      const list = lists.get(def.key) ?? [];
      if (Array.isArray(converted.value)) list.push(...(converted.value as unknown[]));
      else list.push(converted.value);
      lists.set(def.key, list);
      continue;
    }
    const before = seen.get(def.key);
    if (before !== undefined && before.file === origin.file) {
      warn(origin, def.name, `already set${before.line !== undefined ? ` at line ${before.line}` : ''}; this later value wins`);
    }
    values[def.key] = converted.value;
    seen.set(def.key, origin);
  }

  const lastRule = rules[rules.length - 1];
  if (lastRule !== undefined && lastRule.output === undefined && !lastRule.broken) {
    error(lastRule.origin, 'TranslationPattern', 'has no TranslationOutput after it (they come in pairs)');
  }

  for (const [key, list] of lists) values[key] = Object.freeze(list);

  const sources: TranslationRuleSource[] = [];
  for (const r of rules) {
    if (r.broken || r.output === undefined) continue;
    const source: { -readonly [K in keyof TranslationRuleSource]: TranslationRuleSource[K] } = { pattern: r.pattern, output: r.output, file: r.origin.file };
    if (r.origin.line !== undefined) source.line = r.origin.line;
    if (r.outputLine !== undefined) source.outputLine = r.outputLine;
    if (r.mode !== undefined) source.mode = r.mode;
    sources.push(source);
  }
  const compiled = TranslationRules.compile(sources);
  for (const p of compiled.problems) {
    const origin: Origin = p.line === undefined ? { file: p.file } : { file: p.file, line: p.line };
    problems.push(problem(p.severity, origin, p.setting, p.message));
  }
  values.translationRules = compiled.rules;

  return { config: Object.freeze(values) as unknown as Config, problems };
}
