/**
 * What the record store keeps of one call (issue 5), and how it is derived: a CallRecord starts
 * from the CallRequest (or, if the store never saw the request, from the first event) and every
 * CallEvent folds into it. Pure functions with no storage in them, so that every CallStore
 * implementation derives states and timings the same way.
 */
import type { CallEvent, LegName } from '../call/events.js';
import type { CallMode, CallRequest, TriggerName } from '../call/request.js';

/**
 * - `in-progress`: started, no final event yet;
 * - `connected`: both parties talk (an anchored call still up, or a REFER call between its
 *   `connected` and `completed`);
 * - `completed`: connected, then ended (`reason` says how: `referred`, `hangup`, `ended`…);
 * - `failed`, `refused`: the final event said so (`finalCode`, `reason`);
 * - `interrupted`: the server stopped while the call was in progress or connected
 *   (`endedAt` = the time the restarted server noticed).
 */
export type CallState = 'in-progress' | 'connected' | 'completed' | 'failed' | 'refused' | 'interrupted';

export const CALL_STATES: readonly CallState[] = ['in-progress', 'connected', 'completed', 'failed', 'refused', 'interrupted'];

/** Milliseconds since the epoch at which one leg (our dialog with that phone) rang, answered, ended. */
export interface LegTimes {
  ringingAt?: number;
  answeredAt?: number;
  endedAt?: number;
}

export type TransferOutcome = 'requested' | 'ringing' | 'connected' | 'failed' | 'recovered';

export interface TransferRecord {
  requestedAt: number;
  /** The leg whose phone asked for the transfer (the transferor). */
  by: LegName | undefined;
  /** The Refer-To target, when the event names it. */
  target?: string;
  /** The TransferPolicy in force (`handle`, `passthrough`, `reject`). */
  policy?: string;
  outcome: TransferOutcome;
  /** Of the latest transfer event: its code, text and reason. */
  code: number;
  text: string;
  reason?: string;
  endedAt?: number;
}

export interface CallRecord {
  id: string;
  state: CallState;
  /** When the request was accepted (recordStart), else the time of the first event seen. */
  createdAt: number;
  /**
   * From the CallRequest: absent when the store saw only the call's events (a request that
   * never reached `recordStart`).
   */
  mode?: CallMode;
  trigger?: TriggerName;
  client?: { address: string; port: number; key?: string };
  rawInitiator?: string;
  rawDestination?: string;
  /** Options as requested (timeouts, callerId, metadata). */
  options?: Record<string, unknown>;
  /** Translated URIs. */
  initiator: string;
  destination: string;
  legs: { initiator: LegTimes; destination: LegTimes };
  /** When a REFER call fell back to anchoring (decisions.md §6). */
  fallbackAt?: number;
  /** When the call ended for the server (failed, refused, completed, interrupted). */
  endedAt?: number;
  /** Of the final event (connected, failed, refused). */
  finalCode?: number;
  finalText?: string;
  /** Why it ended: the reason of the failed/refused/completed event, or `restart` (interrupted). */
  reason?: string;
  transfers: TransferRecord[];
  /** In seq order. */
  events: CallEvent[];
}

export function recordFromRequest(request: CallRequest, at: number): CallRecord {
  const record: CallRecord = {
    id: request.id, state: 'in-progress', createdAt: at,
    initiator: request.initiator, destination: request.destination,
    legs: { initiator: {}, destination: {} }, transfers: [], events: [],
  };
  applyRequest(record, request);
  return record;
}

/** A record for a call whose request the store never saw (e.g. a refusal published before recordStart). */
export function recordFromEvent(event: CallEvent): CallRecord {
  return {
    id: event.callId, state: 'in-progress', createdAt: event.time,
    initiator: event.translatedInitiator ?? '', destination: event.translatedDestination ?? '',
    legs: { initiator: {}, destination: {} }, transfers: [], events: [],
  };
}

