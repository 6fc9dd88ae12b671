/**
 * `bench/run.ts --quick --no-record` runs end to end: it exits 0, prints every section of the
 * table with non-zero rates, and no call or transaction failed. It asserts nothing about speed
 * (the CI machine's figures mean nothing); it only proves that the benchmark still works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUN_LIMIT_MS = 40_000;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function runQuickBench(): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--no-record'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Its own children exit when their IPC channel to it closes, so killing it cleans up all.
    const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** "68k" → 68000, "1.30k" → 1300, "85.6M" → 85600000, "847" → 847, "—" → NaN. */
function rateOf(text: string): number {
  const m = /^([\d.]+)([kM]?)$/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'k' ? 1e3 : 1);
}

/** The median column of the table row whose label is `label`. */
function medianOf(stdout: string, label: string): number {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(label + ' '));
  assert.ok(line, `the table has a "${label}" row`);
  const after = line.trimStart().slice(label.length).trim();
  return rateOf(after.split(/\s+/)[0]!);
}

function snapshot(): { results: string[]; docs: string | undefined } {
  const dir = join(root, 'bench', 'results');
  const docs = join(root, 'docs', 'benchmarks.md');
  return {
    results: existsSync(dir) ? readdirSync(dir).sort() : [],
    docs: existsSync(docs) ? readFileSync(docs, 'utf8') : undefined,
  };
}

test('bench --quick --no-record completes, prints every rate, and nothing failed', { timeout: RUN_LIMIT_MS + 10_000 }, async () => {
  const before = snapshot();
  const run = await runQuickBench();
  assert.equal(run.signal, null, `bench was killed (over ${RUN_LIMIT_MS} ms?)\n${run.stderr}`);
  assert.equal(run.code, 0, `bench exited ${run.code}\n${run.stdout}\n${run.stderr}`);

  for (const label of ['parse', 'serialize-unmodified', 'serialize-rebuilt', 'parse+serialize', 'parse+modify+serialize', 'parse+accessors']) {
    assert.ok(medianOf(run.stdout, label) > 0, `${label} has a non-zero rate`);
  }
  assert.ok(medianOf(run.stdout, 'echo round trips') > 0, 'the UDP echo has a non-zero rate');
  assert.ok(medianOf(run.stdout, 'echo datagrams') > 0);
  assert.ok(medianOf(run.stdout, 'INVITE calls') > 0, 'calls completed');
  assert.ok(medianOf(run.stdout, 'OPTIONS transactions') > 0, 'OPTIONS completed');

  // Zero failed and zero unfinished calls and transactions, and at least one completed.
  for (const kind of ['INVITE calls', 'OPTIONS transactions']) {
    const line = run.stdout.split('\n').find((l) => l.trimStart().startsWith(kind))!;
    const m = /completed (\d+) failed (\d+) incomplete (\d+)/.exec(line);
    assert.ok(m, `the ${kind} row reports its counts: ${line}`);
    assert.ok(Number(m[1]) > 0, `${kind}: some completed`);
    assert.equal(Number(m[2]), 0, `${kind}: none failed`);
    assert.equal(Number(m[3]), 0, `${kind}: none left unfinished`);
  }
  assert.match(run.stdout, /call msgs vs echo dgrams\s+\d+(\.\d+)? %/, 'the stack/echo ratio is printed');
  assert.match(run.stdout, /machine: .+ · \d+ cores · Node v\d+/);
  assert.match(run.stdout, /^result: all completed/m);

  // --no-record: neither a JSON file nor a docs row.
  assert.deepEqual(snapshot(), before);
});
