// The log's byte-gathering writer (src/log/line-writer.ts): every line, whole and in order,
// across chunks, short writes and a full non-blocking pipe; bounded; errors reported, not thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineWriter } from '../../src/log/line-writer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempFile(t: { after(fn: () => void): void }): { path: string; fd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-linewriter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'out.log');
  return { path, fd: openSync(path, 'a') };
}

/** Lines of varied length, some with characters of 2, 3 and 4 UTF-8 bytes, some longer than a chunk. */
function lines(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = i % 97 === 0 ? 'L'.repeat(3000) : i % 5 === 0 ? `é€😀${'ü'.repeat(i % 40)}` : 'x'.repeat(i % 300);
    out.push(`{"n":${i},"msg":"${body}"}\n`);
  }
  return out;
}

test('every line reaches the file whole and in order, across chunks smaller than some lines, multi-byte text included', async (t) => {
  const { path, fd } = tempFile(t);
  const w = new LineWriter({ fd, minLength: 0, maxLength: 64 * 1024 * 1024, chunkBytes: 1024 });
  const all = lines(3000);
  let i = 0;
  for (const l of all) {
    assert.equal(w.write(l), true);
    if (++i % 100 === 0) await sleep(0); // writes complete between bursts
  }
  const closed = new Promise((r) => w.once('close', r));
  w.end();
  await closed;
  assert.equal(readFileSync(path, 'utf8'), all.join(''));
  assert.equal(w.write('late\n'), false, 'a line after end() is refused');
});

test('an empty line, then one longer than a chunk: both written, nothing stuck', async (t) => {
  const { path, fd } = tempFile(t);
  t.after(() => closeSync(fd));
  const w = new LineWriter({ fd, minLength: 0, maxLength: 1 << 20, chunkBytes: 1024, ownsFd: false });
  w.write('');
  const long = `${'q'.repeat(3000)}\n`;
  w.write(long);
  const flushed = await Promise.race([
    new Promise<boolean>((resolve, reject) => w.flush((err) => (err ? reject(err) : resolve(true)))),
    sleep(2000).then(() => false),
  ]);
  assert.equal(flushed, true, 'flush called back');
  assert.equal(readFileSync(path, 'utf8'), long);
  assert.equal(w.pendingBytes, 0);
});

test('below minLength lines wait for flush(), whose callback runs once they are written', async (t) => {
  const { path, fd } = tempFile(t);
  t.after(() => closeSync(fd));
  const w = new LineWriter({ fd, minLength: 4096, maxLength: 1 << 20, ownsFd: false });
  w.write('{"a":1}\n');
  w.write('{"b":2}\n');
  await sleep(20);
  assert.equal(readFileSync(path, 'utf8'), '', 'gathered, not written');
  assert.equal(w.pendingBytes, 16);
  await new Promise<void>((resolve, reject) => w.flush((err) => (err ? reject(err) : resolve())));
  assert.equal(readFileSync(path, 'utf8'), '{"a":1}\n{"b":2}\n');
  assert.equal(w.pendingBytes, 0);
  w.write(`{"c":"${'z'.repeat(5000)}"}\n`); // past minLength: written without a flush
  await sleep(30);
  assert.ok(readFileSync(path, 'utf8').endsWith(`${'z'.repeat(5000)}"}\n`));
});

test('flushSync writes what is gathered before it returns', (t) => {
  const { path, fd } = tempFile(t);
  t.after(() => closeSync(fd));
  const w = new LineWriter({ fd, minLength: 1 << 20, maxLength: 1 << 22, chunkBytes: 1024, ownsFd: false });
  const all = lines(200);
  for (const l of all) w.write(l);
  w.flushSync();
  assert.equal(readFileSync(path, 'utf8'), all.join(''));
  assert.equal(w.pendingBytes, 0);
});

/** A named pipe, its non-blocking reading end (nothing read until the test reads) and its writing end. */
function fifo(t: { after(fn: () => void): void }): { reader: number; writer: number; drain(): string } {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-linewriter-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  t.after(() => {
    try { closeSync(reader); } catch { /* the test closed it */ }
    rmSync(dir, { recursive: true, force: true });
  });
  const chunk = Buffer.alloc(65536);
  return {
    reader,
    writer,
    drain() {
      let text = '';
      for (;;) {
        try {
          const n = readSync(reader, chunk, 0, chunk.length, null);
          if (n <= 0) return text;
          text += chunk.toString('utf8', 0, n);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return text;
          throw err;
        }
      }
    },
  };
}

test('a full non-blocking pipe (EAGAIN) is retried until its reader catches up: nothing lost, nothing reordered', async (t) => {
  const pipe = fifo(t);
  const w = new LineWriter({ fd: pipe.writer, minLength: 0, maxLength: 8 * 1024 * 1024, retryDelayMs: 5 });
  const all = lines(2000); // ~500 KB: several times what a pipe holds
  for (const l of all) w.write(l);
  let got = '';
  for (let i = 0; i < 400 && got.length < all.join('').length; i++) {
    await sleep(5);
    got += pipe.drain();
  }
  assert.equal(got, all.join(''));
  assert.equal(w.pendingBytes, 0);
  w.destroy();
});

test('beyond maxLength lines are dropped (and said so), never queued without bound', async (t) => {
  const pipe = fifo(t);
  const w = new LineWriter({ fd: pipe.writer, minLength: 0, maxLength: 256 * 1024, retryDelayMs: 5 });
  const dropped: string[] = [];
  w.on('drop', (line: string) => dropped.push(line));
  const line = `{"msg":"${'y'.repeat(1000)}"}\n`;
  let accepted = 0;
  for (let i = 0; i < 2000; i++) if (w.write(line)) accepted++;
  assert.ok(dropped.length > 0, 'some lines dropped');
  assert.equal(accepted + dropped.length, 2000);
  assert.ok(w.pendingBytes <= 256 * 1024, `pending ${w.pendingBytes}`);
  // What was accepted still arrives whole once the reader reads.
  let got = '';
  for (let i = 0; i < 200 && got.length < accepted * line.length; i++) {
    await sleep(5);
    got += pipe.drain();
  }
  assert.equal(got, line.repeat(accepted));
  w.destroy();
});

test('a failing write is reported once as an error and the writer is destroyed; nothing throws', async (t) => {
  const pipe = fifo(t);
  closeSync(pipe.reader); // no reader: the next write fails with EPIPE
  const w = new LineWriter({ fd: pipe.writer, minLength: 0, maxLength: 1 << 20 });
  const errors: Error[] = [];
  w.on('error', (err: Error) => errors.push(err));
  const closed = new Promise((r) => w.once('close', r));
  assert.doesNotThrow(() => w.write('{"msg":"into a broken pipe"}\n'));
  await closed;
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as NodeJS.ErrnoException).code, 'EPIPE');
  assert.equal(w.destroyed, true);
  assert.equal(w.write('{"msg":"after"}\n'), false);
  await new Promise<void>((resolve) => w.flush((err) => { assert.ok(err); resolve(); }));
});
