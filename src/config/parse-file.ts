// The configuration file syntax of reSIProcate's clicktocall, done carefully:
//   Name = Value        names case-insensitive; the value is literal to the end of the line,
//                       trimmed, CR stripped, quotes kept (decisions.md §5)
//   # comment           only when `#` is the first non-blank character (as the replaced system);
//                       a `#` later on the line belongs to the value (patterns and URIs use it)
//   a list              the same name repeated; TranslationPattern / TranslationOutput /
//                       TranslationMode are ordered groups
// Unknown names are warnings; everything wrong is collected, with file and line.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgv, type ArgvCommand } from './argv.js';
import { buildConfig, type SettingEntry } from './build.js';
import type { Config } from './config.js';
import { problem, type ConfigProblem } from './problems.js';
import { findSetting } from './settings.js';
import { validateConfig } from './validate.js';

export const DEFAULT_CONFIG_FILE = 'clicktocall.config';

export interface ParseResult {
  readonly config: Config;
  readonly warnings: readonly ConfigProblem[];
  readonly errors: readonly ConfigProblem[];
}

export interface ParseOptions {
  /** Default of TLSDomainName; os.hostname() when not given. */
  readonly hostName?: string;
}

/** Splits the text into `Name = Value` entries; malformed lines become errors. */
export function tokenizeConfigText(text: string, fileName: string): { entries: SettingEntry[]; problems: ConfigProblem[] } {
  const entries: SettingEntry[] = [];
  const problems: ConfigProblem[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim(); // also drops the CR of a CRLF file
    if (line === '' || line.startsWith('#')) continue;
    const origin = { file: fileName, line: index + 1 };
    // The name ends at `=` or a blank, as in the replaced system.
    const nameEnd = line.search(/[=\s]/);
    const equals = line.indexOf('=');
    if (nameEnd <= 0 || equals < 0) {
      problems.push(problem('error', origin, undefined, `expected "Name = Value", found "${line.length > 60 ? line.slice(0, 60) + '…' : line}"`));
      continue;
    }
    const name = line.slice(0, nameEnd);
    if (line.slice(nameEnd, equals).trim() !== '') {
      problems.push(problem('error', origin, undefined, `expected "Name = Value": "${line.slice(0, equals).trim()}" is not one name`));
      continue;
    }
    entries.push({ name, value: line.slice(equals + 1).trim(), origin });
  }
  return { entries, problems };
}

function split(problems: readonly ConfigProblem[]): { warnings: ConfigProblem[]; errors: ConfigProblem[] } {
  return {
    warnings: problems.filter((p) => p.severity === 'warning'),
    errors: problems.filter((p) => p.severity === 'error'),
  };
}

function build(entries: readonly SettingEntry[], early: readonly ConfigProblem[], fileName: string, hostName: string): ParseResult {
  const { config, problems } = buildConfig(entries, { hostName });
  const all = [...early, ...problems];
  // Cross-setting checks only make sense on a config whose single settings are right.
  if (!all.some((p) => p.severity === 'error')) all.push(...validateConfig(config, fileName));
  return { config, ...split(all) };
}

/** Parses a whole configuration file. Pure: no file system, no clock. */
export function parseConfigText(text: string, fileName: string, options: ParseOptions = {}): ParseResult {
  const { entries, problems } = tokenizeConfigText(text, fileName);
  return build(entries, problems, fileName, options.hostName ?? hostname());
}

/**
 * Command-line settings override the file's: for a setting given on the command line, the
 * file's lines of it are dropped (for a list, the command line's occurrences form the whole list;
 * the three translation settings count as one).
 */
export function mergeEntries(fileEntries: readonly SettingEntry[], argvEntries: readonly SettingEntry[]): SettingEntry[] {
  const keyOf = (e: SettingEntry) => findSetting(e.name)?.key;
  const overridden = new Set(argvEntries.map(keyOf));
  return [...fileEntries.filter((e) => { const k = keyOf(e); return k === undefined || !overridden.has(k); }), ...argvEntries];
}

export interface LoadOptions {
  /** Arguments after the program name. */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Reads a whole file as UTF-8; throws (with `code: 'ENOENT'` when missing) like fs.readFileSync. */
  readonly readFile: (path: string) => string;
  readonly hostName?: string;
}

export type LoadResult =
  | { readonly kind: 'command'; readonly command: Exclude<ArgvCommand, { action: 'run' }> }
  | (ParseResult & {
      readonly kind: 'config';
      /** The file read (as named), or undefined when the built-in defaults are used. */
      readonly fileName: string | undefined;
      /** Lines for the start-up log, e.g. that no file was found. */
      readonly notices: readonly string[];
    });

function isMissingFile(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

/**
 * Reads `./clicktocall.config` (or `--config FILE`) and applies the command line over it
 * (decisions.md §8). Neither file nor option: the built-in defaults, and a notice saying so.
 */
export function loadConfig(options: LoadOptions): LoadResult {
  const command = parseArgv(options.argv);
  if (command.action !== 'run') return { kind: 'command', command };
  const hostName = options.hostName ?? hostname();
  const explicit = command.configFile !== undefined;
  const fileName = command.configFile ?? DEFAULT_CONFIG_FILE;
  const path = resolve(options.cwd, fileName);
  const notices: string[] = [];
  let text: string | undefined;
  const early: ConfigProblem[] = [...command.warnings];
  try {
    text = options.readFile(path);
  } catch (e) {
    if (!explicit && isMissingFile(e)) {
      notices.push(`no ${DEFAULT_CONFIG_FILE} in ${options.cwd} and no --config: using the built-in defaults`);
    } else {
      const reason = isMissingFile(e) ? 'no such file' : e instanceof Error ? e.message : String(e);
      early.push(problem('error', { file: fileName }, undefined, `cannot read the config file: ${reason}`));
    }
  }
  let fileEntries: SettingEntry[] = [];
  if (text !== undefined) {
    const tokens = tokenizeConfigText(text, fileName);
    fileEntries = tokens.entries;
    early.push(...tokens.problems);
  }
  const result = build(mergeEntries(fileEntries, command.entries), early, fileName, hostName);
  return { kind: 'config', ...result, fileName: text === undefined ? undefined : fileName, notices };
}
