/**
 * The click-to-call part of the bench output: the table printed on stdout, and the rows for the
 * three click-to-call tables of docs/benchmarks.md (sessions, held calls, soak).
 */
import type { MachineInfo } from '../machine.js';
import { formatRate } from '../stats.js';
import type { HoldResult } from './hold.js';
import type { LatencySummary } from './percentiles.js';
import { clockNote, type SustainedResult } from './search.js';
import type { C2cSection } from './section.js';
import type { SoakResult } from './soak.js';
import { quantileBound, shareOver, type GcPauses, type Histogram } from './server-metrics.js';
import type { StepResult } from './step.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

export const C2C_TARGETS = {
  /** Issue 6: REFER via XML, 60 s, zero failures. */
  referXmlPerSec: 3000,
  anchoredPerSec: 2000,
  restGetPerSec: 2000,
  /** Request → initiator INVITE p99 at half the sustained rate. */
  inviteP99Ms: 2,
  /** 100k anchored calls held. */
  hold100kRssBytes: 1.5 * 2 ** 30,
};

export function targetFor(r: SustainedResult): number | undefined {
  if (r.via !== 'xml') return r.scenario === 'refer' || r.scenario === 'anchored' ? C2C_TARGETS.restGetPerSec : undefined;
  if (r.scenario === 'refer') return C2C_TARGETS.referXmlPerSec;
  if (r.scenario === 'anchored') return C2C_TARGETS.anchoredPerSec;
  return undefined;
}

const ms = (x: number | undefined) => (x === undefined ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(0));
const lat = (l: LatencySummary) => `${ms(l.p50)}/${ms(l.p99)}/${ms(l.max)}`;
/** request→INVITE, or why a run has none: the wall clock stepped during it (clock.ts). */
const inviteLat = (s: StepResult) => lat(s.requestToInvite) + clockNote(s);
/** ` (in the server ≤ 0.50)`: the server's own part of that p99, as its histogram bounds it. */
function insideCell(h: Histogram | undefined): string {
  const p99 = h && quantileBound(h, 0.99);
  return p99 === undefined ? '' : ` (in the server ≤ ${p99 === Infinity ? '∞' : ms(p99 * 1000)})`;
}

/** `p99 ≤ 0.25 ms (histogram bound), 0.1 % over 2 ms, mean 0.08 ms over 34,000 requests`. */
function insideText(h: Histogram): string {
  if (h.count === 0) return 'no requests counted';
  const p99 = quantileBound(h, 0.99);
  return `p99 ≤ ${p99 === Infinity ? '∞' : ms((p99 ?? NaN) * 1000)} ms (histogram bound), ` +
    `${(shareOver(h, C2C_TARGETS.inviteP99Ms / 1000) * 100).toFixed(2)} % over ${C2C_TARGETS.inviteP99Ms} ms, ` +
    `mean ${ms((h.sumSeconds / h.count) * 1000)} ms over ${h.count} requests`;
}

/** `; 3.9 % of requests over it` — what a p99 bound asks is under 1 %. */
const overText = (l: LatencySummary) => (l.over ? `; ${(l.over.share * 100).toFixed(1)} % of requests over it` : '');
export const mib = (b: number | undefined) => (b === undefined || !Number.isFinite(b) ? '—' : (b / 2 ** 20).toFixed(0));
const kib = (b: number | undefined) => (b === undefined || !Number.isFinite(b) ? '—' : (b / 1024).toFixed(1));

export function ratioOf(s: StepResult | undefined, echoDatagramsPerSec: number | undefined): number | undefined {
  return s && echoDatagramsPerSec ? s.sipMessagesPerSec / echoDatagramsPerSec : undefined;
}

