/**
 * The CSV export of call records (`GET /v1/records.csv`): RFC 4180 — CRLF line ends, a header
 * line, a field quoted when it holds a comma, a double quote, CR or LF, and a double quote inside
 * a quoted field doubled. Times are ISO 8601 UTC; an absent value is an empty field.
 */
import type { CallRecord } from './record.js';

type Column = [name: string, value: (r: CallRecord) => string | number | undefined];

const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

const COLUMNS: readonly Column[] = [
  ['id', (r) => r.id],
  ['created_at', (r) => iso(r.createdAt)],
  ['state', (r) => r.state],
  ['mode', (r) => r.mode],
  ['trigger', (r) => r.trigger],
  ['client_address', (r) => r.client?.address],
  ['client_key', (r) => r.client?.key],
  ['raw_initiator', (r) => r.rawInitiator],
  ['raw_destination', (r) => r.rawDestination],
  ['initiator', (r) => r.initiator],
  ['destination', (r) => r.destination],
  ['initiator_ringing_at', (r) => iso(r.legs.initiator.ringingAt)],
  ['initiator_answered_at', (r) => iso(r.legs.initiator.answeredAt)],
  ['initiator_ended_at', (r) => iso(r.legs.initiator.endedAt)],
  ['destination_ringing_at', (r) => iso(r.legs.destination.ringingAt)],
  ['destination_answered_at', (r) => iso(r.legs.destination.answeredAt)],
  ['destination_ended_at', (r) => iso(r.legs.destination.endedAt)],
  ['fallback_at', (r) => iso(r.fallbackAt)],
  ['ended_at', (r) => iso(r.endedAt)],
  ['final_code', (r) => r.finalCode],
  ['final_text', (r) => r.finalText],
  ['reason', (r) => r.reason],
  ['transfers', (r) => r.transfers.length],
  ['last_transfer_target', (r) => r.transfers[r.transfers.length - 1]?.target],
  ['last_transfer_outcome', (r) => r.transfers[r.transfers.length - 1]?.outcome],
];

export const CSV_HEADER = COLUMNS.map(([name]) => name).join(',') + '\r\n';

/** RFC 4180 §2 (6, 7): quote a field holding CR, LF, `"` or `,`; double the quotes inside. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const s = typeof value === 'number' ? String(value) : value;
  if (!/[",\r\n]/.test(s)) return s;
  return '"' + s.replace(/"/g, '""') + '"';
}

export function csvLine(record: CallRecord): string {
  let line = '';
  for (let i = 0; i < COLUMNS.length; i++) {
    if (i > 0) line += ',';
    line += csvField(COLUMNS[i]![1](record));
  }
  return line + '\r\n';
}
