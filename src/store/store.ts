/**
 * The record store (issue 5): every call, its request, timings, outcome, transfers and events.
 * One interface with no storage engine in it; `SqliteCallStore` is the first implementation,
 * another comes later. Times are milliseconds since the epoch throughout.
 */
import type { CallEvent } from '../call/events.js';
import type { CallRequest } from '../call/request.js';
import type { CallRecord, CallState } from './record.js';

export type { CallRecord, CallState, LegTimes, TransferRecord, TransferOutcome } from './record.js';

export interface ListQuery {
  state?: CallState;
  /** createdAt >= since. */
  since?: number;
  /** createdAt < until. */
  until?: number;
  /** At most this many records (the implementation caps it at MAX_LIST_LIMIT). */
  limit: number;
  /** `nextCursor` of the previous page. An unreadable cursor throws StoreQueryError. */
  cursor?: string;
}

export interface ListPage {
  /** Newest first: by createdAt, then id, both descending. Without their events (`get` has them). */
  records: CallRecord[];
  /** Present when more records may follow. */
  nextCursor?: string;
}

export interface DateRange {
  since: number;
  until: number;
}

export const MAX_LIST_LIMIT = 1000;

/** A query the store cannot answer as asked (bad cursor, bad limit): the API answers 400. */
export class StoreQueryError extends Error {
  override readonly name = 'StoreQueryError';
}

export interface CallStore {
  /** Creates or migrates the storage; before anything else. */
  open(): void;
  /** The request was accepted (or is about to be refused): queued like `append`. */
  recordStart(request: CallRequest, at: number): void;
  /** Queued and written in a later batch: never blocks the call path. */
  append(event: CallEvent): void;
  /**
   * For final and `completed` events: this event and everything queued before it for its call
   * are written and committed before it returns (or its promise resolves); other calls' queued
   * operations may wait for their batch. Throws if they could not be; the event stays queued
   * for the next attempt.
   */
  appendDurable(event: CallEvent): void | Promise<void>;
  /** Writes what is queued first, so a read sees every event appended before it. */
  get(callId: string): CallRecord | undefined;
  list(query: ListQuery): ListPage;
  /**
   * RFC 4180 CSV of the calls created in [since, until), oldest first: a header line, then one
   * line per call. Each `line` passed to `write` ends with CRLF.
   */
  exportCsv(range: DateRange, write: (line: string) => void): void;
  /** At start-up: every call without an end becomes `interrupted`, ended at `at`; returns how many. */
  markInterrupted(at: number): number;
  /**
   * Deletes the calls created before `cutoff` and their events, at most `max` of them (all when
   * absent), so a large purge can be done in slices. Returns how many calls were deleted.
   */
  deleteOlderThan(cutoff: number, max?: number): number;
  /** Writes what is queued now. */
  flush(): void;
  /** Flushes, then releases the storage; the store is unusable afterwards. */
  close(): void;
}
