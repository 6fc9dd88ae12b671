/**
 * The loss-and-duplication figures of docs/reliability.md (issue #7 "Faults"):
 *
 *   node --import tsx scripts/reliability-loss.ts [--sessions N] [--concurrency C] [--seed S]
 *
 * For REFER and anchored sessions, N sessions each through lossy UDP relays (test/support/
 * lossy-relay.ts) at 0 % (the baseline), 10 % loss + 5 % duplication + 5 % reordering, and 30 %
 * loss, run C at a time against an in-process server (SipT1 = 50 ms). Prints a Markdown table:
 * sessions completed, failures by code and reason, sessions stuck, SIP retransmissions per
 * session counted on the wire — the server's, the same less the baseline's (what the loss
 * cost rather than the load), the phones' (T1 = 20 ms: they also retransmit whenever an
 * answer takes over 20 ms) — and whether the server was left holding anything.
 * Exits 1 when a session got stuck, an event was duplicated, something was left behind, or a
 * failure had a code other than 408.
 */
import { runLossCase, failureCodes, TIMEOUT_CODES, type LossCase, type LossReport } from '../test/faults/loss-run.js';
import type { LossProfile } from '../test/support/lossy-relay.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} needs a positive integer`);
    process.exit(2);
  }
  return n;
}

const sessions = arg('sessions', 500);
const concurrency = arg('concurrency', 10);
const seed = arg('seed', 1);

const PROFILES: { label: string; profile: LossProfile }[] = [
  { label: 'baseline', profile: { dropToPhone: 0, dropFromPhone: 0, duplicate: 0, reorder: 0 } },
  { label: '10 % loss', profile: { dropToPhone: 0.1, dropFromPhone: 0.1, duplicate: 0.05, reorder: 0.05 } },
  { label: '30 % loss', profile: { dropToPhone: 0.3, dropFromPhone: 0.3, duplicate: 0, reorder: 0 } },
];

const pct = (x: number) => `${Math.round(x * 100)} %`;

function row(r: LossReport, baseline: LossReport | undefined): string {
  const failed = Object.entries(r.failed).map(([k, n]) => `${n} × ${k}`).join(', ') || '—';
  const per = (n: number) => n / r.sessions;
  const server = per(r.retransmissions.server);
  const net = baseline ? (server - baseline.retransmissions.server / baseline.sessions).toFixed(1) : '—';
  const dropped = r.relays.toPhone.dropped + r.relays.fromPhone.dropped;
  const passed = r.relays.toPhone.received + r.relays.fromPhone.received;
  return `| ${r.mode} | ${pct(r.profile.dropToPhone)} | ${pct(r.profile.duplicate)} | ${pct(r.profile.reorder)} | ${r.sessions} | ${r.completed} | ${failed} | ${r.stuck} `
    + `| ${server.toFixed(1)} | ${net} | ${per(r.retransmissions.phones).toFixed(1)} | ${dropped}/${passed} | ${r.longestSessionMs} | ${r.clean && r.eventProblems.length === 0 ? 'yes' : 'NO'} |`;
}

const lines = [
  '| mode | loss each way | dup | reorder | sessions | completed | failed (code reason) | stuck | server retransmissions / session | less baseline | phone retransmissions / session | datagrams dropped / seen | longest session (ms) | clean |',
  '|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|',
];
let bad = false;
const began = Date.now();
// A warm-up run, not reported: the first sessions in a fresh process run on cold code, late
// enough for the phones' 20 ms T1 to fire, which would inflate the baseline.
for (const mode of ['refer', 'anchored'] as const) {
  await runLossCase({ mode, sessions: Math.min(concurrency, sessions), concurrency, profile: PROFILES[0]!.profile, seed });
}
for (const mode of ['refer', 'anchored'] as const) {
  let baseline: LossReport | undefined;
  for (const [i, p] of PROFILES.entries()) {
    const c: LossCase = { mode, sessions, concurrency, profile: p.profile, seed: seed * 100 + i };
    const r = await runLossCase(c);
    if (p.label === 'baseline') baseline = r;
    lines.push(row(r, p.label === 'baseline' ? undefined : baseline));
    console.error(`${mode} ${p.label}: ${r.completed}/${r.sessions} completed in ${(r.durationMs / 1000).toFixed(1)} s`);
    const wrongCodes = failureCodes(r).filter((code) => !TIMEOUT_CODES.has(code));
    if (r.stuck || !r.clean || r.eventProblems.length || r.internalErrors || r.phoneErrors || r.busyPhones || wrongCodes.length) {
      bad = true;
      console.error(`  problems: stuck ${r.stuck}, leftovers ${JSON.stringify(r.leftovers)}, events ${r.eventProblems.slice(0, 5).join('; ')}, `
        + `internal errors ${r.internalErrors}/${r.phoneErrors}, busy phones ${r.busyPhones}, codes ${wrongCodes.join(',')}`);
    }
  }
}
console.log(lines.join('\n'));
console.log(`\n${sessions} sessions per row, ${concurrency} at a time, seed ${seed}, server SipT1 = 50 ms, phones T1 = 20 ms; `
  + `node ${process.version}; ${((Date.now() - began) / 1000).toFixed(0)} s in all.`);
process.exit(bad ? 1 : 0);
