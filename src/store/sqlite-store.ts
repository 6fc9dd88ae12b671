/**
 * The CallStore on SQLite (better-sqlite3), the default (`DatabaseFile`, decisions.md §2).
 * WAL with `synchronous = NORMAL`: a commit is durable against a crash of the process (not of
 * the machine) and costs a few µs, so final events are committed before they are published
 * (decisions.md §7), while other events wait in a queue written in one transaction every
 * `batchMs` or `batchSize` events, from a timer: never from the call path itself. A durable
 * commit writes only the calls with a durable event waiting (each with all of its queued
 * operations, in order); the other calls' operations wait for the batch, so that a short call
 * is written once or twice, not at every commit that happens to fall within its life.
 *
 * Each call is one row of `calls`: the derived record (for queries and CSV) and its events, as
 * newline-delimited JSON in the `events` column (one event a line: JSON.stringify never writes
 * a raw newline). Records of live calls are kept in memory between batches, so writing a batch
 * is one statement per touched call, which appends the batch's events of that call
 * (`events = events || ?`); the database stays the truth (a cache entry is dropped when a write
 * fails and reloaded from its row when needed). Listing and CSV export never read `events`.
 *
 * The connection never checkpoints the WAL itself: a worker thread does (checkpointer.ts), so a
 * commit never pays for copying the WAL into the database and fsyncing it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CallEvent } from '../call/events.js';
import type { CallMode, CallRequest, TriggerName } from '../call/request.js';
import type { TimerHandle, TimerHost } from '../sip/timer.js';
import { WalCheckpointer, type CheckpointResult } from './checkpointer.js';
import { csvLine, CSV_HEADER } from './csv.js';
import {
  applyEvent, applyRequest, CALL_STATES, isEnded, recordFromEvent, recordFromRequest,
  type CallRecord, type CallState, type TransferRecord,
} from './record.js';
import {
  MAX_LIST_LIMIT, StoreQueryError,
  type CallStore, type DateRange, type ListPage, type ListQuery,
} from './store.js';

export interface SqliteStoreOptions {
  /** The database file (`DatabaseFile`); its directory is created if missing. `:memory:` for tests. */
  path: string;
  timers: TimerHost;
  /**
   * A queued event waits at most this long before its batch is written. Default 200: most calls
   * of a loaded server end (and are written by their durable commit) within it, so a batch
   * rarely writes a call's row only for it to be written again a few ms later; a crash loses at
   * most this much of the non-final events (finals are durable).
   */
  batchMs?: number;
  /** A batch is written as soon as this many operations are queued (from a 0 ms timer). */
  batchSize?: number;
  /** While writes fail, at most this many operations stay queued; the oldest calls' are dropped (and reported). */
  maxQueued?: number;
  /**
   * Live-call records kept in memory; beyond, the oldest are dropped (they reload from the rows
   * at their next event). Default 10,000: the oldest live calls are held ones with no event for
   * a long time, and 100,000 held calls must not keep 100,000 records (issue 6).
   */
  maxCached?: number;
  /** How long a write waits for another connection's lock before failing (SQLITE_BUSY). */
  busyTimeoutMs?: number;
  /** A write from the timer failed, or queued operations were dropped. */
  reportError(err: unknown, where: string): void;
  /**
   * Group commit: `appendDurable` returns a promise, and every durable event of one turn of the
   * event loop (all the datagrams and requests read in it) is committed in one transaction at
   * its end (setImmediate). The publisher holds the event back until then, so decisions §7
   * still holds — a final reaches nobody before it is stored — with one commit for many calls
   * rather than one each. Off: each durable event is committed before appendDurable returns.
   * Either way a durable commit writes the calls with a durable event, not the whole queue.
   */
  groupCommit?: boolean;
  /**
   * Group commit: durable commits are at least this far apart (ms). The first durable event after
   * a quiet spell is committed at the end of its turn; under load the next commit waits out the
   * rest of the spacing and takes every durable event of the turns in between with it: a commit
   * (its WAL write) costs as much as dozens of rows, so this bounds commits per second rather
   * than letting them grow with the call rate. 0: every turn commits its own.
   */
  groupCommitSpacingMs?: number;
}

