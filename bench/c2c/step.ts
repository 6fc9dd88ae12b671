/**
 * One measured step of a scenario: a fresh server and a fresh phone farm, the driver at one load
 * (window or rate) for a duration, then the join of what the driver and every phone saw. A
 * session succeeds only when its final event is the one its destination calls for AND the
 * initiator phone and the destination phone both ran their scenario to the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pinning } from './affinity.js';
import { startBenchServer, type BenchServer } from './bench-server.js';
import { drive, type Load, type Via } from './driver.js';
import { C2C_TARGETS } from './c2c-report.js';
import { summarize, type LatencySummary } from './percentiles.js';
import { planner, type ScenarioSpec } from './scenarios.js';
import { gcBetween, histogramBetween, type GcPauses, type Histogram, type ServerMetrics } from './server-metrics.js';
import { startPhone, type Phone, type PhoneReport, type PhoneRole, type SipTransport } from './sipp-farm.js';
import { epochMs, syncWallClock, wallClockStepMs } from './clock.js';
import { clockTicksPerSecond, readProcUsage } from './proc-usage.js';

export interface StepOptions {
  cliPath: string;
  pinning: Pinning;
  scenario: ScenarioSpec;
  via: Via;
  transport: SipTransport;
  load: Load;
  durationMs: number;
  /** Bound on waiting for finals and for the phones to finish, after the duration. */
  drainMs: number;
  ringMs: number;
  holdMs: number;
  ringTimeoutS: number;
  initiatorPhones: number;
  xmlConnections: number;
  /** > 0: after the phones are idle, wait up to this long for transactions/dialogs/calls to reach zero. */
  lingerMs: number;
  serverExtra: string[];
  serverNodeArgs?: string[];
  /** > 0: sample the server's RSS and heap this often while the load runs (the soak). */
  sampleEveryMs?: number;
  /**
   * > 0: a closed-loop load (window WARMUP_WINDOW) runs this long on the fresh server before the
   * measured span: its JIT compiles the hot paths meanwhile, and the first seconds of a cold
   * server are not the steady state a latency figure describes. A window, not the measured fixed
   * rate: a fixed rate thrown at a cold server overloads it (socket buffers overflow, SIPp phones
   * fail calls, finals come after the drain). Its sessions must succeed too: failures are
   * reported as `warm-up: …` causes, not left out.
   */
  warmupMs?: number;
}

/** Session numbers of the warm-up: far from the measured ones (0, 1, …), which the phones log by number. */
const WARMUP_FIRST_INDEX = 100_000_000;
/** The warm-up's window: well below every scenario's sustained window, so it never queues. */
const WARMUP_WINDOW = 20;

/** One memory sample of the server while the load ran. */
export interface MemorySample {
  /** Since the load began. */
  tMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  callsActive: number;
  transactions: number;
}

/** A wall-clock move during a run beyond this voids its request→INVITE latencies (ms). */
export const CLOCK_STEP_LIMIT_MS = 1;

