import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyRing } from '../../src/api/rest/api-keys.js';
import { EventLog } from '../../src/api/rest/event-log.js';
import { fingerprintOf, IdempotencyCache } from '../../src/api/rest/idempotency.js';
import { decodeCursor, encodeCursor, parseSince } from '../../src/api/rest/resource.js';
import { EventPublisher } from '../../src/call/publisher.js';
import type { CallEvent } from '../../src/call/events.js';
import { sha256 } from '../support/rest-fixture.js';

const ev = (callId: string, seq: number, kind: CallEvent['kind'] = 'ringing'): CallEvent =>
  ({ callId, seq, time: 1000 + seq, kind, leg: undefined, code: 180, text: kind, final: kind === 'failed' });

test('ApiKeyRing: finds the key by its SHA-256, ignores malformed hashes, and limits per key', () => {
  let now = 0;
  const ring = new ApiKeyRing([
    { name: 'a', sha256: sha256('key-a') },
    { name: 'b', sha256: sha256('key-b'), callsPerSecond: 1 },
    { name: 'broken', sha256: 'xyz' },
  ], () => now);
  assert.equal(ring.size, 2);
  assert.deepEqual(ring.match('key-a'), { name: 'a' });
  assert.deepEqual(ring.match('key-b'), { name: 'b', callsPerSecond: 1 });
  assert.equal(ring.match('key-c'), undefined);
  assert.equal(ring.match(''), undefined);
  const b = ring.match('key-b')!;
  assert.deepEqual(ring.take(b), { ok: true });
  assert.deepEqual(ring.take(b), { ok: false, retryAfterS: 1 });
  now = 500;
  assert.equal(ring.take(b).ok, false);
  now = 1000;
  assert.equal(ring.take(b).ok, true);
  for (let i = 0; i < 100; i++) assert.equal(ring.take(ring.match('key-a')!).ok, true, 'no callsPerSecond: no limit here');
});

test('EventLog: ids start at the start time × 1000 and increase; the ring and the history are bounded; detach unsubscribes', () => {
  const publisher = new EventPublisher();
  const log = new EventLog({ now: () => 1_700_000_000_000, ringSize: 3, historyCalls: 2 });
  log.attach(publisher);
  log.attach(publisher);
  publisher.publish(ev('a', 1));
  assert.equal(log.lastId, 1_700_000_000_000_001);
  publisher.publish(ev('a', 2));
  publisher.publish(ev('b', 1));
  publisher.publish(ev('c', 1));
  assert.equal(log.lastId, 1_700_000_000_000_004, 'attached once: one id per event');
  const all = log.since(0);
  assert.deepEqual(all.events.map((e) => e.id), [1_700_000_000_000_002, 1_700_000_000_000_003, 1_700_000_000_000_004]);
  assert.equal(all.complete, false);
  assert.equal(log.since(1_700_000_000_000_001).complete, true);
  assert.deepEqual(log.since(1_700_000_000_000_003).events.map((e) => e.event.callId), ['c']);
  assert.equal(log.call('a'), undefined, 'the oldest call left the history');
  assert.equal(log.call('c')?.record.events.length, 1);
  log.detach();
  publisher.publish(ev('d', 1));
  assert.equal(log.lastId, 1_700_000_000_000_004);
});