export function renderC2c(section: C2cSection | undefined, hold: HoldResult[] | undefined, soak: SoakResult | undefined): string[] {
  const lines: string[] = [];
  if (section) {
    const echo = section.echo?.medianDatagramsPerSec;
    lines.push(`Click-to-call sessions — server = node ${SERVER_NODE_FLAGS.join(' ')} dist/cli.js (LogLevel INFO, TraceCalls 1000), phones = SIPp over ${section.transport.toUpperCase()}; ${section.pinning}`);
    lines.push(`  echo ceiling (raw Node UDP, same pinning): ${formatRate(echo)} datagrams/s`);
    for (const s of section.skipped ?? []) lines.push(`  skipped: ${s}`);
    for (const r of section.results) {
      const s = r.sustained;
      const target = targetFor(r);
      lines.push(`  ${r.scenario} via ${r.via} — ${r.describe}`);
      for (const st of r.steps) lines.push(`    step ${loadText(st)}: ${st.sessionsPerSec.toFixed(0)}/s, ok ${st.succeeded}/${st.started}, failed ${st.failed}`);
      for (const st of r.failedConfirmations ?? []) {
        lines.push(`    confirmation ${loadText(st)} × ${(st.durationMs / 1000).toFixed(0)} s FAILED: ${st.sessionsPerSec.toFixed(0)}/s, ok ${st.succeeded}/${st.started}, ${JSON.stringify(st.failures)}`);
        for (const f of st.failureSamples.slice(0, 3)) lines.push(`      ${f}`);
        for (const p of st.phones) if (p.failed > 0) lines.push(`      ${p.name}: ${JSON.stringify(p.failures)} ${p.errorSample.replace(/\s+/g, ' ').slice(0, 600)}`);
      }
      if (!s) {
        lines.push(`    c2c ${r.scenario}/${r.via}: no zero-failure step`);
        for (const st of r.steps) for (const f of st.failureSamples) lines.push(`      ${f}`);
        continue;
      }
      lines.push(`    c2c ${r.scenario}/${r.via}  sessions/s ${s.sessionsPerSec.toFixed(0)}  (${loadText(s)}, ${(s.durationMs / 1000).toFixed(0)} s)  ` +
        `completed ${s.succeeded} failed ${s.failed}` + (target ? `  ${s.sessionsPerSec >= target && s.failed === 0 ? 'target met' : 'below target'} (${target}/s)` : ''));
      if (s.failed > 0) {
        lines.push(`      failures: ${JSON.stringify(s.failures)}`);
        for (const f of s.failureSamples) lines.push(`      ${f}`);
        for (const p of s.phones) if (p.failed > 0) lines.push(`      ${p.name}: ${JSON.stringify(p.failures)} ${p.errorSample.replace(/\s+/g, ' ').slice(0, 600)}`);
      }
      lines.push(`      latency ms p50/p99/max: request→INVITE ${inviteLat(s)}  request→Connected ${lat(s.requestToConnected)}` +
        `  (server event-loop delay p99/max ${ms(s.serverLoopDelayP99Ms)}/${ms(s.serverLoopDelayMaxMs)})`);
      if (s.serverGc) lines.push(`      server GC over the run: ${gcText(s.serverGc, s.elapsedMs)}`);
      if (s.serverSetupInvite) lines.push(`      inside the server (request read → INVITE to the socket): ${insideText(s.serverSetupInvite)}`);
      if (r.halfRate) {
        const others = (r.halfRateRuns?.length ?? 0) > 1 ? ` (median of ${r.halfRateRuns!.length} runs by p99: ${r.halfRateRuns!.map((x) => ms(x.requestToInvite.p99) + (x.clockStepMs !== undefined ? ' (void: clock step)' : '')).join(', ')} ms)` : '';
        lines.push(`      at half rate (${loadText(r.halfRate)}): request→INVITE ${inviteLat(r.halfRate)}${others}  request→Connected ${lat(r.halfRate.requestToConnected)}  failed ${r.halfRate.failed}` +
          `  ${r.halfRate.clockStepMs !== undefined ? 'p99 void' : r.halfRate.requestToInvite.p99 !== undefined && r.halfRate.requestToInvite.p99 < C2C_TARGETS.inviteP99Ms ? 'p99 target met' : 'p99 above target'} (< ${C2C_TARGETS.inviteP99Ms} ms` +
          `${overText(r.halfRate.requestToInvite)})` +
          `; server event-loop delay p99/max ${ms(r.halfRate.serverLoopDelayP99Ms)}/${ms(r.halfRate.serverLoopDelayMaxMs)} ms`);
        if (r.halfRate.serverGc) lines.push(`      server GC at half rate: ${gcText(r.halfRate.serverGc, r.halfRate.elapsedMs)}`);
        if (r.halfRate.serverSetupInvite) lines.push(`      inside the server at half rate (request read → INVITE to the socket): ${insideText(r.halfRate.serverSetupInvite)}`);
      }
      const ratio = ratioOf(s, echo);
      lines.push(`      server: ${s.cpuSecondsPer1000.toFixed(2)} CPU s per 1000 sessions, RSS ${mib(s.serverRssBytes)} MiB (peak ${mib(s.serverPeakRssBytes)}), heap ${mib(s.serverHeapUsedBytes)} MiB, ` +
        `${s.sipMessagesPerSession.toFixed(1)} SIP msgs/session = ${formatRate(s.sipMessagesPerSec)} msg/s = ${ratio === undefined ? '—' : (ratio * 100).toFixed(1) + ' %'} of echo`);
      lines.push(`      load side (SIPp phones + driver): ${s.loadCpuSeconds.toFixed(1)} CPU s = ${(s.loadCoreShare * 100).toFixed(0)} % of one core over the run; ` +
        `server ${s.serverCpuSeconds.toFixed(1)} CPU s = ${pct(s.serverCpuSeconds / spanSeconds(s))}`);
      lines.push(`      retransmissions: server ${s.serverRetransmissions ?? '—'}, phones ${s.phoneRetransmissions}; internal errors ${s.serverInternalErrors}; ` +
        `left after ${(s.leftover.waitedMs / 1000).toFixed(0)} s: calls ${s.leftover.callsActive} transactions ${s.leftover.transactions} dialogs ${s.leftover.dialogs}${timersText(s.leftover)}`);
      for (const l of s.serverInternalErrorSamples ?? []) lines.push(`      server log: ${l}`);
    }
    lines.push('');
  }
  for (const h of hold ?? []) {
    lines.push(`Held calls — ${h.calls} anchored calls via REST, held, then DELETE each`);
    lines.push(`  hold ${h.calls}: connected ${h.connected} in ${(h.setupMs / 1000).toFixed(1)} s; torn down in ${(h.teardownMs / 1000).toFixed(1)} s; ` +
      `RSS ${mib(h.baseline.rssBytes)} → ${mib(h.held.rssBytes)} MiB after the drain → ${mib(h.settled.rssBytes)} MiB settled (${kib(h.rssPerCallBytes)} KiB/call), ` +
      `heap ${mib(h.baseline.heapUsedBytes)} → ${mib(h.held.heapUsedBytes)} → ${mib(h.settled.heapUsedBytes)} MiB (${kib(h.heapPerCallBytes)} KiB/call)` +
      settleGcText(h.settled.majorGcs));
    lines.push(`    while held: calls ${h.held.callsActive} dialogs ${h.held.dialogs} transactions ${h.held.transactions}; ` +
      `left after ${(h.leftover.waitedMs / 1000).toFixed(0)} s: calls ${h.leftover.callsActive} transactions ${h.leftover.transactions} dialogs ${h.leftover.dialogs}; ` +
      `phone failures ${h.phoneFailures}, retransmissions server ${h.serverRetransmissions ?? '—'} ${JSON.stringify(h.serverRetransmissionsByStage)} phones ${h.phoneRetransmissions}, internal errors ${h.serverInternalErrors}`);
    for (const p of h.phones) if (p.failed > 0) lines.push(`    ${p.name}: ${JSON.stringify(p.failures)} ${p.errorSample.replace(/\s+/g, ' ').slice(0, 600)}`);
    if (h.calls >= 100_000 && h.settled.rssBytes !== undefined) {
      lines.push(`    ${h.settled.rssBytes < C2C_TARGETS.hold100kRssBytes ? 'target met' : 'above target'} (100k calls < 1.5 GiB RSS, settled)`);
    }
  }
  if (hold?.length) lines.push('');
  if (soak) {
    const s = soak.step;
    lines.push(`Soak — ${s.scenario} via ${s.via} at ${soak.perSec}/s for ${(s.durationMs / 1000).toFixed(0)} s, ${s.samples?.length ?? 0} samples`);
    lines.push(`  soak: completed ${s.succeeded} failed ${s.failed}; slope after ${(soak.warmupMs / 1000).toFixed(0)} s warm-up: RSS ${kib(soak.rssSlopeBytesPerMin)} KiB/min, heap ${kib(soak.heapSlopeBytesPerMin)} KiB/min; ` +
      `left after ${(s.leftover.waitedMs / 1000).toFixed(0)} s: calls ${s.leftover.callsActive} transactions ${s.leftover.transactions} dialogs ${s.leftover.dialogs}${timersText(s.leftover)} (${soak.drained ? 'drained' : 'NOT drained'})`);
    if (s.failed > 0) for (const f of s.failureSamples) lines.push(`    ${f}`);
    lines.push('');
  }
  return lines;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : '—');