export interface StepResult {
  scenario: string;
  via: Via;
  transport: SipTransport;
  load: Load;
  durationMs: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Failure causes and counts (a session is counted once, under its first cause). */
  failures: Record<string, number>;
  /** A few failed sessions in detail: what the driver got, what each phone logged. */
  failureSamples: string[];
  sessionsPerSec: number;
  elapsedMs: number;
  /** Request written → initiator's INVITE arrival (SIPp gettimeofday), ms. */
  requestToInvite: LatencySummary;
  /**
   * Set when the wall clock moved against the monotonic one during the run by more than
   * CLOCK_STEP_LIMIT_MS (a virtual machine paused and restored, an NTP step): requestToInvite
   * mixes the two clocks and is not a latency then (clock.ts).
   */
  clockStepMs?: number;
  /** Request written → "Connected to destination" received, ms. */
  requestToConnected: LatencySummary;
  serverCpuSeconds: number;
  cpuSecondsPer1000: number;
  serverRssBytes?: number;
  serverPeakRssBytes?: number;
  serverHeapUsedBytes?: number;
  /** The server's event-loop delay over the step (ms): p99 and max. */
  serverLoopDelayP99Ms?: number;
  serverLoopDelayMaxMs?: number;
  /** The server's garbage-collection pauses over the step, by kind (what the latency tail waits behind). */
  serverGc?: Record<string, GcPauses>;
  /**
   * The server's own part of request→INVITE over the step (its `clicktocall_setup_invite_seconds`:
   * from reading the request to handing the INVITE to the socket); the rest of the wire figure is
   * the request waiting to be read and the datagram's way to SIPp.
   */
  serverSetupInvite?: Histogram;
  /** SIP messages the server received + sent, per session and per second. */
  sipMessagesPerSession: number;
  sipMessagesPerSec: number;
  serverRetransmissions?: number;
  serverInternalErrors: number;
  /** By where the server caught them (empty when none). */
  serverInternalErrorsWhere: Record<string, number>;
  /** The first of them as the server logged them (its log is gone with its folder). */
  serverInternalErrorSamples?: string[];
  phoneRetransmissions: number;
  /**
   * CPU seconds of the load side over the same span as the server's: every SIPp phone (from /proc)
   * plus the driver (this process). Near one core's worth, the figures measure the load generator.
   */
  loadCpuSeconds: number;
  /** loadCpuSeconds ÷ the span: 1.0 = the load core was saturated. */
  loadCoreShare: number;
  phones: Array<Omit<PhoneReport, 'inviteAt' | 'done' | 'output'>>;
  /** After the run (and the linger wait when asked): what is still alive in the server. */
  /** `timersIdle`: the server's armed timers before the run (its idle value: retention, …). */
  leftover: { callsActive?: number; transactions?: number; dialogs?: number; timers?: number; timersIdle?: number; waitedMs: number };
  samples?: MemorySample[];
}

