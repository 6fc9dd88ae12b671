// Errors and warnings found in the configuration: collected, never thrown, each naming where.

export interface Origin {
  /** The file name as the user gave it, or `command line`. */
  readonly file: string;
  readonly line?: number;
  /** On the command line: the option as typed (`-httpport`). */
  readonly option?: string;
}

export interface ConfigProblem {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly line?: number;
  readonly option?: string;
  /** Canonical setting name, when one is concerned. */
  readonly setting?: string;
  readonly message: string;
  /** One line for the operator: `clicktocall.config:12: HttpPort: "abc" is not a port number (0-65535)`. */
  readonly text: string;
}

export const COMMAND_LINE = 'command line';

export function problem(
  severity: 'error' | 'warning',
  origin: Origin,
  setting: string | undefined,
  message: string,
): ConfigProblem {
  const where = origin.line !== undefined ? `${origin.file}:${origin.line}` : origin.file;
  const what = setting === undefined ? '' : origin.option !== undefined ? `${setting} (${origin.option}): ` : `${setting}: `;
  const text = `${where}: ${what}${message}`;
  const p: { -readonly [K in keyof ConfigProblem]: ConfigProblem[K] } = { severity, file: origin.file, message, text };
  if (origin.line !== undefined) p.line = origin.line;
  if (origin.option !== undefined) p.option = origin.option;
  if (setting !== undefined) p.setting = setting;
  return p;
}
