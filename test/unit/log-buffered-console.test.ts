import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferedConsole } from '../../src/log/buffered-console.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('lines gather below minLength and reach the descriptor at most flushDelayMs later; a full buffer is written at once; close writes the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-console-'));
  const file = join(dir, 'out.txt');
  const fd = openSync(file, 'a');
  try {
    const out = new BufferedConsole({ fd, minLength: 1024, flushDelayMs: 30 });
    out.write('{"msg":"one"}\n');
    out.write('{"msg":"two"}\n');
    assert.equal(readFileSync(file, 'utf8'), '', 'gathered, not written line by line');
    await sleep(150);
    assert.equal(readFileSync(file, 'utf8'), '{"msg":"one"}\n{"msg":"two"}\n');
    const long = `{"msg":"${'x'.repeat(1100)}"}\n`;
    out.write(long);
    await sleep(5); // the asynchronous write of a full buffer, long before the flush delay
    assert.ok(readFileSync(file, 'utf8').endsWith(long));
    out.write('{"msg":"last"}\n');
    out.close();
    assert.ok(readFileSync(file, 'utf8').endsWith('{"msg":"last"}\n'), 'close writes synchronously');
    assert.equal(out.droppedLines, 0);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A named pipe with a reader that never reads (closed at once when `closeReader`), and its writing end. */
function fifo(closeReader: boolean): { writer: number; done(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-console-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  let reader: number | undefined = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  if (closeReader) { closeSync(reader); reader = undefined; }
  return {
    writer,
    async done() {
      if (reader !== undefined) closeSync(reader); // a write in flight fails (EPIPE): the console gives up
      await sleep(50);
      closeSync(writer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a console whose reader went away (EPIPE) is given up: lines are dropped and counted, nothing throws', async () => {
  const pipe = fifo(true);
  try {
    const out = new BufferedConsole({ fd: pipe.writer, minLength: 0, flushDelayMs: 10 });
    out.write('{"msg":"into a broken pipe"}\n');
    for (let i = 0; i < 50 && out.droppedLines === 0; i++) {
      await sleep(20);
      out.write('{"msg":"again"}\n');
    }
    assert.ok(out.droppedLines > 0, 'later lines are dropped');
    out.close();
  } finally {
    await pipe.done();
  }
});

test('a reader that falls behind: beyond maxBuffered lines are dropped and counted, never queued without bound', async () => {
  const pipe = fifo(false);
  try {
    const out = new BufferedConsole({ fd: pipe.writer, minLength: 0, flushDelayMs: 10, maxBuffered: 16 * 1024 });
    const line = `{"msg":"${'y'.repeat(1000)}"}\n`;
    for (let i = 0; i < 200 && out.droppedLines === 0; i++) {
      out.write(line);
      await sleep(1);
    }
    assert.ok(out.droppedLines > 0, 'lines beyond the pipe and maxBuffered are dropped');
  } finally {
    await pipe.done();
  }
});
