// The WAL checkpoint worker of the record store (store/checkpointer.ts): its failures are
// reported and hand checkpoints back to the store's connection; it never keeps a process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CHECKPOINT_EVERY_COMMITS, WalCheckpointer } from '../../src/store/checkpointer.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-ckpt-'));
  // After hooks run in the order they were added, so this one runs before a test's `c.stop()`:
  // a worker still closing its database may add or remove -wal/-shm files meanwhile (ENOTEMPTY).
  t.after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return dir;
}

/** A WAL database whose connection never checkpoints itself (as the store's), with one table `t`. */
function walWriter(path: string): Database.Database {
  const writer = new Database(path);
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0');
  writer.exec('CREATE TABLE t (x TEXT)');
  return writer;
}

/**
 * CHECKPOINT_EVERY_COMMITS commits of a `bytes`-long row (one checkpoint request), then waits
 * for the worker's n-th result. The process is kept alive meanwhile (the worker is unref'd).
 */
async function commitRound(writer: Database.Database, c: WalCheckpointer, n: number, bytes: number): Promise<void> {
  const insert = writer.prepare('INSERT INTO t VALUES (?)');
  const keepAlive = setInterval(() => {}, 1000);
  try {
    for (let i = 0; i < CHECKPOINT_EVERY_COMMITS; i++) {
      insert.run('x'.repeat(bytes));
      c.committed();
    }
    const deadline = Date.now() + 10_000;
    while (c.checkpoints < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  } finally {
    clearInterval(keepAlive);
  }
  assert.equal(c.checkpoints, n);
}

test('a worker that cannot open the file is reported once and hands checkpoints back', async (t) => {
  const errors: { err: unknown; where: string }[] = [];
  let failed = 0;
  const done = new Promise<void>((resolve) => {
    const c = new WalCheckpointer({
      path: join(tempDir(t), 'missing.db'),
      reportError: (err, where) => errors.push({ err, where }),
      onFailed: () => { failed++; resolve(); },
    });
    t.after(() => c.stop());
  });
  const keepAlive = setTimeout(() => {}, 10_000); // the worker itself keeps nothing alive
  await done;
  clearTimeout(keepAlive);
  await new Promise((r) => setTimeout(r, 100)); // the exit that follows the error is not reported again
  assert.equal(failed, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.where, 'store.checkpoint');
  assert.match(String(errors[0]!.err), /unable to open|no such file|SQLITE_CANTOPEN/i);
});

test('a WAL that checkpoints cannot reset (a reader holds an old snapshot) is reported once, and the writer is asked to help', async (t) => {
  const path = join(tempDir(t), 'pinned.db');
  const writer = walWriter(path);
  const reader = new Database(path, { readonly: true });
  t.after(() => { reader.close(); writer.close(); });
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM t').get(); // the snapshot it keeps: no frame after it can be copied

  const errors: { err: unknown; where: string }[] = [];
  const c = new WalCheckpointer({ path, alarmPages: 20, reportError: (err, where) => errors.push({ err, where }), onFailed: () => assert.fail('the worker failed') });
  t.after(() => c.stop());
  for (let round = 1; round <= 2; round++) {
    await commitRound(writer, c, round, 3000);
    assert.ok(c.last!.log > 20 && c.last!.checkpointed < c.last!.log, JSON.stringify(c.last));
    assert.equal(c.wantsHelp(), true, 'once per result over the limit');
    assert.equal(c.wantsHelp(), false);
  }
  assert.equal(errors.length, 1, 'reported once while it stays over the limit');
  assert.equal(errors[0]!.where, 'store.checkpoint');
  assert.match(String(errors[0]!.err), /holds \d+ pages .*checkpoints cannot reset it/);
});

test('a WAL past the limit but copied whole (a late checkpoint after a burst) is no failure: the writer starts it over', async (t) => {
  const path = join(tempDir(t), 'burst.db');
  const writer = walWriter(path);
  t.after(() => writer.close());
  const errors: unknown[] = [];
  const c = new WalCheckpointer({ path, alarmPages: 100, reportError: (err) => errors.push(err), onFailed: () => assert.fail('the worker failed') });
  t.after(() => c.stop());
  await commitRound(writer, c, 1, 12_000); // ~3 pages a commit: ~200 pages before the first checkpoint
  assert.ok(c.last!.log > 100 && c.last!.checkpointed === c.last!.log, JSON.stringify(c.last));
  assert.equal(c.wantsHelp(), false, 'nothing is left to copy');
  await commitRound(writer, c, 2, 10); // one page a commit
  assert.ok(c.last!.log < 100, `the writer started the WAL over: ${JSON.stringify(c.last)}`);
  assert.deepEqual(errors, []);
});

// The tests run on Debian (README): /proc shows each thread's nice value.
test('the worker thread runs niced, the event loop\'s thread not', async (t) => {
  const path = join(tempDir(t), 'nice.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.close();
  const c = new WalCheckpointer({ path, reportError: (e) => assert.fail(String(e)), onFailed: () => assert.fail('failed') });
  t.after(() => c.stop());
  const niceOf = (tid: string) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const niced = () => readdirSync('/proc/self/task').filter((tid) => niceOf(tid) === 10);
  const deadline = Date.now() + 10_000;
  while (niced().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(niced().length >= 1, 'the worker\'s thread (an earlier test\'s may still be ending)');
  assert.equal(niceOf(String(process.pid)), 0);
  c.stop(); // before the folder is removed (see tempDir)
});

test('stop() before the worker has started: it never opens the file, and nothing is reported', (t) => {
  const errors: unknown[] = [];
  const c = new WalCheckpointer({ path: join(tempDir(t), 'never.db'), reportError: (e) => errors.push(e), onFailed: () => errors.push('failed') });
  c.stop();
  c.stop();
  assert.deepEqual(errors, []);
});

test('an open store does not keep the process alive: its worker is unref\'d', { timeout: 30_000 }, (t) => {
  const path = join(tempDir(t), 'alive.db');
  const script = `
    import { SqliteCallStore } from './src/store/sqlite-store.ts';
    import { realTimers } from './src/sip/timer.ts';
    const store = new SqliteCallStore({ path: ${JSON.stringify(path)}, timers: realTimers, reportError: (e) => { console.error(String(e)); process.exitCode = 3; } });
    store.open();
    store.appendDurable({ callId: 'a', seq: 1, time: Date.now(), kind: 'failed', leg: 'initiator', code: 486, text: '', final: true });
    console.log('open, not closed');
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.trim(), 'open, not closed');
});