type Op = { kind: 'start'; request: CallRequest; at: number } | { kind: 'event'; event: CallEvent };

const callIdOf = (op: Op): string => (op.kind === 'start' ? op.request.id : op.event.callId);

/** One row of `calls`; column names as in the schema. */
interface CallRow {
  id: string;
  created_at: number;
  state: string;
  mode: string | null;
  trigger: string | null;
  client_address: string | null;
  client_port: number | null;
  client_key: string | null;
  raw_initiator: string | null;
  raw_destination: string | null;
  initiator: string;
  destination: string;
  options: string | null;
  initiator_ringing_at: number | null;
  initiator_answered_at: number | null;
  initiator_ended_at: number | null;
  destination_ringing_at: number | null;
  destination_answered_at: number | null;
  destination_ended_at: number | null;
  fallback_at: number | null;
  ended_at: number | null;
  final_code: number | null;
  final_text: string | null;
  reason: string | null;
  transfers: string;
  /** Newline-delimited JSON; selected only when a record's events are wanted. */
  events?: string;
}

/** The columns `applyEvent` changes; the others come from the request. */
const MUTABLE_COLUMNS = [
  'state', 'initiator', 'destination',
  'initiator_ringing_at', 'initiator_answered_at', 'initiator_ended_at',
  'destination_ringing_at', 'destination_answered_at', 'destination_ended_at',
  'fallback_at', 'ended_at', 'final_code', 'final_text', 'reason', 'transfers',
] as const satisfies readonly (keyof CallRow)[];

const CALL_COLUMNS: readonly (keyof CallRow)[] = [
  'id', 'created_at', 'state', 'mode', 'trigger', 'client_address', 'client_port', 'client_key',
  'raw_initiator', 'raw_destination', 'initiator', 'destination', 'options',
  'initiator_ringing_at', 'initiator_answered_at', 'initiator_ended_at',
  'destination_ringing_at', 'destination_answered_at', 'destination_ended_at',
  'fallback_at', 'ended_at', 'final_code', 'final_text', 'reason', 'transfers',
];