/** The span over which both CPU figures were taken (from the load side's share). */
function spanSeconds(s: StepResult): number {
  return s.loadCoreShare > 0 ? s.loadCpuSeconds / s.loadCoreShare : Number.NaN;
}

function loadText(s: StepResult): string {
  return s.load.kind === 'window' ? `window ${s.load.window}` : `rate ${s.load.perSec}/s`;
}

// ── docs/benchmarks.md ────────────────────────────────────────────────────────────

export const C2C_HEADER = '| Date | Commit | Profile | Machine | Command | Scenario | Via | SIP | Load | Sessions/s | Failed | →INVITE p50/p99/max ms | →Connected p50/p99/max ms | →INVITE p99 at ½ rate | CPU s/1k | RSS MiB | Heap MiB | SIP msg/s | Echo dgrams/s | Msgs/echo | Retrans srv/phones | Server/load core busy |';
export const HOLD_HEADER = '| Date | Commit | Profile | Machine | Command | Calls | Set-up s | Tear-down s | RSS MiB held | RSS KiB/call | Heap KiB/call | Left calls/tx/dialogs | Failed |';
export const SOAK_HEADER = '| Date | Commit | Profile | Machine | Command | Scenario | Rate/s | Duration s | Completed | Failed | RSS slope KiB/min | Heap slope KiB/min | Left calls/tx/dialogs |';

