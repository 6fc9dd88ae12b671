// The legacy command line (compatibility.md, decisions.md §8): one dash and several letters
// (`-ci`, `-xmlrpcport 6094`), which commander and util.parseArgs cannot express. A pure function:
// it returns what to do and never exits.
import type { SettingEntry } from './build.js';
import { COMMAND_LINE, problem, type ConfigProblem } from './problems.js';
import { findSetting, SETTINGS } from './settings.js';

/** The replaced system's words for any command line it does not understand (exit status 255). */
export const INVALID_COMMAND_LINE = 'Invalid command line parameters!';
export const INVALID_COMMAND_LINE_STATUS = 255;

/** The replaced system's short options. */
const SHORT_OPTIONS: Readonly<Record<string, string>> = {
  a: 'IPAddress',
  d: 'DNSServers',
  ci: 'ClickToCallIdentity',
  sp: 'UDPTCPPort',
  tp: 'TLSPort',
  td: 'TLSDomainName',
  op: 'OutboundProxy',
  l: 'LogLevel',
};

const HELP_OPTIONS = new Set(['--help', '-h', '-?', '--?', '/?']);

export type ArgvCommand =
  | {
      readonly action: 'run';
      /** `--config FILE`, when given. */
      readonly configFile?: string;
      /** Settings given on the command line, in order; they override the file. */
      readonly entries: readonly SettingEntry[];
      readonly warnings: readonly ConfigProblem[];
    }
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'hash-key'; readonly args: readonly string[] }
  | {
      readonly action: 'invalid';
      readonly message: typeof INVALID_COMMAND_LINE;
      readonly exitCode: typeof INVALID_COMMAND_LINE_STATUS;
      /** What exactly was wrong, for a second line. */
      readonly detail: string;
    };

const invalid = (detail: string): ArgvCommand => ({
  action: 'invalid', message: INVALID_COMMAND_LINE, exitCode: INVALID_COMMAND_LINE_STATUS, detail,
});

/** Parses the arguments after the program name (`process.argv.slice(2)`). */
export function parseArgv(args: readonly string[]): ArgvCommand {
  if (args[0] === 'hash-key') return { action: 'hash-key', args: args.slice(1) };
  const entries: SettingEntry[] = [];
  const warnings: ConfigProblem[] = [];
  let configFile: string | undefined;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const lower = arg.toLowerCase();
    if (HELP_OPTIONS.has(lower)) return { action: 'help' };
    if (lower === '--version') return { action: 'version' };
    if (lower === '--config' || lower.startsWith('--config=')) {
      const value = lower === '--config' ? args[++i] : arg.slice('--config='.length);
      if (value === undefined || value === '') return invalid('--config needs a file name');
      configFile = value;
      continue;
    }
    if (lower === '-nk') {
      entries.push({ name: 'KeepAlives', value: 'false', origin: { file: COMMAND_LINE, option: arg } });
      continue;
    }
    if (!arg.startsWith('-') || arg.startsWith('--') || arg.length < 2) {
      return invalid(`unexpected argument "${arg}"`);
    }
    const optionName = lower.slice(1);
    const def = findSetting(SHORT_OPTIONS[optionName] ?? optionName);
    if (def === undefined) return invalid(`unknown option "${arg}"`);
    const value = args[i + 1];
    // As the replaced system: a value may not be empty or begin with a dash.
    if (value === undefined || value === '' || value.startsWith('-')) return invalid(`${arg} needs a value`);
    i++;
    const origin = { file: COMMAND_LINE, option: arg };
    entries.push({ name: def.name, value: value.trim(), origin });
    if (def.secret) {
      warnings.push(problem('warning', origin, def.name, 'a secret given on the command line shows in `ps`; put it in the config file'));
    }
  }
  return configFile === undefined ? { action: 'run', entries, warnings } : { action: 'run', configFile, entries, warnings };
}

export function usageText(program = 'clicktocall'): string {
  const lines = [
    `Usage: ${program} [--config FILE] [options]`,
    `       ${program} hash-key            print a new API key and the SHA-256 hash for ApiKey`,
    '',
    'Options:',
    '  --config FILE             read FILE instead of ./clicktocall.config',
    '  --help                    print this text',
    '  --version                 print the version',
    '  -a <IP address>           IPAddress: bind SIP transports to this address',
    '  -d <DNS servers>          DNSServers: comma separated list, overrides the system\'s',
    '  -ci <SIP URI>             ClickToCallIdentity: From of the INVITE to the initiator',
    '  -sp <port>                UDPTCPPort: SIP port for UDP and TCP',
    '  -tp <port>                TLSPort: SIP port for TLS',
    '  -td <domain>              TLSDomainName: TLS domain of this server',
    '  -nk                       no keep-alives (KeepAlives = false)',
    '  -op <SIP URI>             OutboundProxy',
    '  -l <NONE|CRIT|ERR|WARNING|INFO|DEBUG|STACK>  LogLevel',
    '  -<setting> <value>        any setting, name in lower case (e.g. -xmlrpcport 6094)',
    '',
    'Command-line values override the config file. Secrets (passwords, keys) belong in the file:',
    'on the command line they show in `ps`.',
    '',
    'Settings (see docs/configuration.md):',
    ...wrap([...new Set(SETTINGS.map((s) => s.name))].join(', '), 96).map((l) => '  ' + l),
    '',
    'Sample command line:',
    `  ${program} -a 192.168.1.100 -l DEBUG`,
  ];
  return lines.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : current + ' ' + word;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}