test('EventLog: a call\'s history keeps each event\'s global id beside it, in seq order even when an event arrives late; a duplicate gets none; streams get each event once', () => {
  const publisher = new EventPublisher();
  const log = new EventLog({ now: () => 1_000, ringSize: 10 });
  log.attach(publisher);
  const seen: number[] = [];
  const stop = log.listen((e) => seen.push(e.id));
  publisher.publish(ev('a', 1));
  publisher.publish(ev('a', 3));
  publisher.publish(ev('a', 2)); // late: goes between 1 and 3
  publisher.publish(ev('a', 3)); // a duplicate: no entry, but it has an id in the ring
  stop();
  const entry = log.call('a')!;
  assert.deepEqual(entry.record.events.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(entry.ids, [1_000_001, 1_000_003, 1_000_002]);
  assert.deepEqual(seen, [1_000_001, 1_000_002, 1_000_003, 1_000_004]);
  assert.deepEqual(log.since(1_000_002).events.map((e) => [e.id, e.event.seq]), [[1_000_003, 2], [1_000_004, 3]]);
});

test('EventLog: the ring keeps fields, not the events, and gives back equal events (optional fields included)', () => {
  const publisher = new EventPublisher();
  const log = new EventLog({ now: () => 5_000, ringSize: 4 });
  log.attach(publisher);
  const first: CallEvent = {
    callId: 'x', seq: 1, time: 1_795_000_000_123, kind: 'initiated', leg: undefined, code: 100, text: 'In progress', final: false,
    translatedInitiator: 'sip:100@pbx', translatedDestination: 'sip:200@pbx',
  };
  const failed: CallEvent = { callId: 'x', seq: 2, time: 1_795_000_000_456, kind: 'failed', leg: 'destination', code: 486, text: 'Failed to connect to destination', final: true, reason: 'busy' };
  publisher.publish(first);
  publisher.publish(failed);
  const back = log.since(0).events;
  assert.deepEqual(back.map((e) => e.event), [first, failed]);
  assert.notEqual(back[0]!.event, first, 'made again from the ring, not the object published');
  // The SSE data line is the same text as the live event's.
  assert.equal(JSON.stringify(back[0]!.event), JSON.stringify(first));
  assert.equal(JSON.stringify(back[1]!.event), JSON.stringify(failed));
  assert.equal('reason' in back[0]!.event, false, 'an absent optional field stays absent');
});

test('EventLog with historyForAll false: only described calls get history, with the events published before describe and their ids', () => {
  const publisher = new EventPublisher();
  const log = new EventLog({ now: () => 7_000, ringSize: 100, historyForAll: false });
  log.attach(publisher);
  publisher.publish(ev('other', 1));
  publisher.publish(ev('rest', 1));
  publisher.publish(ev('other', 2));
  assert.equal(log.call('other'), undefined, 'not described: the store answers for it');
  assert.equal(log.call('rest'), undefined);
  log.describe({
    id: 'rest', rawInitiator: '100', rawDestination: '200', initiator: 'sip:100@pbx', destination: 'sip:200@pbx', mode: 'refer',
    options: {} as never, client: { address: '127.0.0.1', port: 1, trigger: 'rest' },
  }, { statusCallback: 'http://127.0.0.1:9/cb' });
  publisher.publish(ev('rest', 2));
  const entry = log.call('rest')!;
  assert.deepEqual(entry.record.events.map((e) => e.seq), [1, 2]);
  assert.deepEqual(entry.ids, [7_000_002, 7_000_004]);
  assert.equal(entry.record.createdAt, 1001, 'created when its first event was');
  assert.equal(entry.extras.statusCallback, 'http://127.0.0.1:9/cb');
  assert.equal(log.call('other'), undefined);
});

test('IdempotencyCache: replay, mismatch, scope, expiry and bound', () => {
  let now = 0;
  const cache = new IdempotencyCache(2, 1000, () => now);
  const fp = fingerprintOf({ b: [1, { y: 2, x: 1 }], a: 'x' });
  assert.equal(fp, fingerprintOf({ a: 'x', b: [1, { x: 1, y: 2 }] }), 'key order does not matter');
  assert.notEqual(fp, fingerprintOf({ a: 'x', b: [{ x: 1, y: 2 }, 1] }), 'array order does');
  assert.deepEqual(cache.lookup('s', 'k', fp), { kind: 'new' });
  cache.remember('s', 'k', { fingerprint: fp, callId: 'c1', status: 201 });
  assert.equal(cache.lookup('s', 'k', fp).kind, 'replay');
  assert.equal(cache.lookup('s', 'k', 'other').kind, 'mismatch');
  assert.equal(cache.lookup('t', 'k', fp).kind, 'new', 'another caller has its own keys');
  now = 1001;
  assert.equal(cache.lookup('s', 'k', fp).kind, 'new', 'expired');
  for (const k of ['1', '2', '3']) cache.remember('s', k, { fingerprint: fp, callId: k, status: 201 });
  assert.equal(cache.size, 2);
  assert.equal(cache.lookup('s', '1', fp).kind, 'new');
});

test('cursor and since parsing', () => {
  assert.deepEqual(decodeCursor(encodeCursor({ createdAt: 5, id: 'x' })), { createdAt: 5, id: 'x' });
  assert.equal(decodeCursor('not-a-cursor'), undefined);
  assert.equal(parseSince('1700000000000'), 1_700_000_000_000);
  assert.equal(parseSince('2024-01-01T00:00:00Z'), Date.UTC(2024, 0, 1));
  assert.equal(parseSince('2024-01-01'), Date.UTC(2024, 0, 1));
  assert.equal(parseSince('yesterday'), undefined);
});

test('the anonymous loopback exception refuses a foreign Host (DNS rebinding)', async () => {
  const { isLoopbackHost } = await import('../../src/api/rest/auth.js');
  assert.equal(isLoopbackHost('127.0.0.1:5095'), true);
  assert.equal(isLoopbackHost('localhost'), true);
  assert.equal(isLoopbackHost('[::1]:5095'), true);
  assert.equal(isLoopbackHost(undefined), true);
  assert.equal(isLoopbackHost('evil.example:5095'), false);
  assert.equal(isLoopbackHost('127.0.0.1.evil.example'), false);
});
