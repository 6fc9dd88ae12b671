/**
 * The call resource of `/v1/calls`: a CallRecord (store/record.ts) as JSON, with the live phase
 * when the engine still runs the call and what the REST layer alone knows (statusCallback).
 * Times are milliseconds since the epoch, like the events' `time`.
 */
import type { CallRecord } from '../../store/record.js';
import type { CallExtras } from './event-log.js';

export type CallResource = Record<string, unknown> & { id: string; state: string };

export function callResource(record: CallRecord, opts: { phase?: string; extras?: CallExtras; withEvents: boolean }): CallResource {
  const out: CallResource = { id: record.id, state: record.state };
  if (opts.phase !== undefined) out.phase = opts.phase;
  if (record.mode !== undefined) out.mode = record.mode;
  if (record.trigger !== undefined) out.trigger = record.trigger;
  out.initiator = record.initiator;
  out.destination = record.destination;
  if (record.rawInitiator !== undefined) out.rawInitiator = record.rawInitiator;
  if (record.rawDestination !== undefined) out.rawDestination = record.rawDestination;
  out.createdAt = record.createdAt;
  if (record.endedAt !== undefined) out.endedAt = record.endedAt;
  out.legs = record.legs;
  if (record.fallbackAt !== undefined) out.fallbackAt = record.fallbackAt;
  if (record.finalCode !== undefined) out.finalCode = record.finalCode;
  if (record.finalText !== undefined) out.finalText = record.finalText;
  if (record.reason !== undefined) out.reason = record.reason;
  out.transfers = record.transfers;
  const metadata = record.options?.metadata;
  if (metadata !== undefined && metadata !== null) out.metadata = metadata;
  if (opts.extras?.statusCallback !== undefined) out.statusCallback = opts.extras.statusCallback;
  if (opts.extras?.statusCallbackEvents !== undefined) out.statusCallbackEvents = opts.extras.statusCallbackEvents;
  if (opts.withEvents) out.events = record.events;
  return out;
}

/** Cursor of the in-memory list: the last record's (createdAt, id), base64url JSON. */
export function encodeCursor(record: Pick<CallRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && typeof v[1] === 'string') return { createdAt: v[0] as number, id: v[1] };
  } catch {
    // fall through: unreadable
  }
  return undefined;
}

/** `since=`: RFC 3339 date-time or milliseconds since the epoch; undefined when neither. */
export function parseSince(text: string): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
