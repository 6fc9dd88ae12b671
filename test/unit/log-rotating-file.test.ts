import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RotatingFileDestination } from '../../src/log/rotating-file.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clicktocall-log-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function linesOf(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

function writeNumbered(dest: RotatingFileDestination, from: number, to: number): void {
  for (let i = from; i <= to; i++) dest.write(`{"n":${i}}\n`);
}

test('25 lines with maxLines 10: x.log has 5, x.log.1 the 10 before, x.log.2 the first 10', async (t) => {
  const file = path.join(tempDir(t), 'x.log');
  const problems: string[] = [];
  const dest = new RotatingFileDestination({ file, maxLines: 10, report: (s) => problems.push(s) });
  writeNumbered(dest, 1, 25);
  await dest.close();
  const n = (f: string) => linesOf(f).map((l) => (JSON.parse(l) as { n: number }).n);
  assert.deepEqual(n(file), [21, 22, 23, 24, 25]);
  assert.deepEqual(n(`${file}.1`), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  assert.deepEqual(n(`${file}.2`), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(fs.existsSync(`${file}.3`), false);
  assert.deepEqual(problems, []);
});

test('keeps at most `keep` old files, the oldest dropped', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'x.log');
  const dest = new RotatingFileDestination({ file, maxLines: 2, keep: 3, report: () => {} });
  writeNumbered(dest, 1, 11); // files of [1,2] [3,4] [5,6] [7,8] [9,10] [11]
  await dest.close();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['x.log', 'x.log.1', 'x.log.2', 'x.log.3']);
  assert.deepEqual(linesOf(file), ['{"n":11}']);
  assert.deepEqual(linesOf(`${file}.1`), ['{"n":9}', '{"n":10}']);
  assert.deepEqual(linesOf(`${file}.3`), ['{"n":5}', '{"n":6}']);
});

test('keep 0 keeps no old file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'x.log');
  const dest = new RotatingFileDestination({ file, maxLines: 3, keep: 0, report: () => {} });
  writeNumbered(dest, 1, 7);
  await dest.close();
  assert.deepEqual(fs.readdirSync(dir), ['x.log']);
  assert.deepEqual(linesOf(file), ['{"n":7}']);
});

test('maxLines 0 never rotates', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'x.log');
  const dest = new RotatingFileDestination({ file, maxLines: 0, report: () => {} });
  writeNumbered(dest, 1, 50);
  await dest.close();
  assert.deepEqual(fs.readdirSync(dir), ['x.log']);
  assert.equal(linesOf(file).length, 50);
});

test('lines an existing file holds count towards maxLines', async (t) => {
  const file = path.join(tempDir(t), 'x.log');
  fs.writeFileSync(file, '{"old":1}\n{"old":2}\n{"old":3}\n');
  const dest = new RotatingFileDestination({ file, maxLines: 4, report: () => {} });
  assert.equal(dest.lineCount, 3);
  writeNumbered(dest, 1, 2);
  await dest.close();
  assert.deepEqual(linesOf(`${file}.1`), ['{"old":1}', '{"old":2}', '{"old":3}', '{"n":1}']);
  assert.deepEqual(linesOf(file), ['{"n":2}']);
});

test('lines gathered below minLength reach the file on flush', async (t) => {
  const file = path.join(tempDir(t), 'x.log');
  const dest = new RotatingFileDestination({ file, maxLines: 0, minLength: 4096, flushDelayMs: 60_000, report: () => {} });
  t.after(() => dest.close());
  writeNumbered(dest, 1, 3);
  await new Promise<void>((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve())));
  assert.deepEqual(linesOf(file), ['{"n":1}', '{"n":2}', '{"n":3}']);
});

test('an unwritable path is reported once, writes are dropped, nothing throws', async (t) => {
  const dir = tempDir(t);
  const notADir = path.join(dir, 'plain-file');
  fs.writeFileSync(notADir, '');
  const problems: string[] = [];
  let now = 0;
  const file = path.join(notADir, 'x.log'); // ENOTDIR, even for root
  const dest = new RotatingFileDestination({ file, maxLines: 10, report: (s) => problems.push(s), now: () => now, retryDelayMs: 1000 });
  assert.equal(dest.isFailing, true);
  writeNumbered(dest, 1, 5);
  now = 5000; // the retry is due, and fails again: not reported again
  writeNumbered(dest, 6, 7);
  await dest.close();
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /x\.log: cannot open: .*ENOTDIR/);
  assert.equal(dest.droppedLines, 7);
});

test('a file that becomes writable again is used after the retry delay', async (t) => {
  const dir = tempDir(t);
  const sub = path.join(dir, 'logs');
  fs.writeFileSync(sub, ''); // a file where the directory should be
  const problems: string[] = [];
  let now = 0;
  const file = path.join(sub, 'x.log');
  const dest = new RotatingFileDestination({ file, maxLines: 10, report: (s) => problems.push(s), now: () => now, retryDelayMs: 1000 });
  dest.write('{"n":1}\n');
  fs.rmSync(sub);
  fs.mkdirSync(sub);
  dest.write('{"n":2}\n'); // before the retry delay: dropped
  now = 1000;
  dest.write('{"n":3}\n');
  await dest.close();
  assert.deepEqual(linesOf(file), ['{"n":3}']);
  assert.equal(dest.droppedLines, 2);
  assert.equal(problems.length, 2);
  assert.match(problems[1]!, /writing again \(2 lines dropped/);
});

test('writes after close are dropped without throwing', async (t) => {
  const file = path.join(tempDir(t), 'x.log');
  const dest = new RotatingFileDestination({ file, maxLines: 10, report: () => {} });
  dest.write('{"n":1}\n');
  await dest.close();
  assert.equal(dest.write('{"n":2}\n'), false);
  assert.deepEqual(linesOf(file), ['{"n":1}']);
});

// Linux: every write to /dev/full fails with ENOSPC.
test('a write error (disk full) is reported once and does not crash', async () => {
  const problems: string[] = [];
  const dest = new RotatingFileDestination({ file: '/dev/full', maxLines: 0, minLength: 0, report: (s) => problems.push(s) });
  writeNumbered(dest, 1, 3);
  // The writes fail asynchronously: wait (bounded) until the failure is seen.
  for (let i = 0; i < 400 && !dest.isFailing; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  writeNumbered(dest, 4, 6);
  await dest.close();
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /write failed: .*ENOSPC/);
  assert.equal(dest.isFailing, true);
  assert.ok(dest.droppedLines >= 3);
});