export async function runStep(o: StepOptions): Promise<StepResult> {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-farm-'));
  const phones: Phone[] = [];
  let server: BenchServer | undefined;
  try {
    server = await startBenchServer({ cliPath: o.cliPath, pinning: o.pinning, ringTimeoutS: o.ringTimeoutS, extra: o.serverExtra, nodeArgs: o.serverNodeArgs });
    const phoneBase = { transport: o.transport, pinning: o.pinning, dir, ringMs: o.ringMs, holdMs: o.holdMs,
      recvTimeoutMs: Math.max(30_000, o.ringTimeoutS * 1000 + 20_000), maxCalls: 1_000_000 };
    const initiators: Phone[] = [];
    for (let k = 0; k < o.initiatorPhones; k++) {
      initiators.push(await startPhone({ ...phoneBase, role: o.scenario.initiatorRole, name: `${o.scenario.initiatorRole}-${k}` }));
    }
    const destinations = new Map<PhoneRole, Phone>();
    for (const role of o.scenario.destinationRoles) destinations.set(role, await startPhone({ ...phoneBase, role, name: role }));
    phones.push(...initiators, ...destinations.values());

    const plan = planner(o.scenario, initiators.map((p) => p.port), (role) => destinations.get(role)!.port, o.transport);
    const warmup = (o.warmupMs ?? 0) > 0
      ? await drive({
        via: o.via, xmlPort: server.xmlPort, httpPort: server.httpPort, apiKey: server.apiKey, load: { kind: 'window', window: WARMUP_WINDOW },
        durationMs: o.warmupMs!, drainMs: o.drainMs, plan, xmlConnections: o.xmlConnections, firstIndex: WARMUP_FIRST_INDEX,
      })
      : undefined;
    if (warmup) await waitUntil(() => phones.every((p) => (p.currentCalls() ?? 0) === 0), o.holdMs + o.drainMs + 2000);
    const m0 = await server.metrics();
    const u0 = server.usage();
    const ticks = clockTicksPerSecond();
    const loadCpu = () => phones.reduce((s, p) => s + (p.pid !== undefined ? readProcUsage(p.pid, ticks)?.cpuSeconds ?? 0 : 0), 0)
      + (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
    const l0 = loadCpu();
    syncWallClock(); // request→INVITE compares this process's clock with SIPp's (clock.ts)
    const span0 = epochMs();
    const samples: MemorySample[] = [];
    const began = epochMs();
    const srv = server;
    const sampler = (o.sampleEveryMs ?? 0) > 0
      ? setInterval(() => {
        const u = srv.usage();
        srv.metrics().then((m) => samples.push({
          tMs: epochMs() - began, rssBytes: u?.rssBytes ?? Number.NaN, heapUsedBytes: m.heapUsedBytes ?? Number.NaN,
          callsActive: m.callsActive ?? Number.NaN, transactions: m.transactions ?? Number.NaN,
        }), () => {});
      }, o.sampleEveryMs)
      : undefined;
    const driven = await drive({
      via: o.via, xmlPort: server.xmlPort, httpPort: server.httpPort, apiKey: server.apiKey, load: o.load,
      durationMs: o.durationMs, drainMs: o.drainMs, plan, xmlConnections: o.xmlConnections, firstIndex: 0,
    }).finally(() => clearInterval(sampler));
    // The phones finish their calls (hold time, BYE) after the finals.
    await waitUntil(() => phones.every((p) => (p.currentCalls() ?? 0) === 0), o.holdMs + o.drainMs + 2000);
    const u1 = server.usage();
    const l1 = loadCpu();
    const spanMs = epochMs() - span0;
    const m1 = await server.metrics();
    let leftover: ServerMetrics = m1;
    const lingerStart = epochMs();
    if (o.lingerMs > 0) {
      const s = server;
      await waitUntilAsync(async () => {
        leftover = await s.metrics();
        return leftover.transactions === 0 && leftover.dialogs === 0 && leftover.callsActive === 0 && timersBack(leftover, m0);
      }, o.lingerMs, 1000);
    }
    const waitedMs = o.lingerMs > 0 ? epochMs() - lingerStart : 0;
    const reports = await Promise.all(phones.map((p) => p.stop()));
    phones.length = 0;
    const step = wallClockStepMs();

    // Join: driver records with the initiator's and the destination's logs.
    const initiatorReports = reports.filter((r) => r.role === o.scenario.initiatorRole);
    const destReport = new Map(reports.filter((r) => r.role.startsWith('destination')).map((r) => [r.role, r]));
    const failures: Record<string, number> = {};
    const failureSamples: string[] = [];
    const inviteLatency: number[] = [];
    const connectLatency: number[] = [];
    let succeeded = 0;
    driven.records.forEach((r, i) => {
      const n = driven.firstIndex + i;
      const expect = o.scenario.destinationOf(n);
      const ini = initiatorReports[n % initiatorReports.length]!;
      const dst = destReport.get(expect.role)!;
      const inviteAt = ini.inviteAt.get(`i${n}`);
      // A SIPp log line without its time fields reads as NaN: left out rather than poisoning max.
      if (inviteAt !== undefined && Number.isFinite(inviteAt)) inviteLatency.push(inviteAt - r.sentAt);
      let cause: string | undefined;
      if (r.error !== undefined) cause = `request error: ${r.error.slice(0, 80)}`;
      else if (r.finalAt === undefined) {
        // What else was seen tells a lost event from a stuck request or call: the 201 (REST), and
        // whether both phones went through their part on the wire.
        const seen = [
          ...(o.via === 'rest' ? [r.callId === undefined ? 'no 201' : '201 received'] : []),
          ini.done.has(`i${n}`) ? 'initiator phone done' : 'initiator phone not done',
          dst.done.has(`d${n}`) ? 'destination phone done' : 'destination phone not done',
        ];
        cause = `no final event (lost; ${seen.join(', ')})`;
      }
      else if (r.finalCode !== expect.expectCode || r.finalLeg !== 'Destination') cause = `final ${r.finalCode} ${r.finalLeg ?? ''} (expected ${expect.expectCode} Destination)`;
      else if (!ini.done.has(`i${n}`)) cause = `initiator phone did not finish (${ini.inviteAt.has(`i${n}`) ? 'INVITE seen' : 'no INVITE'})`;
      else if (!dst.done.has(`d${n}`)) cause = `destination phone did not finish (${dst.inviteAt.has(`d${n}`) ? 'INVITE seen' : 'no INVITE'})`;
      if (cause === undefined) {
        succeeded++;
        if (expect.expectCode === 200) connectLatency.push(r.finalAt! - r.sentAt);
      } else {
        failures[cause] = (failures[cause] ?? 0) + 1;
        if (failureSamples.length < 5) failureSamples.push(`session ${n}: ${cause}; driver ${JSON.stringify(r)}`);
      }
    });
    // Warm-up sessions: only whether they ended as expected (the phones' side is in their totals).
    warmup?.records.forEach((r, i) => {
      const expect = o.scenario.destinationOf(warmup.firstIndex + i);
      if (r.error === undefined && r.finalCode === expect.expectCode && r.finalLeg === 'Destination') return;
      const cause = `warm-up: ${r.error !== undefined ? 'request error' : r.finalAt === undefined ? 'no final event' : `final ${r.finalCode}`}`;
      failures[cause] = (failures[cause] ?? 0) + 1;
    });
    const warmupFailed = Object.entries(failures).filter(([k]) => k.startsWith('warm-up')).reduce((t, [, v]) => t + v, 0);
    const started = driven.records.length;
    const cpu = u0 && u1 ? u1.cpuSeconds - u0.cpuSeconds : Number.NaN;
    const messages = m1.sipMessagesIn + m1.sipMessagesOut - (m0.sipMessagesIn + m0.sipMessagesOut);
    const sessionsPerSec = driven.elapsedMs > 0 ? (succeeded * 1000) / driven.elapsedMs : 0;
    const perSession = started > 0 ? messages / started : 0;
    return {
      scenario: o.scenario.name, via: o.via, transport: o.transport, load: o.load, durationMs: o.durationMs,
      started, succeeded, failed: started - succeeded + warmupFailed, failures, failureSamples,
      sessionsPerSec, elapsedMs: driven.elapsedMs,
      requestToInvite: summarize(inviteLatency, C2C_TARGETS.inviteP99Ms),
      ...(Math.abs(step) > CLOCK_STEP_LIMIT_MS ? { clockStepMs: step } : {}),
      requestToConnected: summarize(connectLatency),
      serverCpuSeconds: cpu,
      cpuSecondsPer1000: started > 0 ? (cpu * 1000) / started : Number.NaN,
      serverRssBytes: u1?.rssBytes, serverPeakRssBytes: u1?.peakRssBytes, serverHeapUsedBytes: m1.heapUsedBytes,
      serverLoopDelayP99Ms: m1.loopDelayP99Ms, serverLoopDelayMaxMs: m1.loopDelayMaxMs,
      serverGc: gcBetween(m0, m1),
      serverSetupInvite: histogramBetween(m0.setupInvite, m1.setupInvite),
      sipMessagesPerSession: perSession,
      sipMessagesPerSec: perSession * sessionsPerSec,
      serverRetransmissions: m1.retransmissions !== undefined && m0.retransmissions !== undefined ? m1.retransmissions - m0.retransmissions : undefined,
      serverInternalErrors: leftover.internalErrors,
      serverInternalErrorsWhere: leftover.internalErrorsWhere,
      ...(leftover.internalErrors > 0 ? { serverInternalErrorSamples: server.internalErrorLines() } : {}),
      phoneRetransmissions: reports.reduce((s, r) => s + r.retransmissions, 0),
      loadCpuSeconds: l1 - l0,
      loadCoreShare: spanMs > 0 ? ((l1 - l0) * 1000) / spanMs : Number.NaN,
      phones: reports.map(({ inviteAt: _i, done: _d, output: _o, ...rest }) => rest),
      leftover: { callsActive: leftover.callsActive, transactions: leftover.transactions, dialogs: leftover.dialogs, timers: leftover.timers, timersIdle: m0.timers, waitedMs },
      ...(sampler ? { samples } : {}),
    };
  } finally {
    await Promise.all(phones.map((p) => p.stop().catch(() => undefined)));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function waitUntil(done: () => boolean, ms: number, everyMs = 200): Promise<boolean> {
  const end = epochMs() + ms;
  while (epochMs() < end) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return done();
}

async function waitUntilAsync(done: () => Promise<boolean>, ms: number, everyMs: number): Promise<boolean> {
  const end = epochMs() + ms;
  for (;;) {
    if (await done()) return true;
    if (epochMs() >= end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Timers back to (or below) their value before the run; true for a server without the gauge. */
export function timersBack(now: { timers?: number }, before: { timers?: number }): boolean {
  return now.timers === undefined || before.timers === undefined || now.timers <= before.timers;
}