/**
 * Schema versions, applied in order; `PRAGMA user_version` = how many are applied. Append only.
 * 1: `calls` and an `events` table (a row per event). 2: a call's events in its row (one row
 * write per call and commit instead of one per event), moved over in seq order.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE calls (
     id TEXT PRIMARY KEY NOT NULL,
     created_at INTEGER NOT NULL,
     state TEXT NOT NULL,
     mode TEXT, trigger TEXT, client_address TEXT, client_port INTEGER, client_key TEXT,
     raw_initiator TEXT, raw_destination TEXT,
     initiator TEXT NOT NULL, destination TEXT NOT NULL,
     options TEXT,
     initiator_ringing_at INTEGER, initiator_answered_at INTEGER, initiator_ended_at INTEGER,
     destination_ringing_at INTEGER, destination_answered_at INTEGER, destination_ended_at INTEGER,
     fallback_at INTEGER, ended_at INTEGER,
     final_code INTEGER, final_text TEXT, reason TEXT,
     transfers TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX calls_by_created ON calls (created_at, id);
   CREATE INDEX calls_by_state ON calls (state, created_at, id);
   CREATE TABLE events (
     call_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     json TEXT NOT NULL,
     PRIMARY KEY (call_id, seq)
   ) WITHOUT ROWID;`,
  `ALTER TABLE calls ADD COLUMN events TEXT NOT NULL DEFAULT '';
   UPDATE calls SET events = (SELECT group_concat(json || char(10), '' ORDER BY seq) FROM events WHERE call_id = calls.id)
     WHERE id IN (SELECT call_id FROM events);
   DROP TABLE events;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SqliteCallStore implements CallStore {
  private db: Database.Database | undefined;
  /** Queued operations by call, each call's in order; calls in the order of their first one (Map order). */
  private readonly pending = new Map<string, Op[]>();
  private queuedOps = 0;
  private timer: TimerHandle | undefined;
  private timerIsImmediate = false;
  private readonly live = new Map<string, CallRecord>();
  private readonly batchMs: number;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly maxCached: number;
  private stmts!: ReturnType<SqliteCallStore['prepareStatements']>;
  private readonly listStatements = new Map<string, Database.Statement<unknown[], CallRow>>();
  private writeBatch!: (ops: Op[]) => Set<CallRecord>;
  /** Group commit: the durable events waiting for the end of this event-loop turn, and their calls. */
  private durableWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private durableCalls = new Set<string>();
  private groupScheduled = false;
  private readonly groupSpacingMs: number;
  /** `timers.now()` at the end of the last commit (group spacing). */
  private lastCommitAt = -Infinity;
  /** A file database: the worker that checkpoints its WAL (none for `:memory:`, which has no WAL). */
  private checkpointer: WalCheckpointer | undefined;
  /** Records whose row is not in the file yet, or whose request fields changed: the full upsert. */
  private readonly fullWrite = new WeakSet<CallRecord>();
  /**
   * The state each cached record's row holds. An UPDATE that names `state` rewrites the
   * calls_by_state index entry even when the value is the same; most batches change only times.
   */
  private readonly writtenState = new WeakMap<CallRecord, string>();
  /**
   * The highest seq in each cached record's row: a committed record keeps no events (trimCache),
   * so this is what tells a replayed event from a new one (seqs of a call arrive in order).
   */
  private readonly writtenSeq = new WeakMap<CallRecord, number>();

  constructor(private readonly opts: SqliteStoreOptions) {
    this.batchMs = opts.batchMs ?? 200;
    this.batchSize = opts.batchSize ?? 500;
    this.maxQueued = opts.maxQueued ?? 100_000;
    this.maxCached = opts.maxCached ?? 10_000;
    this.groupSpacingMs = Math.max(0, opts.groupCommitSpacingMs ?? 5);
  }

  open(): void {
    if (this.db) return;
    const path = this.opts.path;
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Another process holding the write lock (a second server on the same file) must not
      // stall the event loop for long.
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.opts.busyTimeoutMs ?? 1000))}`);
      migrate(db, path);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.stmts = this.prepareStatements(db);
    this.writeBatch = db.transaction((ops: Op[]) => this.apply(ops));
    if (path !== ':memory:' && path !== '') this.startCheckpointer(db, path);
  }

  private startCheckpointer(db: Database.Database, path: string): void {
    const fallBack = () => {
      // Without the worker the WAL would grow for ever: the connection checkpoints itself again
      // (SQLite's default of 1000 pages).
      if (this.db === db) db.pragma('wal_autocheckpoint = 1000');
    };
    db.pragma('wal_autocheckpoint = 0');
    try {
      this.checkpointer = new WalCheckpointer({ path, reportError: this.opts.reportError, onFailed: fallBack });
    } catch (err) {
      this.opts.reportError(err, 'store.checkpoint');
      fallBack();
    }
  }

  /** A setting as this connection sees it (`journal_mode` is `wal`; `synchronous` 1 = NORMAL). */
  pragmaValue(name: 'journal_mode' | 'synchronous' | 'user_version' | 'wal_autocheckpoint'): string | number {
    return this.requireDb().pragma(name, { simple: true }) as string | number;
  }

  recordStart(request: CallRequest, at: number): void {
    this.enqueue({ kind: 'start', request, at });
  }

  append(event: CallEvent): void {
    this.enqueue({ kind: 'event', event });
  }

  appendDurable(event: CallEvent): void | Promise<void> {
    this.requireDb();
    this.push({ kind: 'event', event });
    if (!this.opts.groupCommit) {
      this.write([event.callId]);
      return;
    }
    this.durableCalls.add(event.callId);
    return new Promise<void>((resolve, reject) => {
      this.durableWaiters.push({ resolve, reject });
      if (!this.groupScheduled) {
        this.groupScheduled = true;
        const wait = this.lastCommitAt + this.groupSpacingMs - this.opts.timers.now();
        if (wait > 0) this.opts.timers.setTimeout(() => this.commitGroup(), wait);
        else setImmediate(() => this.commitGroup());
      }
    });
  }

  /**
   * Group commit: one transaction for the calls with a durable event (a read or the batch timer
   * may have written them meanwhile), then their promises. Other calls stay queued.
   */
  private commitGroup(): void {
    this.groupScheduled = false;
    const waiters = this.durableWaiters;
    const calls = this.durableCalls;
    this.durableWaiters = [];
    this.durableCalls = new Set();
    if (waiters.length === 0) return;
    try {
      if (this.db) this.write(calls); // closed meanwhile: close() has written them
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  flush(): void {
    this.requireDb();
    this.cancelTimer();
    this.write(undefined);
  }

  /**
   * Writes and commits the queued operations of these calls (of every call: undefined), each
   * call's all and in order; they leave the queue once committed. A call's events are never
   * split between a commit and the queue, so they reach its row in order.
   */
  private write(calls: Iterable<string> | undefined): void {
    const ids: string[] = [];
    const ops: Op[] = [];
    for (const id of calls ?? this.pending.keys()) {
      const list = this.pending.get(id);
      if (!list) continue;
      ids.push(id);
      for (const op of list) ops.push(op);
    }
    if (ops.length === 0) return;
    let touched: Set<CallRecord>;
    try {
      touched = this.writeBatch(ops);
    } catch (err) {
      // Rolled back: forget what the batch did to the cached records; the ops stay queued.
      for (const id of ids) this.live.delete(id);
      this.arm(this.batchMs); // try again later, whoever asked for this write
      throw err;
    }
    for (const id of ids) this.pending.delete(id);
    this.queuedOps -= ops.length;
    if (this.queuedOps === 0) this.cancelTimer();
    this.trimCache(touched);
    this.committed();
  }

  /** Checkpoints done by the worker so far and the last one's result; undefined without a worker (tests, metrics). */
  get checkpointStats(): { checkpoints: number; last: CheckpointResult | undefined } | undefined {
    const c = this.checkpointer;
    return c && { checkpoints: c.checkpoints, last: c.last };
  }

  get(callId: string): CallRecord | undefined {
    this.flushForRead();
    const row = this.stmts.getCall.get(callId);
    return row ? this.rowToRecord(row, true) : undefined;
  }

  list(query: ListQuery): ListPage {
    const limit = query.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new StoreQueryError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    }
    if (query.state !== undefined && !CALL_STATES.includes(query.state)) {
      throw new StoreQueryError(`unknown state "${String(query.state)}"`);
    }
    for (const t of [query.since, query.until]) {
      if (t !== undefined && !Number.isFinite(t)) throw new StoreQueryError('since and until must be times in milliseconds');
    }
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    this.flushForRead();
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (query.state !== undefined) { conditions.push('state = ?'); params.push(query.state); }
    if (query.since !== undefined) { conditions.push('created_at >= ?'); params.push(query.since); }
    if (query.until !== undefined) { conditions.push('created_at < ?'); params.push(query.until); }
    if (after) {
      conditions.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after.createdAt, after.createdAt, after.id);
    }
    params.push(limit + 1);
    const rows = this.listStatement(conditions).all(...params);
    const page: ListPage = { records: rows.slice(0, limit).map((r) => this.rowToRecord(r, false)) };
    if (rows.length > limit) {
      const last = page.records[page.records.length - 1]!;
      page.nextCursor = encodeCursor(last.createdAt, last.id);
    }
    return page;
  }

  exportCsv(range: DateRange, write: (line: string) => void): void {
    if (!Number.isFinite(range.since) || !Number.isFinite(range.until)) {
      throw new StoreQueryError('since and until must be times in milliseconds');
    }
    this.flushForRead();
    write(CSV_HEADER);
    // Collected first: the connection stays busy while a statement iterates, and `write` may
    // be slow; pages keep memory bounded for large ranges.
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      const rows = after
        ? this.stmts.exportAfter.all(range.since, range.until, after.createdAt, after.createdAt, after.id)
        : this.stmts.exportFirst.all(range.since, range.until);
      for (const row of rows) write(csvLine(this.rowToRecord(row, false)));
      if (rows.length < EXPORT_PAGE) return;
      const last = rows[rows.length - 1]!;
      after = { createdAt: last.created_at, id: last.id };
    }
  }

  markInterrupted(at: number): number {
    this.flush();
    const changes = this.stmts.interrupt.run(at).changes;
    for (const [id, record] of this.live) {
      if (isEnded(record)) continue;
      record.state = 'interrupted';
      record.endedAt = at;
      record.reason = 'restart';
      this.live.delete(id);
    }
    return changes;
  }

  deleteOlderThan(cutoff: number, max?: number): number {
    this.flushForRead();
    const limit = max === undefined ? -1 : Math.max(0, Math.floor(max));
    const purge = this.requireDb().transaction(() => {
      const ids = this.stmts.oldIds.all(cutoff, limit);
      for (const id of ids) {
        this.stmts.deleteCall.run(id);
        this.live.delete(id);
      }
      return ids.length;
    });
    const deleted = purge();
    this.committed();
    return deleted;
  }

  close(): void {
    const db = this.db;
    if (!db) return;
    try {
      this.flush();
      this.commitGroup(); // durable events of this turn: just written by the flush
    } finally {
      this.cancelTimer();
      this.checkpointer?.stop();
      this.checkpointer = undefined;
      try {
        // The whole WAL into the database and the WAL emptied: the file alone is complete, even
        // while another connection keeps the WAL from being removed at close.
        if (this.opts.path !== ':memory:' && this.opts.path !== '') db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        this.opts.reportError(err, 'store.checkpoint'); // the WAL still holds the rest: nothing is lost
      } finally {
        db.close();
        this.db = undefined;
        this.live.clear();
      }
    }
  }

  /** Operations waiting for the next batch (tests, metrics). */
  get queued(): number {
    return this.queuedOps;
  }

  // ── writing ───────────────────────────────────────────────────────────────────

  private enqueue(op: Op): void {
    this.requireDb();
    if (this.queuedOps >= this.maxQueued) {
      // Only while writes keep failing: drop the oldest rather than grow without bound.
      const dropped = this.dropOldest(this.queuedOps - this.maxQueued + 1);
      this.opts.reportError(new Error(`record store: ${dropped} queued write(s) dropped, the database is failing`), 'store.queue');
    }
    this.push(op);
    if (this.queuedOps >= this.batchSize) this.arm(0);
    else if (this.timer === undefined) this.arm(this.batchMs);
  }

  private push(op: Op): void {
    const id = callIdOf(op);
    const list = this.pending.get(id);
    if (list) list.push(op);
    else this.pending.set(id, [op]);
    this.queuedOps++;
  }

  /** The first operations of the calls queued longest (Map order); returns how many went. */
  private dropOldest(n: number): number {
    let dropped = 0;
    for (const [id, list] of this.pending) {
      if (dropped >= n) break;
      const k = Math.min(n - dropped, list.length);
      list.splice(0, k);
      dropped += k;
      if (list.length === 0) this.pending.delete(id);
    }
    this.queuedOps -= dropped;
    return dropped;
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) {
      if (ms > 0 || this.timerIsImmediate) return;
      this.opts.timers.clearTimeout(this.timer);
    }
    this.timerIsImmediate = ms === 0;
    this.timer = this.opts.timers.setTimeout(() => this.flushFromTimer(), ms);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** After each commit of this connection: the checkpointer counts them. */
  private committed(): void {
    this.lastCommitAt = this.opts.timers.now();
    const c = this.checkpointer;
    if (!c) return;
    c.committed();
    if (!c.wantsHelp()) return;
    // The WAL grew too large for the worker: one checkpoint here, where no commit can race it.
    try {
      this.db!.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      this.opts.reportError(err, 'store.checkpoint');
    }
  }

  private flushFromTimer(): void {
    this.timer = undefined;
    if (!this.db) return;
    try {
      this.flush();
    } catch (err) {
      this.opts.reportError(err, 'store.flush');
    }
  }

  /** Reads see every event appended before them; a failing write must not stop reads. */
  private flushForRead(): void {
    try {
      this.flush();
    } catch (err) {
      this.opts.reportError(err, 'store.flush');
    }
  }

  /** Inside the batch transaction. */
  private apply(ops: Op[]): Set<CallRecord> {
    const touched = new Set<CallRecord>();
    /** The lines this batch appends to each touched call's `events`. */
    const lines = new Map<CallRecord, string>();
    for (const op of ops) {
      if (op.kind === 'start') {
        let record = this.load(op.request.id);
        if (record) {
          // Its events came first (a refusal published before recordStart): the earlier time wins.
          applyRequest(record, op.request);
          if (op.at < record.createdAt) record.createdAt = op.at;
        } else {
          record = recordFromRequest(op.request, op.at);
        }
        this.fullWrite.add(record);
        this.live.set(record.id, record);
        touched.add(record);
      } else {
        const e = op.event;
        let record = this.load(e.callId);
        if (!record) {
          record = recordFromEvent(e);
          this.fullWrite.add(record);
        }
        this.live.set(record.id, record);
        // Applied once: an event the row holds already is neither folded nor appended again. A
        // record reloaded from its row (as after a rollback) holds the row's events, and
        // applyEvent skips those; a committed cached record keeps only their highest seq.
        if (e.seq <= (this.writtenSeq.get(record) ?? 0)) continue;
        if (applyEvent(record, e)) {
          lines.set(record, (lines.get(record) ?? '') + JSON.stringify(e) + '\n');
          touched.add(record);
        }
      }
    }
    // A call's row is written whole once (and when its request arrives after its first events),
    // then only the columns events change: a 25-column upsert costs twice such an UPDATE. Either
    // way the statement appends the call's new events.
    for (const record of touched) {
      const appended = lines.get(record) ?? '';
      if (this.fullWrite.has(record)) {
        this.stmts.upsertCall.run(callRowValues(record, appended));
        this.fullWrite.delete(record);
      } else if (this.writtenState.get(record) === record.state) {
        this.stmts.updateCallKeepState.run(mutableRowValues(record, false, appended));
      } else {
        this.stmts.updateCall.run(mutableRowValues(record, true, appended));
      }
      // A rollback drops the cached records (flush): a record reloaded from its row starts afresh.
      this.writtenState.set(record, record.state);
    }
    return touched;
  }

  private load(id: string): CallRecord | undefined {
    const cached = this.live.get(id);
    if (cached) return cached;
    const row = this.stmts.getCall.get(id);
    return row ? this.rowToRecord(row, true) : undefined;
  }

  /** After a commit: ended calls leave the cache (only those just written: no scan of every live call). */
  private trimCache(touched: Set<CallRecord>): void {
    for (const record of touched) {
      if (isEnded(record)) this.live.delete(record.id);
      // Committed: a cached record only folds later events (reads come from the rows), and a
      // batch is re-applied only after a rollback, which reloads the record with its events.
      // Without them a held call's record is a few hundred bytes instead of two kilobytes.
      else if (record.events.length > 0) {
        this.writtenSeq.set(record, Math.max(this.writtenSeq.get(record) ?? 0, record.events[record.events.length - 1]!.seq));
        record.events.length = 0;
      }
    }
    if (this.live.size <= this.maxCached) return;
    // Map order is insertion order: the oldest first.
    for (const id of this.live.keys()) {
      if (this.live.size <= this.maxCached) break;
      this.live.delete(id);
    }
  }

  // ── reading ───────────────────────────────────────────────────────────────────

  private rowToRecord(row: CallRow, withEvents: boolean): CallRecord {
    const record: CallRecord = {
      id: row.id,
      state: row.state as CallState,
      createdAt: row.created_at,
      initiator: row.initiator,
      destination: row.destination,
      legs: {
        initiator: legTimes(row.initiator_ringing_at, row.initiator_answered_at, row.initiator_ended_at),
        destination: legTimes(row.destination_ringing_at, row.destination_answered_at, row.destination_ended_at),
      },
      transfers: JSON.parse(row.transfers) as TransferRecord[],
      events: withEvents && row.events ? parseEvents(row.events) : [],
    };
    if (row.mode !== null) record.mode = row.mode as CallMode;
    if (row.trigger !== null) record.trigger = row.trigger as TriggerName;
    if (row.client_address !== null) {
      record.client = { address: row.client_address, port: row.client_port ?? 0 };
      if (row.client_key !== null) record.client.key = row.client_key;
    }
    if (row.raw_initiator !== null) record.rawInitiator = row.raw_initiator;
    if (row.raw_destination !== null) record.rawDestination = row.raw_destination;
    if (row.options !== null) record.options = JSON.parse(row.options) as Record<string, unknown>;
    if (row.fallback_at !== null) record.fallbackAt = row.fallback_at;
    if (row.ended_at !== null) record.endedAt = row.ended_at;
    if (row.final_code !== null) record.finalCode = row.final_code;
    if (row.final_text !== null) record.finalText = row.final_text;
    if (row.reason !== null) record.reason = row.reason;
    return record;
  }

  private listStatement(conditions: string[]): Database.Statement<unknown[], CallRow> {
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    let stmt = this.listStatements.get(where);
    if (!stmt) {
      stmt = this.requireDb().prepare<unknown[], CallRow>(
        `SELECT ${CALL_COLUMNS.join(', ')} FROM calls ${where} ORDER BY created_at DESC, id DESC LIMIT ?`,
      );
      this.listStatements.set(where, stmt);
    }
    return stmt;
  }

  private requireDb(): Database.Database {
    if (!this.db) throw new Error('record store: not open');
    return this.db;
  }

  private prepareStatements(db: Database.Database) {
    const names = CALL_COLUMNS.join(', ');
    const values = CALL_COLUMNS.map(() => '?').join(', ');
    const updates = CALL_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ');
    return {
      // Positional parameters: binding 25 named ones from an object costs more than the write.
      upsertCall: db.prepare<unknown[], unknown>(
        `INSERT INTO calls (${names}, events) VALUES (${values}, ?)
           ON CONFLICT (id) DO UPDATE SET ${updates}, events = events || excluded.events`,
      ),
      updateCall: db.prepare<unknown[], unknown>(
        `UPDATE calls SET ${MUTABLE_COLUMNS.map((c) => `${c} = ?`).join(', ')}, events = events || ? WHERE id = ?`,
      ),
      updateCallKeepState: db.prepare<unknown[], unknown>(
        `UPDATE calls SET ${MUTABLE_COLUMNS.filter((c) => c !== 'state').map((c) => `${c} = ?`).join(', ')}, events = events || ? WHERE id = ?`,
      ),
      getCall: db.prepare<[string], CallRow>(`SELECT ${names}, events FROM calls WHERE id = ?`),
      // Explicit columns, never `events`: a page of a thousand calls would read kilobytes each.
      exportFirst: db.prepare<[number, number], CallRow>(
        `SELECT ${names} FROM calls WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ${EXPORT_PAGE}`,
      ),
      exportAfter: db.prepare<[number, number, number, number, string], CallRow>(
        `SELECT ${names} FROM calls WHERE created_at >= ? AND created_at < ?
           AND (created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ${EXPORT_PAGE}`,
      ),
      interrupt: db.prepare<[number], unknown>(
        `UPDATE calls SET state = 'interrupted', ended_at = ?, reason = 'restart'
           WHERE state IN ('in-progress', 'connected')`,
      ),
      oldIds: db.prepare<[number, number], string>(
        'SELECT id FROM calls WHERE created_at < ? ORDER BY created_at LIMIT ?',
      ).pluck(),
      deleteCall: db.prepare<[string], unknown>('DELETE FROM calls WHERE id = ?'),
    };
  }
}

const EXPORT_PAGE = 1000;

function migrate(db: Database.Database, path: string): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > MIGRATIONS.length) {
    throw new Error(
      `record store ${path}: schema version ${current} is newer than this server knows (${MIGRATIONS.length}); ` +
      'use a newer clicktocall or another DatabaseFile',
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function legTimes(ringingAt: number | null, answeredAt: number | null, endedAt: number | null) {
  const t: { ringingAt?: number; answeredAt?: number; endedAt?: number } = {};
  if (ringingAt !== null) t.ringingAt = ringingAt;
  if (answeredAt !== null) t.answeredAt = answeredAt;
  if (endedAt !== null) t.endedAt = endedAt;
  return t;
}

/** The values of CALL_COLUMNS, in order, then the events to append. */
function callRowValues(r: CallRecord, events: string): unknown[] {
  return [
    r.id, r.createdAt, r.state, r.mode ?? null, r.trigger ?? null,
    r.client?.address ?? null, r.client?.port ?? null, r.client?.key ?? null,
    r.rawInitiator ?? null, r.rawDestination ?? null, r.initiator, r.destination,
    r.options === undefined ? null : JSON.stringify(r.options),
    r.legs.initiator.ringingAt ?? null, r.legs.initiator.answeredAt ?? null, r.legs.initiator.endedAt ?? null,
    r.legs.destination.ringingAt ?? null, r.legs.destination.answeredAt ?? null, r.legs.destination.endedAt ?? null,
    r.fallbackAt ?? null, r.endedAt ?? null, r.finalCode ?? null, r.finalText ?? null, r.reason ?? null,
    JSON.stringify(r.transfers), events,
  ];
}

/** The values of MUTABLE_COLUMNS (without `state` unless `withState`), in order, then the events to append and the id. */
function mutableRowValues(r: CallRecord, withState: boolean, events: string): unknown[] {
  const values = [
    r.initiator, r.destination,
    r.legs.initiator.ringingAt ?? null, r.legs.initiator.answeredAt ?? null, r.legs.initiator.endedAt ?? null,
    r.legs.destination.ringingAt ?? null, r.legs.destination.answeredAt ?? null, r.legs.destination.endedAt ?? null,
    r.fallbackAt ?? null, r.endedAt ?? null, r.finalCode ?? null, r.finalText ?? null, r.reason ?? null,
    r.transfers.length === 0 ? '[]' : JSON.stringify(r.transfers),
    events, r.id,
  ];
  if (withState) values.unshift(r.state);
  return values;
}

/** The `events` column: one JSON event a line, each line ended by a newline; returned in seq order. */
function parseEvents(text: string): CallEvent[] {
  const events: CallEvent[] = [];
  let start = 0;
  let sorted = true;
  const add = (line: string) => {
    const e = JSON.parse(line) as CallEvent;
    if (events.length > 0 && events[events.length - 1]!.seq > e.seq) sorted = false;
    events.push(e);
  };
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    if (end > start) add(text.slice(start, end));
    start = end + 1;
  }
  if (start < text.length) add(text.slice(start));
  // Lines are appended as events arrive, which is seq order; a late one is put in its place.
  if (!sorted) events.sort((a, b) => a.seq - b.seq);
  return events;
}

/** Opaque to clients: base64url of `<createdAt>.<id>`. */
function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(`${createdAt}.${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const dot = text.indexOf('.');
  const createdAt = dot > 0 ? Number(text.slice(0, dot)) : NaN;
  if (!Number.isSafeInteger(createdAt) || dot === text.length - 1) throw new StoreQueryError('invalid cursor');
  return { createdAt, id: text.slice(dot + 1) };
}
