// Issue 5: "a crash loses no record of a call whose final event was emitted". A child process
// writes calls through the SQLite store and is killed with SIGKILL in mid-stream; every final
// it reported must be in the file, and the calls it left open become `interrupted`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { realTimers } from '../../src/sip/timer.js';
import { SqliteCallStore } from '../../src/store/sqlite-store.js';

const FINALS_BEFORE_KILL = 300;

test('SIGKILL mid-stream loses no reported final; open calls are marked interrupted', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'data', 'calls.db');
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'support', 'store-crash-child.ts'), path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));

  // Every line reported before the kill (including any that raced with it) is a promise to keep.
  const reported = new Map<string, Set<string>>();
  const lines = createInterface({ input: child.stdout });
  const linesClosed = new Promise<void>((resolve) => lines.once('close', resolve));
  let finals = 0;
  lines.on('line', (line) => {
    const [word, id, kind] = line.split(' ');
    if (word !== 'final' || !id || !kind) return;
    let kinds = reported.get(id);
    if (!kinds) reported.set(id, (kinds = new Set()));
    kinds.add(kind);
    if (++finals === FINALS_BEFORE_KILL) child.kill('SIGKILL');
  });
  const how = await exited;
  await linesClosed;
  assert.equal(how, 'SIGKILL', `the child was killed, not ended on its own (stderr: ${stderr})`);
  assert.ok(finals >= FINALS_BEFORE_KILL, `got ${finals} finals`);
  assert.equal(stderr, '');

  const store = new SqliteCallStore({ path, timers: realTimers, reportError: (e) => assert.fail(String(e)) });
  store.open();
  t.after(() => store.close());

  for (const [id, kinds] of reported) {
    const r = store.get(id);
    assert.ok(r, `call ${id} reported ${[...kinds].join('+')} is in the file`);
    if (kinds.has('completed')) assert.equal(r.state, 'completed', id);
    else if (kinds.has('failed')) {
      assert.equal(r.state, 'failed', id);
      assert.equal(r.finalCode, 486);
      assert.equal(r.reason, 'initiator-failed');
    } else {
      assert.ok(kinds.has('connected'));
      assert.ok(r.state === 'connected' || r.state === 'completed', `${id}: ${r.state}`);
      assert.equal(r.finalCode, 200);
      assert.ok(r.legs.destination.answeredAt !== undefined);
    }
    // Events queued before a durable write went with it.
    assert.equal(r.events[0]?.kind, 'initiated', id);
  }

  const open = store.list({ limit: 1000, state: 'in-progress' }).records.length
    + store.list({ limit: 1000, state: 'connected' }).records.length;
  assert.ok(open >= 3, `calls left open by the kill: ${open}`);
  const at = Date.now();
  assert.equal(store.markInterrupted(at), open);
  assert.equal(store.list({ limit: 1000, state: 'in-progress' }).records.length, 0);
  assert.equal(store.list({ limit: 1000, state: 'connected' }).records.length, 0);
  const interrupted = store.list({ limit: 1000, state: 'interrupted' }).records;
  assert.equal(interrupted.length, open);
  assert.ok(interrupted.every((r) => r.endedAt === at && r.reason === 'restart'));
});