const sep = (header: string) => header.replace(/[^|]+/g, '---');

export function sectionText(header: string, title: string, body: string): string {
  return `${title}\n\n${body}\n\n${header}\n${sep(header)}\n`;
}

function who(m: MachineInfo, timestamp: string, profile: string, command: string): string[] {
  return [timestamp.slice(0, 16).replace('T', ' '), `\`${m.commit}${m.dirty ? '+' : ''}\``, profile,
    `${m.cpuModel.replace(/\|/g, '/')} ×${m.cores}`, `\`${command.replace(/\|/g, '/')}\``];
}

export function c2cRows(section: C2cSection, m: MachineInfo, timestamp: string, profile: string, command: string): string[] {
  const echo = section.echo?.medianDatagramsPerSec;
  return section.results.map((r) => {
    const s = r.sustained;
    const ratio = ratioOf(s, echo);
    const cells = [
      ...who(m, timestamp, profile, command), r.scenario, r.via, section.transport,
      s ? loadText(s) + ` × ${(s.durationMs / 1000).toFixed(0)} s` : `search failed at ${r.steps[0] ? loadText(r.steps[0]) : '—'}`,
      s ? s.sessionsPerSec.toFixed(0) : '—',
      s ? String(s.failed) : String(r.steps[0]?.failed ?? '—'),
      s ? (s.clockStepMs !== undefined ? 'void (clock step)' : lat(s.requestToInvite)) : '—',
      s ? lat(s.requestToConnected) : '—',
      r.halfRate ? (r.halfRate.clockStepMs !== undefined ? 'void (clock step)' : ms(r.halfRate.requestToInvite.p99)) + insideCell(r.halfRate.serverSetupInvite) : '—',
      s ? s.cpuSecondsPer1000.toFixed(2) : '—',
      s ? mib(s.serverRssBytes) : '—',
      s ? mib(s.serverHeapUsedBytes) : '—',
      s ? formatRate(s.sipMessagesPerSec) : '—',
      formatRate(echo),
      ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)} %`,
      s ? `${s.serverRetransmissions ?? '—'}/${s.phoneRetransmissions}` : '—',
      s ? `${pct(s.serverCpuSeconds / spanSeconds(s))}/${pct(s.loadCoreShare)}` : '—',
    ];
    return `| ${cells.join(' | ')} |`;
  });
}

export function holdRows(hold: HoldResult[], m: MachineInfo, timestamp: string, profile: string, command: string): string[] {
  return hold.map((h) => `| ${[
    ...who(m, timestamp, profile, command), String(h.calls), (h.setupMs / 1000).toFixed(1), (h.teardownMs / 1000).toFixed(1),
    h.settled.rssBytes !== undefined && h.settled.rssBytes !== h.held.rssBytes ? `${mib(h.held.rssBytes)} → ${mib(h.settled.rssBytes)}` : mib(h.held.rssBytes),
    kib(h.rssPerCallBytes), kib(h.heapPerCallBytes),
    `${h.leftover.callsActive}/${h.leftover.transactions}/${h.leftover.dialogs}`, String(h.calls - h.connected + h.phoneFailures),
  ].join(' | ')} |`);
}

export function soakRow(soak: SoakResult, m: MachineInfo, timestamp: string, profile: string, command: string): string {
  const s = soak.step;
  return `| ${[
    ...who(m, timestamp, profile, command), `${s.scenario}/${s.via}`, String(soak.perSec), (s.durationMs / 1000).toFixed(0),
    String(s.succeeded), String(s.failed), kib(soak.rssSlopeBytesPerMin), kib(soak.heapSlopeBytesPerMin),
    `${s.leftover.callsActive}/${s.leftover.transactions}/${s.leftover.dialogs}`,
  ].join(' | ')} |`;
}

/** ` timers N (idle M)` when the server exports its armed timers. */
function timersText(l: { timers?: number; timersIdle?: number }): string {
  return l.timers === undefined ? '' : ` timers ${l.timers} (idle ${l.timersIdle ?? '?'})`;
}

/**
 * The server's garbage-collection pauses over a run, e.g. `minor 230 × 2.1 ms (41 over 2 ms),
 * major 3 × 7.0 ms …; 4.9 % of the run`: what a latency tail waits behind, beside the figure.
 */
export function gcText(gc: Record<string, GcPauses>, elapsedMs: number): string {
  const kinds = ['minor', 'major', 'incremental', 'weakcb'].filter((k) => (gc[k]?.count ?? 0) > 0);
  if (kinds.length === 0) return 'none reported';
  const parts = kinds.map((k) => {
    const p = gc[k]!;
    const over = p.over10ms > 0 ? `${p.over2ms} over 2 ms, ${p.over10ms} over 10 ms` : `${p.over2ms} over 2 ms`;
    return `${k} ${p.count} × ${(p.totalMs / p.count).toFixed(1)} ms (${over})`;
  });
  const total = kinds.reduce((t, k) => t + gc[k]!.totalMs, 0);
  return `${parts.join(', ')}; ${elapsedMs > 0 ? ((100 * total) / elapsedMs).toFixed(1) : '—'} % of the run`;
}

/** Whether the settled figures came after an old-generation collection (hold test). */
export function settleGcText(majorGcs: number | undefined): string {
  if (majorGcs === undefined) return '';
  return majorGcs > 0 ? `; ${majorGcs} old-generation collection${majorGcs === 1 ? '' : 's'} while settling`
    : '; no old-generation collection while settling: the figures still hold the set-up\'s garbage';
}
