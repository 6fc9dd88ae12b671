/**
 * `bench/run.ts --quick --no-record --only c2c,hold,soak` runs end to end against the compiled
 * server (dist/cli.js) with SIPp phones: it exits 0, every scenario × interface completed
 * sessions and none failed (a session counts only when both phones ran their scenario to the end
 * and the right final event arrived), the echo ceiling is printed beside the figures, the held
 * calls and the soak left no call, transaction or dialog behind. It asserts nothing about speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUN_LIMIT_MS = 115_000;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function runQuickC2c(): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--no-record', '--only', 'c2c,hold,soak'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The bench kills its server and SIPp children on SIGTERM and on exit.
    const limit = setTimeout(() => child.kill('SIGTERM'), RUN_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function snapshot(): { results: string[]; docs: string | undefined } {
  const dir = join(root, 'bench', 'results');
  const docs = join(root, 'docs', 'benchmarks.md');
  return {
    results: existsSync(dir) ? readdirSync(dir).sort() : [],
    docs: existsSync(docs) ? readFileSync(docs, 'utf8') : undefined,
  };
}

const prerequisites = [
  [existsSync(join(root, 'dist', 'cli.js')), 'dist/cli.js (npm run build)'],
  [existsSync('/usr/bin/sipp'), '/usr/bin/sipp (Debian sip-tester)'],
] as const;

test('bench --quick --only c2c,hold,soak: every session of every scenario succeeds, state drains', { timeout: RUN_LIMIT_MS + 10_000 }, async () => {
  for (const [present, what] of prerequisites) assert.ok(present, `missing ${what}`);
  const before = snapshot();
  const run = await runQuickC2c();
  assert.equal(run.signal, null, `bench was killed (over ${RUN_LIMIT_MS} ms?)\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 0, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`);

  // The ceiling, measured in the same run, is printed beside the figures.
  const echo = /echo ceiling \(raw Node UDP, same pinning\): ([\d.]+[kM]?) datagrams\/s/.exec(run.stdout);
  assert.ok(echo, `the echo ceiling is printed\n${run.stdout}`);

  for (const [scenario, via] of [['refer', 'xml'], ['anchored', 'xml'], ['fallback', 'xml'], ['mix', 'xml'], ['refer', 'rest'], ['refer', 'get']]) {
    const line = run.stdout.split('\n').find((l) => l.trimStart().startsWith(`c2c ${scenario}/${via} `));
    assert.ok(line, `a result line for ${scenario} via ${via}\n${run.stdout}`);
    const m = /sessions\/s (\d+) .* completed (\d+) failed (\d+)/.exec(line);
    assert.ok(m, `the ${scenario}/${via} line reports its counts: ${line}`);
    assert.ok(Number(m[2]) > 0, `${scenario}/${via}: some sessions completed`);
    assert.equal(Number(m[3]), 0, `${scenario}/${via}: no session failed`);
    assert.ok(Number(m[1]) > 0, `${scenario}/${via}: a non-zero rate`);
  }
  assert.match(run.stdout, /request→INVITE [\d.]+\/[\d.]+\/[\d.]+ {2}request→Connected [\d.]+\/[\d.]+\/[\d.]+/, 'latencies are printed');
  assert.match(run.stdout, /CPU s per 1000 sessions, RSS \d+ MiB/, 'CPU and memory are printed');
  assert.match(run.stdout, /% of echo/, 'the ratio to the echo ceiling is printed');

  const hold = /hold (\d+): connected (\d+) in/.exec(run.stdout);
  assert.ok(hold, 'the hold test ran');
  assert.equal(hold[2], hold[1], 'every held call connected');
  assert.match(run.stdout, /hold \d+:[^\n]*\n[^\n]*left after \d+ s: calls 0 transactions 0 dialogs 0; phone failures 0/, 'held calls leave nothing behind');

  const soak = /soak: completed (\d+) failed (\d+);.*\((drained|NOT drained)\)/.exec(run.stdout);
  assert.ok(soak, 'the soak ran');
  assert.ok(Number(soak[1]) > 0);
  assert.equal(Number(soak[2]), 0, 'no soak session failed');
  assert.equal(soak[3], 'drained', 'calls, transactions and dialogs back to zero after the soak');
  assert.match(run.stdout, /^result: all completed/m);

  // --no-record: neither a JSON file nor a docs row.
  assert.deepEqual(snapshot(), before);
});
