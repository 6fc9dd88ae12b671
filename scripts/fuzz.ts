/**
 * The long fuzz campaign (issue 7): `npm run fuzz -- --messages N --seed S --target T`.
 * T is sip-udp | sip-tcp | sip-tls | xml | http | all. Prints progress, inputs/s, findings,
 * internal errors and RSS; saves each finding's input under --out (default fuzz-findings/)
 * and exits 1 when anything was found. Runs of one seed are reproducible input for input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS, runTarget, type TargetName } from '../test/fuzz/targets/index.js';
import type { FuzzReport } from '../test/fuzz/targets/report.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const messages = Number(arg('messages', '1000000'));
const seed = Number(arg('seed', String(Date.now() % 2 ** 31)));
const which = arg('target', 'sip-udp');
const out = arg('out', 'fuzz-findings');
if (!Number.isInteger(messages) || messages <= 0 || !Number.isInteger(seed) || !(which === 'all' || TARGETS.includes(which as TargetName))) {
  process.stderr.write(`usage: npm run fuzz -- --messages N --seed S --target ${TARGETS.join('|')}|all [--out DIR]\n`);
  process.exit(2);
}
const targets = which === 'all' ? TARGETS : [which as TargetName];
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
if (!(globalThis as { gc?: unknown }).gc) process.stdout.write('note: run with node --expose-gc for a settled heap measure\n');

let failed = false;
for (const target of targets) {
  const started = Date.now();
  let last = started;
  process.stdout.write(`fuzz ${target}: ${messages} inputs, seed ${seed}\n`);
  const report: FuzzReport = await runTarget(target, {
    messages, seed,
    onProgress: (done) => {
      const now = Date.now();
      if (now - last < 10_000) return;
      last = now;
      const rate = done / ((now - started) / 1000);
      process.stdout.write(`  ${target} ${done}/${messages} (${rate.toFixed(0)}/s, rss ${mib(process.memoryUsage().rss)})\n`);
    },
  });
  const rate = report.inputs / (report.ms / 1000);
  process.stdout.write(
    `fuzz ${target} done: ${report.inputs} inputs in ${(report.ms / 1000).toFixed(1)} s (${rate.toFixed(0)}/s), `
    + `findings ${report.findings.length}, internal errors ${report.internalErrors}, `
    + `400s ${report.answered400}/${report.expected400}, heap growth ${mib(report.heapGrowthBytes)}, rss ${mib(report.rssBytes)}, `
    + `${Object.entries(report.extra).map(([k, v]) => `${k} ${v}`).join(', ')}\n`,
  );
  if (report.findings.length > 0) {
    failed = true;
    mkdirSync(out, { recursive: true });
    report.findings.forEach((f, n) => {
      const base = join(out, `${target}-seed${seed}-${n}-${f.kind}`);
      writeFileSync(`${base}.txt`, `${f.kind} at input ${f.index ?? '?'} (target ${target}, seed ${seed})\n${f.detail}\n`);
      if (f.input) writeFileSync(`${base}.bin`, f.input);
      process.stdout.write(`  FINDING ${f.kind} at input ${f.index ?? '?'}: ${f.detail.split('\n')[0]} → ${base}.*\n`);
    });
  }
}
process.exit(failed ? 1 : 0);
