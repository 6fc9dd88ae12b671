// The process logger: pino, at the level LogLevel names, to the console and to LogFilename.
import type { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';
import { toPinoLevel } from './levels.js';
import { BufferedConsole } from './buffered-console.js';
import { createPrettyStream } from './pretty.js';
import { redactSecrets } from './redact.js';
import { RotatingFileDestination } from './rotating-file.js';

export interface CreateLoggerOptions {
  /** LogLevel. */
  level: LogLevel;
  /** LogFilename: JSON lines go there too (not opened when the level is NONE). */
  file?: string;
  /** LogFileMaxLines (0 or absent: never start a new file). */
  maxLines?: number;
  /** Old log files kept as `<file>.1` … (default 5). */
  keepFiles?: number;
  /** Human-readable console lines instead of JSON (default: whether the console is a terminal). */
  pretty?: boolean;
  /** The console (default process.stdout); tests pass their own stream. */
  destination?: Writable | NodeJS.WritableStream;
  /** false: nothing on the console, only the file (default true). */
  console?: boolean;
  /** Where a log file problem is reported (default: stderr). */
  report?: (text: string) => void;
}

export interface LogHandle {
  /** Child loggers name their part: `logger.child({ component: 'sip' })`. */
  logger: Logger;
  /** Writes what is gathered and closes the file; the console is left open. */
  close(): Promise<void>;
  /**
   * Writes the console's gathered lines now (before a line written to stdout directly, such as
   * the ready line, which must come after what was logged before it).
   */
  flushConsole(): void;
  /** Log lines dropped so far because the file or the console reader fell too far behind (metrics). */
  droppedLines(): { file: number; console: number };
}

const NOWHERE: DestinationStream = { write(): void {} };

function consoleStream(opts: CreateLoggerOptions): DestinationStream | undefined {
  if (opts.console === false) return undefined;
  const out = opts.destination ?? process.stdout;
  const pretty = opts.pretty ?? (out as { isTTY?: boolean }).isTTY === true;
  if (pretty) return createPrettyStream(out);
  // JSON lines to the process's own stdout (a pipe, journald, a file): buffered, see buffered-console.ts.
  if (out === process.stdout) return new BufferedConsole();
  return { write: (line: string) => void out.write(line) };
}

export function createLogger(opts: CreateLoggerOptions): LogHandle {
  const level = toPinoLevel(opts.level);
  const streams: DestinationStream[] = [];
  const shown = consoleStream(opts);
  if (shown !== undefined) streams.push(shown);
  const bufferedConsole = shown instanceof BufferedConsole ? shown : undefined;
  let file: RotatingFileDestination | undefined;
  if (opts.file !== undefined && opts.file !== '' && level !== 'silent') {
    file = new RotatingFileDestination({ file: opts.file, maxLines: opts.maxLines ?? 0, keep: opts.keepFiles, report: opts.report });
    streams.push(file);
  }
  // The logger's own level filters; every stream takes whatever passes it.
  const destination =
    streams.length === 0 ? NOWHERE
    : streams.length === 1 ? streams[0]!
    : pino.multistream(streams.map((stream) => ({ stream, level: 'trace' as const })));
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      formatters: { log: redactSecrets },
    },
    destination,
  );
  return {
    logger,
    flushConsole: () => bufferedConsole?.flushSync(),
    droppedLines: () => ({ file: file?.droppedLines ?? 0, console: bufferedConsole?.droppedLines ?? 0 }),
    close: () => {
      bufferedConsole?.close();
      return file?.close() ?? Promise.resolve();
    },
  };
}
