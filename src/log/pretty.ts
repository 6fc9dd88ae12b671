// Human-readable lines for a terminal: `time LEVEL component: msg key=value …`.
// The record is the JSON line pino wrote, so redaction has already happened.
import type { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { legacyLevelName } from './levels.js';

/** Fields shown in the line's head, or of no use on a terminal. */
const HEAD_FIELDS = new Set(['time', 'level', 'msg', 'component', 'pid', 'hostname']);
const LEVEL_WIDTH = 7; // "WARNING"
const BLOCK_INDENT = '    ';
// C0 controls except tab and newline, DEL and C1: a terminal would act on them.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
const BARE_VALUE = /^[^\s"=\\]+$/;

function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Local wall-clock time, `HH:MM:SS.mmm`. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return BARE_VALUE.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

function isErrorLike(value: unknown): value is { message: string; stack?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** Multi-line text (SIP messages, stacks) shown below the line, indented. */
function block(title: string | undefined, text: string): string {
  let out = title === undefined ? '' : `${BLOCK_INDENT}${title}:\n`;
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.replace('\r', '') === '') lines.pop();
  for (const line of lines) {
    out += BLOCK_INDENT + (title === undefined ? '' : '  ') + line.replace(/\r$/, '') + '\n';
  }
  return out;
}

/** One parsed pino record as terminal text, ending in a newline. */
export function formatPrettyLine(record: Readonly<Record<string, unknown>>): string {
  const time = typeof record.time === 'number' ? formatClock(record.time) : String(record.time ?? '');
  const level = typeof record.level === 'number' ? legacyLevelName(record.level) : String(record.level ?? '');
  let head = `${time} ${level.padEnd(LEVEL_WIDTH)} `;
  if (typeof record.component === 'string') head += `${record.component}: `;
  if (typeof record.msg === 'string') head += record.msg;
  let below = '';
  for (const key of Object.keys(record)) {
    if (HEAD_FIELDS.has(key)) continue;
    const value = record[key];
    if (typeof value === 'string' && value.includes('\n')) {
      below += block(key, value);
    } else if (isErrorLike(value)) {
      head += ` ${key}=${formatValue(value.message)}`;
      if (typeof value.stack === 'string') below += block(undefined, value.stack);
    } else {
      head += ` ${key}=${formatValue(value)}`;
    }
  }
  return escapeControls(head) + '\n' + escapeControls(below);
}

/** A pino destination that writes each line to `out` in the human-readable form. */
export function createPrettyStream(out: Writable | NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string): void {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        out.write(line); // not pino's JSON: show it as it is
        return;
      }
      out.write(typeof record === 'object' && record !== null ? formatPrettyLine(record as Record<string, unknown>) : line);
    },
  };
}
