// The SQLite record store: schema and migration, batching on an injected clock, the durable
// path, derived states as rows, paging, interrupted calls, retention, failing writes, WAL
// checkpoints in a worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CallEvent, CallEventKind, LegName } from '../../src/call/events.js';
import type { CallRequest } from '../../src/call/request.js';
import { CHECKPOINT_EVERY_COMMITS } from '../../src/store/checkpointer.js';
import { SqliteCallStore, SCHEMA_VERSION, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import { StoreQueryError } from '../../src/store/store.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2025, 4, 6, 7, 8, 9);

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Fixture {
  store: SqliteCallStore;
  clock: FakeClock;
  path: string;
  errors: { err: unknown; where: string }[];
  /** A second connection, as another process would see the file. */
  peek(sql: string, ...params: unknown[]): unknown[];
  /** The events in the file (of one call, or of all), as that connection sees them: seqs by call. */
  eventsInFile(callId?: string): number[];
}

/** The `events` column: one JSON event a line. */
function eventLines(text: string): CallEvent[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as CallEvent);
}

function open(t: { after(fn: () => void): void }, extra: Partial<SqliteStoreOptions> = {}, path?: string): Fixture {
  const file = path ?? join(tempDir(t), 'calls.db');
  const clock = new FakeClock(T0);
  const errors: { err: unknown; where: string }[] = [];
  const store = new SqliteCallStore({
    path: file, timers: clock, batchMs: 50, batchSize: 100, reportError: (err, where) => errors.push({ err, where }), ...extra,
  });
  store.open();
  const reader = new Database(file, { readonly: true });
  t.after(() => {
    reader.close();
    store.close();
  });
  const peek = (sql: string, ...params: unknown[]) => reader.prepare(sql).all(...params);
  const eventsInFile = (callId?: string) => {
    const rows = (callId === undefined ? peek('SELECT events FROM calls ORDER BY id') : peek('SELECT events FROM calls WHERE id = ?', callId)) as { events: string }[];
    return rows.flatMap((r) => eventLines(r.events).map((e) => e.seq));
  };
  return { store, clock, path: file, errors, peek, eventsInFile };
}

function request(id: string, extra: Partial<CallRequest> = {}): CallRequest {
  return {
    id, rawInitiator: '1001', rawDestination: '2002',
    initiator: 'sip:1001@pbx.example', destination: 'sip:2002@pbx.example', mode: 'refer',
    options: { ringTimeoutMs: 60000, maxDurationMs: 14400000, holdOffer: 'c0-inactive', referNotifyTimeoutMs: 32000, transferPolicy: 'handle' },
    client: { address: '192.0.2.7', port: 40000, trigger: 'rest', key: 'crm' },
    ...extra,
  };
}

function ev(callId: string, seq: number, kind: CallEventKind, leg?: LegName, code = 200, extra: Partial<CallEvent> = {}): CallEvent {
  const final = kind === 'connected' || kind === 'failed' || kind === 'refused';
  return { callId, seq, time: T0 + seq * 1000, kind, leg, code, text: `${kind}`, final, ...extra };
}

test('schema: created at user_version, WAL, synchronous NORMAL, tables and indexes; the directory is made', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nested', 'deeper', 'c2c.db');
  const f = open(t, {}, path);
  assert.ok(existsSync(path));
  assert.equal(f.store.pragmaValue('user_version'), SCHEMA_VERSION);
  assert.equal(f.store.pragmaValue('journal_mode'), 'wal');
  assert.equal(f.store.pragmaValue('synchronous'), 1);
  const names = f.peek("SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .map((r) => (r as { name: string }).name);
  assert.deepEqual(names, ['calls', 'calls_by_created', 'calls_by_state']);
  assert.equal(SCHEMA_VERSION, 2);
});

test('schema: reopening keeps the rows; a database from a newer version is refused with a clear error', (t) => {
  const path = join(tempDir(t), 'c.db');
  const first = new SqliteCallStore({ path, timers: new FakeClock(), reportError: () => {} });
  first.open();
  first.recordStart(request('keep'), T0);
  first.close();
  const again = new SqliteCallStore({ path, timers: new FakeClock(), reportError: () => {} });
  again.open();
  assert.equal(again.get('keep')?.rawDestination, '2002');
  again.close();

  const raw = new Database(path);
  raw.pragma('user_version = 99');
  raw.close();
  const newer = new SqliteCallStore({ path, timers: new FakeClock(), reportError: () => {} });
  assert.throws(() => newer.open(), /schema version 99 is newer than this server knows \(2\)/);
});

