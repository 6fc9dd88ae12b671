// RecordRetentionDays: purges soon after start and daily, in slices; 0 keeps everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRequest } from '../../src/call/request.js';
import { DAY_MS, startRetention } from '../../src/store/retention.js';
import { SqliteCallStore } from '../../src/store/sqlite-store.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2025, 6, 1);

function request(id: string): CallRequest {
  return {
    id, rawInitiator: '1', rawDestination: '2', initiator: 'sip:1@x', destination: 'sip:2@x', mode: 'refer',
    options: { ringTimeoutMs: 1, maxDurationMs: 1, holdOffer: 'none', referNotifyTimeoutMs: 1, transferPolicy: 'handle' },
    client: { address: '127.0.0.1', port: 1, trigger: 'http' },
  };
}

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-ret-'));
  const clock = new FakeClock(T0);
  const store = new SqliteCallStore({ path: join(dir, 'r.db'), timers: clock, reportError: () => {}, batchSize: 10_000 });
  store.open();
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { clock, store };
}

test('purges calls older than the retention, in slices, then again a day later; stop cancels it', (t) => {
  const { clock, store } = setup(t);
  for (let i = 0; i < 25; i++) store.recordStart(request(`old${i}`), T0 - 91 * DAY_MS + i);
  store.recordStart(request('recent'), T0 - 89 * DAY_MS - 1);
  store.flush();
  const purged: number[] = [];
  const errors: unknown[] = [];
  const stop = startRetention(store, 90, clock, { sliceSize: 10, reportError: (e) => errors.push(e), onPurged: (n) => purged.push(n) });
  clock.advance(0);
  assert.deepEqual(purged, [25], 'three slices (10, 10, 5), one report');
  assert.equal(store.list({ limit: 100 }).records.length, 1);

  clock.advance(DAY_MS - 1);
  assert.deepEqual(purged, [25]);
  clock.advance(1);
  assert.deepEqual(purged, [25, 1], 'a day later "recent" is 90 days old');
  assert.equal(store.get('recent'), undefined);

  stop();
  assert.equal(clock.advanceToNext(), false, 'no timer left');
  assert.deepEqual(errors, []);
});

test('RecordRetentionDays 0 keeps records for ever and arms nothing', (t) => {
  const { clock, store } = setup(t);
  store.recordStart(request('ancient'), 0);
  store.flush();
  const stop = startRetention(store, 0, clock, { reportError: () => assert.fail('no error expected') });
  assert.equal(clock.advanceToNext(), false);
  assert.ok(store.get('ancient'));
  stop();
});

test('a failing purge is reported and tried again at the next interval', (t) => {
  const { clock } = setup(t);
  let calls = 0;
  const failing = {
    deleteOlderThan: () => {
      calls++;
      throw new Error('disk I/O error');
    },
  } as unknown as SqliteCallStore;
  const errors: string[] = [];
  const stop = startRetention(failing, 30, clock, { intervalMs: 1000, reportError: (_e, where) => errors.push(where) });
  clock.advance(0);
  clock.advance(1000);
  assert.equal(calls, 2);
  assert.deepEqual(errors, ['store.retention', 'store.retention']);
  stop();
});
