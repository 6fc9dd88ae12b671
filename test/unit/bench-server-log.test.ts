/**
 * The load bench deletes each server's folder after its run: when the server counted internal
 * errors, the run keeps the first of them as the server logged them, so a rare one (a store
 * error in one 60-s mix run of session 18) can be read afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalErrorLines } from '../../bench/c2c/bench-server.js';

const line = (msg: string, extra = '') => JSON.stringify({ level: msg === 'internal error' ? 50 : 30, msg, ...(extra ? { where: extra } : {}) });

test('the internal-error lines of the log, rotated files first, at most max, each cut to 600 characters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-log-'));
  try {
    writeFileSync(join(dir, 'clicktocall.log.1'), [line('call ended'), line('internal error', 'store'), ''].join('\n'));
    writeFileSync(join(dir, 'clicktocall.log'), [line('internal error', 'x'.repeat(1000)), line('call ended'), line('internal error', 'sip receive')].join('\n'));
    writeFileSync(join(dir, 'bench.config'), line('internal error', 'not a log'));
    const all = internalErrorLines(dir, 10);
    assert.equal(all.length, 3);
    assert.match(all[0]!, /"where":"store"/, 'the rotated (older) file first');
    assert.equal(all[1]!.length, 600);
    assert.match(all[2]!, /"where":"sip receive"/);
    assert.deepEqual(internalErrorLines(dir, 1), [all[0]]);
    assert.deepEqual(internalErrorLines(join(dir, 'missing')), [], 'no folder: nothing, no throw');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
