// The replaced system's LogLevel values mapped onto pino's levels, and back for display.
import type { LevelWithSilent } from 'pino';
import type { LogLevel } from '../config/config.js';

/** LogLevel values from least to most verbose, as the manual lists them. */
export const LOG_LEVELS: readonly LogLevel[] = ['NONE', 'CRIT', 'ERR', 'WARNING', 'INFO', 'DEBUG', 'STACK'];

const TO_PINO: Readonly<Record<LogLevel, LevelWithSilent>> = {
  NONE: 'silent',
  CRIT: 'fatal',
  ERR: 'error',
  WARNING: 'warn',
  INFO: 'info',
  DEBUG: 'debug',
  // STACK: every SIP message in and out is logged, at trace (see sip-trace.ts).
  STACK: 'trace',
};

/** pino's numeric levels (pino.levels.values) under the legacy names, for human-readable lines. */
const LEGACY_NAME_BY_NUMBER: ReadonlyMap<number, string> = new Map([
  [60, 'CRIT'],
  [50, 'ERR'],
  [40, 'WARNING'],
  [30, 'INFO'],
  [20, 'DEBUG'],
  [10, 'STACK'],
]);

export function toPinoLevel(level: LogLevel): LevelWithSilent {
  return TO_PINO[level];
}

/** The LogLevel a text names (any case), or undefined when it is none of the seven. */
export function parseLogLevel(text: string): LogLevel | undefined {
  const upper = text.trim().toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(upper) ? (upper as LogLevel) : undefined;
}

/** Legacy name of a pino numeric level ("WARNING" for 40); unknown numbers print as "L<n>". */
export function legacyLevelName(pinoLevel: number): string {
  return LEGACY_NAME_BY_NUMBER.get(pinoLevel) ?? `L${pinoLevel}`;
}