/** Fills in what only the request knows; the state and timings already derived are kept. */
export function applyRequest(record: CallRecord, request: CallRequest): void {
  record.mode = request.mode;
  record.trigger = request.client.trigger;
  record.client = { address: request.client.address, port: request.client.port };
  if (request.client.key !== undefined) record.client.key = request.client.key;
  record.rawInitiator = request.rawInitiator;
  record.rawDestination = request.rawDestination;
  record.options = { ...request.options };
  record.initiator = request.initiator;
  record.destination = request.destination;
}

const TRANSFER_TARGET = /^Transfer to (.+) requested by /;

/**
 * Folds one event into the record. Idempotent: an event whose seq the record already holds is
 * ignored (false), so that a batch re-applied after a failed write does not count twice.
 */
export function applyEvent(record: CallRecord, event: CallEvent): boolean {
  const events = record.events;
  // Events arrive in seq order; a search from the end finds a duplicate at once.
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.seq === event.seq) return false;
  let at = events.length;
  while (at > 0 && events[at - 1]!.seq > event.seq) at--;
  events.splice(at, 0, event);

  const t = event.time;
  if (event.translatedInitiator && !record.initiator) record.initiator = event.translatedInitiator;
  if (event.translatedDestination && !record.destination) record.destination = event.translatedDestination;
  switch (event.kind) {
    case 'initiated':
      break;
    case 'ringing':
      if (event.leg) record.legs[event.leg].ringingAt ??= t;
      break;
    case 'answered':
      if (event.leg) record.legs[event.leg].answeredAt ??= t;
      break;
    case 'fallback':
      record.fallbackAt ??= t;
      break;
    case 'connected':
      record.legs.destination.answeredAt ??= t;
      setFinal(record, event);
      if (record.state === 'in-progress') record.state = 'connected';
      break;
    case 'failed':
      setFinal(record, event);
      record.reason = event.reason;
      if (event.leg) record.legs[event.leg].endedAt ??= t;
      end(record, 'failed', t);
      break;
    case 'refused':
      setFinal(record, event);
      record.reason = event.reason;
      end(record, 'refused', t);
      break;
    case 'completed':
      record.reason = event.reason;
      end(record, 'completed', t);
      break;
    case 'transfer-requested': {
      const target = (event as { target?: unknown }).target;
      const m = typeof target === 'string' ? undefined : TRANSFER_TARGET.exec(event.text);
      const transfer: TransferRecord = {
        requestedAt: t, by: event.leg, outcome: 'requested', code: event.code, text: event.text,
      };
      const named = typeof target === 'string' ? target : m?.[1];
      if (named !== undefined) transfer.target = named;
      if (event.reason !== undefined) transfer.policy = event.reason;
      record.transfers.push(transfer);
      break;
    }
    case 'transfer-ringing':
    case 'transfer-connected':
    case 'transfer-failed':
    case 'transfer-recovered': {
      let transfer = record.transfers[record.transfers.length - 1];
      if (!transfer) {
        // The request event was lost or came from elsewhere: keep the outcome anyway.
        transfer = { requestedAt: t, by: event.leg, outcome: 'requested', code: event.code, text: event.text };
        record.transfers.push(transfer);
      }
      transfer.outcome = event.kind.slice('transfer-'.length) as TransferOutcome;
      transfer.code = event.code;
      transfer.text = event.text;
      if (event.reason !== undefined) transfer.reason = event.reason;
      if (event.kind !== 'transfer-ringing') transfer.endedAt ??= t;
      break;
    }
  }
  return true;
}

function setFinal(record: CallRecord, event: CallEvent): void {
  // The first final event wins (the engine sends one; a replayed one must not overwrite it).
  if (record.finalCode !== undefined) return;
  record.finalCode = event.code;
  record.finalText = event.text;
}

/** The call is over for the server: every leg that was up ends now. */
function end(record: CallRecord, state: CallState, t: number): void {
  record.state = state;
  record.endedAt ??= t;
  for (const leg of [record.legs.initiator, record.legs.destination]) {
    if (leg.answeredAt !== undefined) leg.endedAt ??= t;
  }
}

/** True once nothing more is expected: the record may leave any cache of live calls. */
export function isEnded(record: CallRecord): boolean {
  return record.state !== 'in-progress' && record.state !== 'connected';
}