test('batching: appended events reach the file only when the timer fires, in one batch', (t) => {
  const f = open(t);
  f.store.recordStart(request('b1'), T0);
  f.store.append(ev('b1', 1, 'initiated'));
  f.store.append(ev('b1', 2, 'ringing', 'initiator', 180));
  assert.equal(f.store.queued, 3);
  assert.equal(f.peek('SELECT * FROM calls').length, 0);
  f.clock.advance(49);
  assert.deepEqual(f.eventsInFile(), []);
  f.clock.advance(1);
  assert.equal(f.store.queued, 0);
  assert.deepEqual(f.eventsInFile('b1'), [1, 2]);
  const row = f.peek('SELECT state, initiator_ringing_at, client_key FROM calls WHERE id = ?', 'b1')[0];
  assert.deepEqual(row, { state: 'in-progress', initiator_ringing_at: T0 + 2000, client_key: 'crm' });
});

test('batching: reaching batchSize writes from a 0 ms timer, not from append itself', (t) => {
  const f = open(t, { batchSize: 5 });
  f.store.recordStart(request('s1'), T0);
  for (let seq = 1; seq <= 4; seq++) f.store.append(ev('s1', seq, 'ringing', 'initiator', 180));
  assert.deepEqual(f.eventsInFile(), [], 'append does not write');
  f.clock.advance(0);
  assert.deepEqual(f.eventsInFile('s1'), [1, 2, 3, 4]);
  assert.equal(f.store.queued, 0);
});

test('get() sees events still queued (it flushes first), with its events in seq order', (t) => {
  const f = open(t);
  f.store.recordStart(request('g1'), T0);
  f.store.append(ev('g1', 1, 'initiated', undefined, 100, { translatedInitiator: 'sip:1001@pbx.example' }));
  f.store.append(ev('g1', 2, 'ringing', 'initiator', 180));
  const r = f.store.get('g1');
  assert.ok(r);
  assert.deepEqual(r.events.map((e) => e.kind), ['initiated', 'ringing']);
  assert.equal(r.events[0]!.translatedInitiator, 'sip:1001@pbx.example');
  assert.deepEqual(r.client, { address: '192.0.2.7', port: 40000, key: 'crm' });
  assert.equal(r.trigger, 'rest');
  assert.equal(r.options?.['ringTimeoutMs'], 60000);
  assert.equal(f.store.get('nope'), undefined);
});

test('durable path: a final event and everything queued before it for its call are committed before appendDurable returns; other calls wait for the batch', (t) => {
  const f = open(t);
  f.store.recordStart(request('d1'), T0);
  f.store.append(ev('d1', 1, 'initiated'));
  f.store.recordStart(request('other'), T0);
  f.store.append(ev('other', 1, 'initiated'));
  f.store.append(ev('d1', 2, 'ringing', 'initiator', 180));
  f.store.appendDurable(ev('d1', 3, 'failed', 'initiator', 486, { reason: 'initiator-failed' }));
  // No clock advance: the other connection already sees it all.
  assert.deepEqual(
    f.peek('SELECT state, final_code, reason, ended_at FROM calls WHERE id = ?', 'd1')[0],
    { state: 'failed', final_code: 486, reason: 'initiator-failed', ended_at: T0 + 3000 },
  );
  assert.deepEqual(f.eventsInFile('d1'), [1, 2, 3]);
  assert.deepEqual(f.peek('SELECT id FROM calls WHERE id = ?', 'other'), [], 'not written by the durable commit');
  assert.equal(f.store.queued, 2);
  f.clock.advance(50);
  assert.deepEqual(f.eventsInFile('other'), [1], 'written by the batch');
  assert.equal(f.store.queued, 0);
  f.clock.advance(1000);
  assert.equal(f.errors.length, 0);
});

