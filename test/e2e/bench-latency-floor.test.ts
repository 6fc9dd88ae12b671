/**
 * `bench/latency-floor.ts` (docs/benchmarks.md, fifteenth round) runs end to end: its model
 * server on the server's core, its driver and phones on the other, every request answered by
 * an INVITE and timed, none lost, on ports the system chose. It asserts nothing about speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the latency-floor model times every request of a short run and loses none', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [
      '--import', 'tsx', 'bench/latency-floor.ts', '--rate', '300', '--duration', '2', '--alloc', '2000', '--keep', '200', '--burn-us', '1',
    ], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (c) => {
      clearTimeout(limit);
      resolve({ code: c, stdout: out, stderr: err });
    });
  });
  assert.equal(code, 0, `exit ${code}: ${stderr}`);
  assert.match(stdout, /rate 300\/s for 2 s, alloc 2000 B\/session, keep 200 B for 300 ms, burn 1 µs\/message/);
  const m = /p50 ([\d.]+) p99 ([\d.]+) max ([\d.]+); over 2 ms ([\d.]+) %; (\d+) measured, (\d+) lost; server core ([\d.]+) % busy/.exec(stdout);
  assert.ok(m, stdout);
  const [p50, p99, max] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  // 600 requests; the first fifth of the run (120) is warm-up, not measured.
  assert.equal(Number(m[5]), 480, 'every request after the warm-up timed');
  assert.equal(Number(m[6]), 0, 'no request without its INVITE');
  assert.ok(p50 > 0 && p50 <= p99 && p99 <= max, stdout);
  assert.ok(Number(m[7]) > 0, 'the model server\'s CPU is read from /proc');
});
