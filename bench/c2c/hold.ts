/**
 * The hold test (issue 6): N anchored calls set up through REST and held (initiator-hold.xml
 * keeps each call until the server hangs up), the server's RSS and heap per call measured once
 * the set-up transactions have drained, then every call hung up with DELETE /v1/calls/{id};
 * reports the set-up and tear-down times and what is left afterwards (calls, transactions,
 * dialogs: all must reach zero).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pinning } from './affinity.js';
import { startBenchServer, type BenchServer } from './bench-server.js';
import type { C2cBudget } from './budget.js';
import { epochMs } from './clock.js';
import { drive } from './driver.js';
import { planner, scenario } from './scenarios.js';
import type { ServerMetrics } from './server-metrics.js';
import { startPhone, type Phone, type PhoneReport } from './sipp-farm.js';
import { waitUntil } from './step.js';

export interface HoldResult {
  calls: number;
  connected: number;
  setupMs: number;
  /** Server before any call, with all N held (set-up transactions drained), and at the end. */
  baseline: { rssBytes?: number; heapUsedBytes?: number };
  held: { rssBytes?: number; heapUsedBytes?: number; transactions?: number; dialogs?: number; callsActive?: number };
  /**
   * The lowest RSS (and the heap then) while held after the drain: once V8 collected the set-up
   * wave's garbage. `majorGcs`: old-generation collections while it was watched — none means the
   * figure still holds that garbage (V8 collects when it is short of room, not when asked to).
   */
  settled: { rssBytes?: number; heapUsedBytes?: number; majorGcs?: number };
  rssPerCallBytes?: number;
  heapPerCallBytes?: number;
  teardownMs: number;
  hangupErrors: number;
  leftover: { callsActive?: number; transactions?: number; dialogs?: number; waitedMs: number };
  phoneFailures: number;
  phoneRetransmissions: number;
  serverRetransmissions?: number;
  /** The server's retransmissions while setting up, while held (incl. the drain wait), while tearing down and after. */
  serverRetransmissionsByStage: { setup?: number; held?: number; teardown?: number; after?: number };
  serverInternalErrors: number;
  /** By where the server caught them (empty when none). */
  serverInternalErrorsWhere: Record<string, number>;
  phones: Array<Omit<PhoneReport, 'inviteAt' | 'done' | 'output'>>;
  problems: string[];
}