test('states as stored: REFER success, anchored completed, failure, refusal without a request', (t) => {
  const f = open(t);
  f.store.recordStart(request('refer'), T0);
  for (const [seq, kind, leg] of [[1, 'initiated'], [2, 'ringing', 'initiator'], [3, 'answered', 'initiator'], [4, 'ringing', 'destination']] as const) {
    f.store.append(ev('refer', seq, kind, leg));
  }
  f.store.appendDurable(ev('refer', 5, 'connected', 'destination'));
  assert.equal(f.store.get('refer')?.state, 'connected');
  f.store.appendDurable(ev('refer', 6, 'completed', undefined, 200, { reason: 'referred' }));

  f.store.recordStart(request('anch', { mode: 'anchored' }), T0 + 1);
  f.store.append(ev('anch', 1, 'initiated'));
  f.store.append(ev('anch', 2, 'answered', 'initiator'));
  f.store.appendDurable(ev('anch', 3, 'connected', 'destination'));
  f.store.append(ev('anch', 4, 'transfer-requested', 'destination', 202, { text: 'Transfer to sip:9@x requested by the destination', reason: 'handle' }));
  f.store.append(ev('anch', 5, 'transfer-connected', 'destination', 200));
  f.store.appendDurable(ev('anch', 6, 'completed', undefined, 200, { reason: 'hangup' }));

  f.store.appendDurable(ev('ref', 1, 'refused', undefined, 503, {
    reason: 'limit', translatedInitiator: 'sip:a@x', translatedDestination: 'sip:b@y',
  }));

  const refer = f.store.get('refer')!;
  assert.equal(refer.state, 'completed');
  assert.equal(refer.reason, 'referred');
  assert.deepEqual(refer.legs.destination, { ringingAt: T0 + 4000, answeredAt: T0 + 5000, endedAt: T0 + 6000 });
  assert.equal(refer.endedAt, T0 + 6000);

  const anch = f.store.get('anch')!;
  assert.equal(anch.state, 'completed');
  assert.equal(anch.mode, 'anchored');
  assert.deepEqual(anch.transfers.map((x) => [x.target, x.outcome]), [['sip:9@x', 'connected']]);
  assert.equal(anch.events.length, 6);

  const ref = f.store.get('ref')!;
  assert.equal(ref.state, 'refused');
  assert.equal(ref.finalCode, 503);
  assert.equal(ref.initiator, 'sip:a@x');
  assert.equal(ref.mode, undefined);
  assert.equal(ref.client, undefined);
});

test('a request recorded after its refusal event fills in the request and keeps the refusal', (t) => {
  const f = open(t);
  f.store.appendDurable(ev('late', 1, 'refused', undefined, 403, { reason: 'destination-denied' }));
  f.store.recordStart(request('late'), T0 - 5);
  const r = f.store.get('late')!;
  assert.equal(r.state, 'refused');
  assert.equal(r.rawDestination, '2002');
  assert.equal(r.createdAt, T0 - 5);
});

