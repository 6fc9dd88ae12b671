// attachStore: the store is the publisher's durable sink (decisions.md §7).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CallEvent } from '../../src/call/events.js';
import { EventPublisher } from '../../src/call/publisher.js';
import type { CallRequest } from '../../src/call/request.js';
import { SqliteCallStore } from '../../src/store/sqlite-store.js';
import { attachStore } from '../../src/store/subscriber.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2025, 2, 3);

const request: CallRequest = {
  id: 'p1', rawInitiator: 'alice', rawDestination: 'bob', initiator: 'sip:alice@x', destination: 'sip:bob@x', mode: 'refer',
  options: { ringTimeoutMs: 1, maxDurationMs: 1, holdOffer: 'none', referNotifyTimeoutMs: 1, transferPolicy: 'handle' },
  client: { address: '127.0.0.1', port: 9, trigger: 'xml' },
};

test('a final event is committed before other subscribers see it; other events wait for the batch', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-sub-'));
  const path = join(dir, 's.db');
  const clock = new FakeClock(T0);
  const store = new SqliteCallStore({ path, timers: clock, reportError: () => {} });
  store.open();
  const reader = new Database(path, { readonly: true });
  t.after(() => {
    reader.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const stateInFile = () => (reader.prepare('SELECT state FROM calls WHERE id = ?').get('p1') as { state: string } | undefined)?.state;
  const errors: unknown[] = [];
  const publisher = new EventPublisher((e) => errors.push(e));
  const attachment = attachStore(publisher, store, () => T0);

  const seenWith: [string, string | undefined][] = [];
  publisher.subscribe((e) => seenWith.push([e.kind, stateInFile()]));

  attachment.begin(request);
  const base = { callId: 'p1', leg: undefined, text: '' };
  const events: CallEvent[] = [
    { ...base, seq: 1, time: T0, kind: 'initiated', code: 100, final: false },
    { ...base, seq: 2, time: T0 + 1, kind: 'answered', leg: 'initiator', code: 200, final: false },
    { ...base, seq: 3, time: T0 + 2, kind: 'connected', leg: 'destination', code: 200, final: true },
    { ...base, seq: 4, time: T0 + 3, kind: 'completed', code: 200, final: false, reason: 'referred' },
  ];
  for (const e of events) publisher.publish(e);
  assert.deepEqual(seenWith, [
    ['initiated', undefined],
    ['answered', undefined],
    ['connected', 'connected'],
    ['completed', 'completed'],
  ]);
  const r = store.get('p1')!;
  assert.equal(r.rawInitiator, 'alice');
  assert.equal(r.createdAt, T0);
  assert.equal(r.events.length, 4);
  assert.deepEqual(errors, []);

  attachment.detach();
  publisher.publish({ ...base, seq: 5, time: T0 + 4, kind: 'transfer-failed', code: 500, final: false });
  assert.equal(store.queued, 0, 'a detached store gets nothing');
});

/** A file store with group commit, and a second connection reading the state a call has in the file. */
function groupCommitStore(t: TestContext, clock: FakeClock, groupCommitSpacingMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-sub-'));
  const path = join(dir, 's.db');
  const store = new SqliteCallStore({ path, timers: clock, groupCommit: true, groupCommitSpacingMs, reportError: () => {} });
  store.open();
  const reader = new Database(path, { readonly: true });
  t.after(() => {
    reader.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const stateInFile = (id: string) => (reader.prepare('SELECT state FROM calls WHERE id = ?').get(id) as { state: string } | undefined)?.state;
  return { store, stateInFile };
}

test('group commit: finals of many calls in one turn are stored in one commit, and each reaches the others only after it, in order', async (t) => {
  const { store, stateInFile } = groupCommitStore(t, new FakeClock(T0));
  const errors: unknown[] = [];
  const publisher = new EventPublisher((e) => errors.push(e));
  attachStore(publisher, store, () => T0);
  const seen: string[] = [];
  publisher.subscribe((e) => seen.push(`${e.callId}:${e.kind}:${stateInFile(e.callId) ?? '-'}`));

  const ev = (callId: string, seq: number, kind: CallEvent['kind'], final: boolean): CallEvent =>
    ({ callId, seq, time: T0 + seq, kind, leg: undefined, code: 200, text: '', final });
  // One turn: call a connects (final) and gets a later event at once; call b only starts.
  publisher.publish(ev('a', 1, 'initiated', false));
  publisher.publish(ev('a', 2, 'connected', true));
  publisher.publish(ev('a', 3, 'transfer-requested', false));
  publisher.publish(ev('b', 1, 'initiated', false));
  publisher.publish(ev('c', 1, 'failed', true));
  // Not committed yet: only the events not behind a final went out, without touching the file.
  assert.deepEqual(seen, ['a:initiated:-', 'b:initiated:-']);
  assert.equal(publisher.heldCalls, 2);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  // One commit stored both finals before either was seen; a's later event kept its place in a's
  // order (across calls there is no order to keep).
  assert.deepEqual([...seen].sort(), ['a:connected:connected', 'a:initiated:-', 'a:transfer-requested:connected', 'b:initiated:-', 'c:failed:failed']);
  assert.deepEqual(seen.filter((x) => x.startsWith('a:')), ['a:initiated:-', 'a:connected:connected', 'a:transfer-requested:connected']);
  assert.equal(publisher.heldCalls, 0);
  assert.deepEqual(errors, []);
});

test('group commit spacing: under load a durable commit waits out the spacing and takes the finals of the turns in between', async (t) => {
  const clock = new FakeClock(T0);
  const { store, stateInFile } = groupCommitStore(t, clock, 5);
  const publisher = new EventPublisher((e) => assert.fail(String(e)));
  attachStore(publisher, store, () => T0);
  const seen: string[] = [];
  publisher.subscribe((e) => seen.push(`${e.callId}:${e.kind}:${stateInFile(e.callId) ?? '-'}`));
  const final = (callId: string): CallEvent => ({ callId, seq: 1, time: T0, kind: 'failed', leg: 'initiator', code: 486, text: '', final: true });
  const turn = () => new Promise((r) => setImmediate(r));

  // Quiet before: the first final is committed at the end of its turn.
  publisher.publish(final('a'));
  await turn();
  await turn();
  assert.deepEqual(seen, ['a:failed:failed']);
  // Within 5 ms of that commit: b and c (two turns apart) wait for one commit at +5 ms.
  clock.advance(1);
  publisher.publish(final('b'));
  await turn();
  await turn();
  publisher.publish(final('c'));
  await turn();
  assert.deepEqual(seen, ['a:failed:failed'], 'b waits for the spacing');
  assert.equal(stateInFile('b'), undefined);
  clock.advance(3);
  await turn();
  assert.equal(seen.length, 1);
  clock.advance(1);
  await turn();
  await turn();
  assert.deepEqual(seen, ['a:failed:failed', 'b:failed:failed', 'c:failed:failed']);
  assert.equal(publisher.heldCalls, 0);
});