export async function runHold(calls: number, b: C2cBudget, cliPath: string, pinning: Pinning, progress: (t: string) => void): Promise<HoldResult> {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-hold-'));
  const phones: Phone[] = [];
  let server: BenchServer | undefined;
  const problems: string[] = [];
  try {
    server = await startBenchServer({ cliPath, pinning, ringTimeoutS: b.ringTimeoutS, extra: b.serverExtra, nodeArgs: b.serverNodeArgs });
    const base = { transport: b.transport, pinning, dir, ringMs: b.ringMs, holdMs: 0, recvTimeoutMs: 3_600_000, maxCalls: calls * 2 + 1000 };
    const initiators: Phone[] = [];
    for (let k = 0; k < b.initiatorPhones; k++) initiators.push(await startPhone({ ...base, role: 'initiator-hold', name: `initiator-hold-${k}` }));
    const destination = await startPhone({ ...base, role: 'destination-answer', name: 'destination-answer' });
    phones.push(...initiators, destination);
    const spec = { ...scenario('anchored'), initiatorRole: 'initiator-hold' as const };
    const plan = planner(spec, initiators.map((p) => p.port), () => destination.port, b.transport);

    const m0 = await server.metrics();
    const u0 = server.usage();
    progress(`hold: setting up ${calls} anchored calls (REST, window ${b.hold.window}) …`);
    const t0 = epochMs();
    const setup = await drive({
      via: 'rest', xmlPort: server.xmlPort, httpPort: server.httpPort, apiKey: server.apiKey,
      load: { kind: 'window', window: b.hold.window }, durationMs: 3_600_000, drainMs: 60_000, plan,
      xmlConnections: 1, firstIndex: 0, maxSessions: calls,
    });
    const setupMs = epochMs() - t0;
    const mSetup = await server.metrics();
    const ids = setup.records.filter((r) => r.finalCode === 200 && r.callId !== undefined).map((r) => r.callId!);
    if (ids.length < calls) problems.push(`${calls - ids.length} of ${calls} calls did not connect`);
    progress(`hold: ${ids.length} connected in ${(setupMs / 1000).toFixed(1)} s; waiting for the set-up transactions to drain …`);
    const srv = server;
    let held: ServerMetrics = await srv.metrics();
    const drainEnd = epochMs() + b.hold.lingerMs;
    while (epochMs() < drainEnd && (held.transactions ?? 0) > 0) {
      await new Promise((r) => setTimeout(r, 1000));
      held = await srv.metrics();
    }
    const u1 = server.usage();
    const mHeld = held;
    // The set-up wave leaves garbage in the old generation (wait-state messages that lived 32 s)
    // and, with no allocation while the calls are held, nothing makes V8 collect it at once; its
    // memory reducer does within some seconds. Sampled until the RSS stops falling (or settleMs).
    let settled = u1;
    let settledHeap = held.heapUsedBytes;
    const settleEnd = epochMs() + b.hold.settleMs;
    let lastDrop = epochMs();
    while (epochMs() < settleEnd && epochMs() - lastDrop < 30_000) {
      await new Promise((r) => setTimeout(r, 1000));
      const u = server.usage();
      if (u && settled && u.rssBytes < settled.rssBytes - 2 ** 20) {
        lastDrop = epochMs();
        settled = u;
        settledHeap = (await srv.metrics()).heapUsedBytes;
      }
    }
    const majorGcs = majorCount(await srv.metrics()) - majorCount(held);
    if (b.hold.settleMs > 0) progress(`hold: RSS ${mb(u1?.rssBytes)} after the drain, ${mb(settled?.rssBytes)} settled (heap ${mb(settledHeap)}; ${majorGcs} old-generation collections meanwhile)`);
    if (process.env['C2C_BENCH_KEEP']) {
      const status = readFileSync(`/proc/${server.pid}/status`, 'utf8').split('\n').filter((l) => /^(VmRSS|RssAnon|RssFile|VmHWM)/.test(l)).join(' ');
      const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
      const pick = text.split('\n').filter((l) => /^clicktocall_nodejs_(heap_size|external_memory|heap_space_size_(used|total)_bytes)/.test(l)).join('\n  ');
      progress(`hold (kept): ${status.replace(/\s+/g, ' ')}\n  ${pick}`);
      // A heap snapshot of the held calls, into the kept server folder (bench-server.ts).
      process.kill(server.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 20_000));
    }
    progress(`hold: held ${held.callsActive} calls, RSS ${mb(u1?.rssBytes)}, heap ${mb(held.heapUsedBytes)}; hanging up (DELETE, window ${b.hold.teardownWindow}) …`);

    const t1 = epochMs();
    const hangupErrors = await hangUpAll(server, ids, b.hold.teardownWindow);
    // Torn down = the server holds no call any more (its BYEs are out); then the phones finish.
    let after = await srv.metrics();
    while ((after.callsActive ?? 0) > 0 && epochMs() - t1 < 120_000) {
      await new Promise((r) => setTimeout(r, 100));
      after = await srv.metrics();
    }
    const teardownMs = epochMs() - t1;
    const mDown = after;
    await waitUntil(() => phones.every((p) => (p.currentCalls() ?? 0) === 0), 120_000, 250);
    progress(`hold: torn down in ${(teardownMs / 1000).toFixed(1)} s; waiting for transactions and dialogs to end …`);
    const l0 = epochMs();
    while (epochMs() - l0 < b.hold.lingerMs && !((after.transactions ?? 1) === 0 && (after.dialogs ?? 1) === 0 && (after.callsActive ?? 1) === 0)) {
      await new Promise((r) => setTimeout(r, 1000));
      after = await srv.metrics();
    }
    const reports = await Promise.all(phones.map((p) => p.stop()));
    phones.length = 0;
    const n = ids.length || 1;
    const phoneFailures = reports.reduce((s, r) => s + r.failed, 0);
    if (phoneFailures > 0) problems.push(`${phoneFailures} calls failed in the phones`);
    if (hangupErrors > 0) problems.push(`${hangupErrors} DELETE /v1/calls/{id} did not answer 200`);
    return {
      calls, connected: ids.length, setupMs,
      baseline: { rssBytes: u0?.rssBytes, heapUsedBytes: m0.heapUsedBytes },
      held: { rssBytes: u1?.rssBytes, heapUsedBytes: held.heapUsedBytes, transactions: held.transactions, dialogs: held.dialogs, callsActive: held.callsActive },
      settled: { rssBytes: settled?.rssBytes, heapUsedBytes: settledHeap, majorGcs: b.hold.settleMs > 0 ? majorGcs : undefined },
      rssPerCallBytes: u0 && settled ? (settled.rssBytes - u0.rssBytes) / n : undefined,
      heapPerCallBytes: settledHeap !== undefined && m0.heapUsedBytes !== undefined ? (settledHeap - m0.heapUsedBytes) / n : undefined,
      teardownMs, hangupErrors,
      leftover: { callsActive: after.callsActive, transactions: after.transactions, dialogs: after.dialogs, waitedMs: epochMs() - l0 },
      phoneFailures,
      phoneRetransmissions: reports.reduce((s, r) => s + r.retransmissions, 0),
      serverRetransmissions: after.retransmissions !== undefined && m0.retransmissions !== undefined ? after.retransmissions - m0.retransmissions : undefined,
      serverRetransmissionsByStage: {
        setup: diff(mSetup.retransmissions, m0.retransmissions),
        held: diff(mHeld.retransmissions, mSetup.retransmissions),
        teardown: diff(mDown.retransmissions, mHeld.retransmissions),
        after: diff(after.retransmissions, mDown.retransmissions),
      },
      serverInternalErrors: after.internalErrors,
      serverInternalErrorsWhere: after.internalErrorsWhere,
      phones: reports.map(({ inviteAt: _i, done: _d, output: _o, ...rest }) => rest),
      problems,
    };
  } finally {
    await Promise.all(phones.map((p) => p.stop().catch(() => undefined)));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function majorCount(m: ServerMetrics): number {
  return m.gc['major']?.count ?? 0;
}

function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined ? a - b : undefined;
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '—' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** DELETE every call, `window` at a time; returns how many did not answer 200. */
async function hangUpAll(server: BenchServer, ids: string[], window: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let next = 0;
  let errors = 0;
  const one = (id: string) => new Promise<void>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.httpPort, method: 'DELETE', path: `/v1/calls/${encodeURIComponent(id)}`, agent,
      headers: { authorization: `Bearer ${server.apiKey}` } }, (res) => {
      if (res.statusCode !== 200) errors++;
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
  const worker = async () => {
    while (next < ids.length) await one(ids[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(window, ids.length) }, worker));
  agent.destroy();
  return errors;
}