test('list: newest first, cursor paging over equal times, filters, bad cursor and limit', (t) => {
  const f = open(t);
  // 25 calls, created in groups of 3 at the same millisecond.
  for (let i = 0; i < 25; i++) {
    const id = `call-${String(i).padStart(2, '0')}`;
    f.store.recordStart(request(id), T0 + Math.floor(i / 3));
    if (i % 2 === 0) f.store.append(ev(id, 1, 'failed', 'initiator', 480));
  }
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = f.store.list({ limit: 10, ...(cursor ? { cursor } : {}) });
    seen.push(...page.records.map((r) => r.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  const expected = Array.from({ length: 25 }, (_, i) => `call-${String(24 - i).padStart(2, '0')}`);
  assert.deepEqual(seen, expected);

  const failed = f.store.list({ limit: 100, state: 'failed' });
  assert.equal(failed.records.length, 13);
  assert.ok(failed.records.every((r) => r.state === 'failed'));
  assert.equal(failed.nextCursor, undefined);

  const window = f.store.list({ limit: 100, since: T0 + 2, until: T0 + 4 });
  assert.deepEqual(window.records.map((r) => r.id), ['call-11', 'call-10', 'call-09', 'call-08', 'call-07', 'call-06']);

  const exact = f.store.list({ limit: 5, since: T0 + 7 });
  assert.deepEqual(exact.records.map((r) => r.id), ['call-24', 'call-23', 'call-22', 'call-21']);
  assert.equal(exact.nextCursor, undefined);

  assert.throws(() => f.store.list({ limit: 10, cursor: 'not-a-cursor!' }), StoreQueryError);
  assert.throws(() => f.store.list({ limit: 0 }), StoreQueryError);
  assert.throws(() => f.store.list({ limit: 1001 }), StoreQueryError);
  assert.throws(() => f.store.list({ limit: 10, state: 'bogus' as never }), StoreQueryError);
  assert.throws(() => f.store.list({ limit: 10, since: Number.NaN }), StoreQueryError);
  assert.throws(() => f.store.exportCsv({ since: 0, until: Number.POSITIVE_INFINITY }, () => {}), StoreQueryError);
});

test('markInterrupted: calls without an end become interrupted at the given time, ended ones stay', (t) => {
  const path = join(tempDir(t), 'i.db');
  const before = new SqliteCallStore({ path, timers: new FakeClock(), reportError: () => {} });
  before.open();
  before.recordStart(request('ringing'), T0);
  before.append(ev('ringing', 1, 'ringing', 'initiator', 180));
  before.recordStart(request('talking', { mode: 'anchored' }), T0);
  before.appendDurable(ev('talking', 1, 'connected', 'destination'));
  before.recordStart(request('done'), T0);
  before.appendDurable(ev('done', 1, 'failed', 'initiator', 486));
  before.close();

  const f = open(t, {}, path);
  const at = T0 + 3_600_000;
  assert.equal(f.store.markInterrupted(at), 2);
  for (const id of ['ringing', 'talking']) {
    const r = f.store.get(id)!;
    assert.equal(r.state, 'interrupted');
    assert.equal(r.endedAt, at);
    assert.equal(r.reason, 'restart');
  }
  assert.equal(f.store.get('talking')!.finalCode, 200);
  assert.equal(f.store.get('done')!.state, 'failed');
  assert.equal(f.store.list({ limit: 10, state: 'interrupted' }).records.length, 2);
  assert.equal(f.store.markInterrupted(at + 1), 0);
});

test('deleteOlderThan removes old calls and their events, in slices when asked', (t) => {
  const f = open(t);
  for (let i = 0; i < 7; i++) {
    f.store.recordStart(request(`old${i}`), T0 + i);
    f.store.appendDurable(ev(`old${i}`, 1, 'failed', 'initiator', 486));
  }
  f.store.recordStart(request('new'), T0 + 100);
  f.store.appendDurable(ev('new', 1, 'failed', 'initiator', 486));
  assert.equal(f.store.deleteOlderThan(T0 + 100, 3), 3);
  assert.equal(f.store.get('old0'), undefined);
  assert.ok(f.store.get('old3'));
  assert.equal(f.store.deleteOlderThan(T0 + 100), 4);
  assert.equal(f.store.deleteOlderThan(T0 + 100), 0);
  assert.deepEqual(f.peek('SELECT id FROM calls'), [{ id: 'new' }]);
  assert.deepEqual(f.eventsInFile('new'), [1]);
  assert.ok(f.store.get('new'));
});

test('a failing write (database locked) is reported, kept queued, and written once the lock goes, without counting twice', (t) => {
  const f = open(t, { busyTimeoutMs: 0 });
  f.store.recordStart(request('x'), T0);
  f.store.appendDurable(ev('x', 1, 'connected', 'destination'));
  const locker = new Database(f.path);
  locker.exec('BEGIN IMMEDIATE');
  f.store.append(ev('x', 2, 'transfer-requested', 'destination', 202, { text: 'Transfer to sip:t@x requested by the destination' }));
  f.clock.advance(50);
  assert.equal(f.errors.length, 1);
  assert.equal(f.errors[0]!.where, 'store.flush');
  assert.match(String(f.errors[0]!.err), /locked|busy/i);
  assert.equal(f.store.queued, 1);
  assert.throws(() => f.store.appendDurable(ev('x', 3, 'completed', undefined, 200, { reason: 'hangup' })), /locked|busy/i);
  locker.exec('COMMIT');
  locker.close();
  f.clock.advance(50);
  assert.equal(f.store.queued, 0);
  const r = f.store.get('x')!;
  assert.equal(r.state, 'completed');
  assert.equal(r.transfers.length, 1);
  assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(f.eventsInFile('x'), [1, 2, 3], 'each event in the row once, in order');
});

test('a batch rolled back midway is re-applied whole: no event of it lost, none written twice', (t) => {
  const f = open(t, { busyTimeoutMs: 0 });
  f.store.recordStart(request('p'), T0);
  f.store.append(ev('p', 1, 'initiated'));
  f.store.append(ev('p', 2, 'ringing', 'initiator', 180));
  f.store.flush(); // committed: the cached record keeps no events, the row has 1 and 2
  f.store.append(ev('p', 3, 'answered', 'initiator'));
  f.store.recordStart(request('n'), T0 + 1);
  f.store.append(ev('n', 1, 'initiated'));
  f.store.append(ev('p', 4, 'ringing', 'destination', 180));
  // The row of `p` is written, then the insert of `n` fails: a trigger stands in for a failing disk.
  const saboteur = new Database(f.path);
  t.after(() => saboteur.close());
  saboteur.exec("CREATE TRIGGER fail_n BEFORE INSERT ON calls WHEN NEW.id = 'n' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
  assert.throws(() => f.store.flush(), /disk trouble/);
  assert.deepEqual(f.eventsInFile('p'), [1, 2], 'rolled back: p keeps what it had');
  assert.equal(f.store.queued, 4);
  saboteur.exec('DROP TRIGGER fail_n');
  f.store.append(ev('p', 5, 'connected', 'destination'));
  f.clock.advance(50); // the retry the failure armed
  assert.equal(f.store.queued, 0);
  assert.deepEqual(f.eventsInFile('p'), [1, 2, 3, 4, 5]);
  assert.deepEqual(f.eventsInFile('n'), [1]);
  const p = f.store.get('p')!;
  assert.equal(p.state, 'connected');
  assert.equal(p.legs.initiator.answeredAt, T0 + 3000);
  assert.deepEqual(p.events.map((e) => e.kind), ['initiated', 'ringing', 'answered', 'ringing', 'connected']);
  // A replayed event (same seq) is not appended again.
  f.store.append(ev('p', 5, 'connected', 'destination'));
  f.store.flush();
  assert.deepEqual(f.eventsInFile('p'), [1, 2, 3, 4, 5]);
  assert.equal(f.store.get('p')!.events.length, 5);
  assert.deepEqual(f.errors, [], 'the failure went to the caller of flush()');
});

test('migration 2: a version-1 file keeps its calls, and their events move into the rows in seq order', (t) => {
  const path = join(tempDir(t), 'v1.db');
  const v1 = new Database(path);
  v1.pragma('journal_mode = WAL');
  // Migration 1 as released.
  v1.exec(`CREATE TABLE calls (
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
   ) WITHOUT ROWID;
   PRAGMA user_version = 1;`);
  const call = v1.prepare(`INSERT INTO calls (id, created_at, state, mode, initiator, destination, initiator_ringing_at)
    VALUES (?, ?, ?, 'refer', 'sip:a@x', 'sip:b@x', ?)`);
  const event = v1.prepare('INSERT INTO events (call_id, seq, json) VALUES (?, ?, ?)');
  call.run('old-a', T0, 'connected', T0 + 1000);
  call.run('old-b', T0 + 1, 'in-progress', null);
  call.run('old-c', T0 + 2, 'failed', null);
  // Inserted out of order, with a text holding a newline (escaped by JSON).
  for (const seq of [3, 1, 2]) event.run('old-a', seq, JSON.stringify(ev('old-a', seq, seq === 3 ? 'connected' : 'ringing', 'initiator', 180, { text: `line ${seq}\nsecond line` })));
  event.run('old-c', 1, JSON.stringify(ev('old-c', 1, 'failed', 'initiator', 486)));
  v1.close();

  const f = open(t, {}, path);
  assert.equal(f.store.pragmaValue('user_version'), 2);
  assert.deepEqual(f.peek("SELECT name FROM sqlite_master WHERE name = 'events'"), [], 'the events table is gone');
  const a = f.store.get('old-a')!;
  assert.deepEqual(a.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(a.events[1]!.text, 'line 2\nsecond line');
  assert.equal(a.state, 'connected');
  assert.equal(a.legs.initiator.ringingAt, T0 + 1000);
  assert.deepEqual(f.store.get('old-b')!.events, [], 'a call without events: an empty column');
  assert.deepEqual(f.store.get('old-c')!.events.map((e) => e.kind), ['failed']);
  // The migrated rows take new events after theirs.
  f.store.appendDurable(ev('old-b', 1, 'failed', 'initiator', 486));
  f.store.appendDurable(ev('old-a', 4, 'completed', undefined, 200, { reason: 'referred' }));
  assert.deepEqual(f.eventsInFile('old-a'), [1, 2, 3, 4]);
  assert.deepEqual(f.eventsInFile('old-b'), [1]);
  assert.equal(f.store.get('old-a')!.state, 'completed');
});

test('list and CSV export do not read the events column', (t) => {
  const f = open(t);
  f.store.recordStart(request('l1'), T0);
  f.store.append(ev('l1', 1, 'initiated'));
  f.store.appendDurable(ev('l1', 2, 'failed', 'initiator', 486));
  // Events that would not parse: only get() may read the column.
  const raw = new Database(f.path);
  raw.prepare("UPDATE calls SET events = events || 'not json' || char(10) WHERE id = 'l1'").run();
  raw.close();
  const page = f.store.list({ limit: 10 });
  assert.deepEqual(page.records.map((r) => [r.id, r.state, r.events.length]), [['l1', 'failed', 0]]);
  const lines: string[] = [];
  f.store.exportCsv({ since: T0 - 1, until: T0 + 1 }, (line) => lines.push(line));
  assert.equal(lines.length, 2);
  assert.throws(() => f.store.get('l1'), SyntaxError);
});

test('the queue is bounded (writes failing for long): the oldest operations are dropped and reported', (t) => {
  const f = open(t, { busyTimeoutMs: 0, maxQueued: 3, batchMs: 1_000_000 });
  for (let seq = 1; seq <= 5; seq++) f.store.append(ev('q', seq, 'ringing', 'initiator', 180));
  assert.equal(f.store.queued, 3);
  assert.equal(f.errors.filter((e) => e.where === 'store.queue').length, 2);
  assert.deepEqual(f.store.get('q')!.events.map((e) => e.seq), [3, 4, 5]);
});

test('close flushes what is queued; a closed store refuses work', (t) => {
  const path = join(tempDir(t), 'c.db');
  const clock = new FakeClock(T0);
  const store = new SqliteCallStore({ path, timers: clock, reportError: () => {} });
  store.open();
  store.recordStart(request('z'), T0);
  store.append(ev('z', 1, 'initiated'));
  store.close();
  assert.throws(() => store.append(ev('z', 2, 'ringing', 'initiator')), /not open/);
  clock.advance(1000); // the cancelled batch timer does nothing
  const raw = new Database(path, { readonly: true });
  t.after(() => raw.close());
  assert.deepEqual(eventLines((raw.prepare('SELECT events FROM calls WHERE id = ?').get('z') as { events: string }).events).map((e) => e.kind), ['initiated']);
});

test('a live call dropped from the memory cache reloads from its rows and goes on correctly', (t) => {
  const f = open(t, { maxCached: 1 });
  for (const id of ['m1', 'm2', 'm3']) {
    f.store.recordStart(request(id, { mode: 'anchored' }), T0);
    f.store.append(ev(id, 1, 'answered', 'initiator'));
    f.store.append(ev(id, 2, 'transfer-requested', 'destination', 202, { text: `Transfer to sip:${id}@x requested by the destination` }));
  }
  f.store.flush();
  f.store.appendDurable(ev('m1', 3, 'transfer-failed', 'destination', 486));
  f.store.appendDurable(ev('m1', 4, 'failed', 'destination', 487, { reason: 'hangup' }));
  const r = f.store.get('m1')!;
  assert.equal(r.state, 'failed');
  assert.equal(r.legs.initiator.answeredAt, T0 + 1000);
  assert.equal(r.legs.initiator.endedAt, T0 + 4000);
  assert.deepEqual(r.transfers.map((x) => [x.target, x.outcome, x.code]), [['sip:m1@x', 'failed', 486]]);
  assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3, 4]);
});

test('batches that change only times keep the stored state; a later state change is written (the state-keeping UPDATE)', (t) => {
  const f = open(t);
  const stateOf = () => (f.peek('SELECT state, initiator_ringing_at AS r, initiator_answered_at AS a FROM calls WHERE id = ?', 'kept')[0] as { state: string; r: number | null; a: number | null });
  f.store.recordStart(request('kept'), T0);
  f.store.append(ev('kept', 1, 'initiated'));
  f.store.flush();
  assert.deepEqual(stateOf(), { state: 'in-progress', r: null, a: null });
  f.store.append(ev('kept', 2, 'ringing', 'initiator'));
  f.store.flush();
  assert.deepEqual(stateOf(), { state: 'in-progress', r: T0 + 2000, a: null }, 'a time written, the state unchanged');
  f.store.append(ev('kept', 3, 'answered', 'initiator'));
  f.store.flush();
  assert.deepEqual(stateOf(), { state: 'in-progress', r: T0 + 2000, a: T0 + 3000 });
  f.store.appendDurable(ev('kept', 4, 'connected', 'destination'));
  assert.equal(stateOf().state, 'connected', 'a new state reaches the row');
  f.store.append(ev('kept', 5, 'completed', undefined, 200, { reason: 'referred' }));
  f.store.flush();
  assert.equal(stateOf().state, 'completed');
  assert.equal(f.peek("SELECT count(*) AS n FROM calls WHERE state = 'completed'").length, 1);
  assert.deepEqual(f.peek("SELECT id FROM calls INDEXED BY calls_by_state WHERE state = 'completed'"), [{ id: 'kept' }], 'the state index agrees');
});

/** Polls until `cond` holds (what another thread does is not driven by the fake clock). */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('checkpoints: the connection leaves them to a worker, which keeps the WAL from growing; close() leaves the file complete', async (t) => {
  const f = open(t);
  assert.equal(f.store.pragmaValue('wal_autocheckpoint'), 0);
  const ROUNDS = 8;
  const logs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = f.store.checkpointStats!.checkpoints;
    for (let i = 0; i < CHECKPOINT_EVERY_COMMITS; i++) {
      const id = `w${round}-${String(i).padStart(3, '0')}`;
      f.store.recordStart(request(id), T0 + round);
      f.store.append(ev(id, 1, 'initiated'));
      f.store.flush(); // one commit each
    }
    // The last commit asked the worker for a checkpoint; no commit races it here.
    await until(() => {
      const s = f.store.checkpointStats!;
      return s.checkpoints > before && s.last!.checkpointed === s.last!.log;
    }, `the checkpoint of round ${round}`);
    logs.push(f.store.checkpointStats!.last!.log);
  }
  // Each checkpoint found about one round's frames: after a whole copy the writer starts the WAL
  // over (without the worker it would hold all eight rounds).
  assert.ok(logs[0]! > 100, `a round writes frames: ${logs.join(' ')}`);
  assert.ok(Math.max(...logs) < 2 * logs[0]!, `frames at each checkpoint: ${logs.join(' ')}`);
  const walBytes = statSync(`${f.path}-wal`).size;
  assert.ok(walBytes < 3 * logs[0]! * (4096 + 24), `WAL file ${walBytes} bytes`);
  assert.ok(statSync(f.path).size > 50 * 4096, `the worker copied pages into the database: ${statSync(f.path).size} bytes, frames ${logs.join(' ')}`);
  assert.equal(f.errors.length, 0);

  assert.deepEqual(f.peek('SELECT count(*) AS n FROM calls'), [{ n: ROUNDS * CHECKPOINT_EVERY_COMMITS }]);
  f.store.close();
  // The fixture's reader has the file open, so closing does not remove the WAL: TRUNCATE emptied it.
  assert.equal(statSync(`${f.path}-wal`).size, 0);
  const fresh = new Database(f.path, { readonly: true });
  t.after(() => fresh.close());
  assert.equal((fresh.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n, ROUNDS * CHECKPOINT_EVERY_COMMITS);
});

test('checkpoints: an in-memory store has no WAL and no worker', (t) => {
  const store = new SqliteCallStore({ path: ':memory:', timers: new FakeClock(T0), reportError: () => assert.fail('no error expected') });
  store.open();
  t.after(() => store.close());
  assert.equal(store.checkpointStats, undefined);
  store.appendDurable(ev('mem', 1, 'failed', 'initiator', 486));
  assert.equal(store.get('mem')?.state, 'failed');
});

/** Counts the row writes of `calls` in the file (triggers of another connection: they fire in the store's transactions). */
function countRowWrites(path: string): () => { inserts: number; updates: number } {
  const db = new Database(path);
  db.exec(`CREATE TABLE row_writes (kind TEXT PRIMARY KEY, n INTEGER NOT NULL);
    INSERT INTO row_writes VALUES ('insert', 0), ('update', 0);
    CREATE TRIGGER count_inserts AFTER INSERT ON calls BEGIN UPDATE row_writes SET n = n + 1 WHERE kind = 'insert'; END;
    CREATE TRIGGER count_updates AFTER UPDATE ON calls BEGIN UPDATE row_writes SET n = n + 1 WHERE kind = 'update'; END;`);
  const read = db.prepare('SELECT kind, n FROM row_writes');
  return () => {
    const counts = Object.fromEntries((read.all() as { kind: string; n: number }[]).map((r) => [r.kind, r.n]));
    return { inserts: counts['insert'] ?? 0, updates: counts['update'] ?? 0 };
  };
}

const turn = () => new Promise((r) => setImmediate(r));

test('group commit writes only the calls with a durable event, each whole and in order; the rest waits for the batch', async (t) => {
  const f = open(t, { groupCommit: true });
  f.store.recordStart(request('fast'), T0);
  f.store.recordStart(request('slow'), T0);
  f.store.append(ev('fast', 1, 'initiated'));
  f.store.append(ev('slow', 1, 'initiated'));
  f.store.append(ev('fast', 2, 'ringing', 'initiator', 180));
  f.store.append(ev('slow', 2, 'ringing', 'initiator', 180));
  const stored = f.store.appendDurable(ev('fast', 3, 'failed', 'initiator', 486));
  f.store.append(ev('slow', 3, 'answered', 'initiator'));
  await stored;
  assert.deepEqual(f.eventsInFile('fast'), [1, 2, 3]);
  assert.equal((f.peek('SELECT state FROM calls WHERE id = ?', 'fast')[0] as { state: string }).state, 'failed');
  assert.deepEqual(f.peek('SELECT id FROM calls WHERE id = ?', 'slow'), []);
  assert.equal(f.store.queued, 4, "slow's start and three events");
  // A read writes everything first.
  assert.deepEqual(f.store.get('slow')!.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(f.store.queued, 0);
  assert.equal(f.errors.length, 0);
});

test('group commit: overlapping sessions are written in two row writes each (the insert with everything up to the final, then completed)', async (t) => {
  const f = open(t, { groupCommit: true, batchMs: 200 });
  const writes = countRowWrites(f.path);
  // Three REFER sessions of 20 ms, 8 ms apart: each one's final comes while the next ones are halfway.
  const steps: [CallEventKind, LegName | undefined, number][] = [
    ['initiated', undefined, 100], ['ringing', 'initiator', 180], ['answered', 'initiator', 200],
    ['referred', 'initiator', 100], ['ringing', 'destination', 180],
  ];
  const due = new Map<number, (() => void)[]>();
  const at = (ms: number, fn: () => void) => due.set(ms, [...(due.get(ms) ?? []), fn]);
  const stored: Promise<void>[] = [];
  const ids = ['s1', 's2', 's3'];
  ids.forEach((id, n) => {
    const t0 = n * 8;
    at(t0, () => f.store.recordStart(request(id), T0 + t0));
    steps.forEach(([kind, leg, code], i) => at(t0 + 4 * i, () => f.store.append(ev(id, i + 1, kind, leg, code))));
    at(t0 + 20, () => {
      // As the publisher does: `completed` waits until `connected` is stored.
      const connected = f.store.appendDurable(ev(id, 6, 'connected', 'destination'))!;
      stored.push(connected.then(() => f.store.appendDurable(ev(id, 7, 'completed', undefined, 200, { reason: 'referred' }))));
    });
  });
  for (let ms = 0; ms <= 60; ms++) {
    for (const fn of due.get(ms) ?? []) fn();
    await turn();
    await turn();
    f.clock.advance(1);
  }
  await Promise.all(stored);
  assert.deepEqual(writes(), { inserts: 3, updates: 3 });
  for (const id of ids) assert.deepEqual(f.eventsInFile(id), [1, 2, 3, 4, 5, 6, 7], id);
  assert.equal(f.store.get('s3')!.state, 'completed');
  assert.equal(f.store.queued, 0);
  assert.equal(f.errors.length, 0);
});

test('group commit: a failed durable commit rejects its events and keeps every queued operation, in order, for the retry', async (t) => {
  const f = open(t, { groupCommit: true, busyTimeoutMs: 0 });
  f.store.recordStart(request('g'), T0);
  f.store.append(ev('g', 1, 'initiated'));
  f.store.recordStart(request('h'), T0);
  f.store.append(ev('h', 1, 'initiated'));
  const locker = new Database(f.path);
  t.after(() => locker.close());
  locker.exec('BEGIN IMMEDIATE');
  const stored = f.store.appendDurable(ev('g', 2, 'connected', 'destination')) as Promise<void>;
  f.store.append(ev('g', 3, 'transfer-requested', 'destination', 202));
  await assert.rejects(stored, /locked|busy/i);
  assert.equal(f.store.queued, 6, 'both starts, four events');
  locker.exec('COMMIT');
  f.clock.advance(50); // the retry the failure armed writes everything
  assert.equal(f.store.queued, 0);
  assert.deepEqual(f.eventsInFile('g'), [1, 2, 3]);
  assert.deepEqual(f.eventsInFile('h'), [1]);
  assert.equal(f.store.get('g')!.state, 'connected');
  assert.equal(f.store.get('g')!.transfers.length, 1);
});

test('the queue bound holds across calls: the operations of the calls queued longest go first', (t) => {
  const f = open(t, { busyTimeoutMs: 0, maxQueued: 4, batchMs: 1_000_000 });
  f.store.append(ev('first', 1, 'initiated'));
  f.store.append(ev('second', 1, 'initiated'));
  f.store.append(ev('first', 2, 'ringing', 'initiator', 180));
  f.store.append(ev('second', 2, 'ringing', 'initiator', 180));
  f.store.append(ev('third', 1, 'initiated'));
  f.store.append(ev('third', 2, 'ringing', 'initiator', 180));
  assert.equal(f.store.queued, 4);
  assert.equal(f.errors.filter((e) => e.where === 'store.queue').length, 2);
  assert.equal(f.store.get('first'), undefined);
  assert.deepEqual(f.store.get('second')!.events.map((e) => e.seq), [1, 2]);
  assert.deepEqual(f.store.get('third')!.events.map((e) => e.seq), [1, 2]);
});
