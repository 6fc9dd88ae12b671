/**
 * Click-to-call sessions through lossy networks (issue #7 "Faults"): every phone sits behind its
 * own LossyRelay, the server is told the relays' addresses, and a batch of sessions runs at once.
 * Shared by test/faults/loss.test.ts (small runs, asserted) and scripts/reliability-loss.ts (the
 * big run whose figures go to docs/reliability.md).
 */
import type { CallEvent } from '../../src/call/events.js';
import type { CallMode } from '../../src/call/request.js';
import { TestPhone } from '../support/sip-phone.js';
import { LossyRelay, seededRandom, type LossProfile, type DirectionStats } from '../support/lossy-relay.js';
import { eventProblems, nothingLeft, startFaultServer, waitUntil, type FaultServer } from './fault-server.js';

export interface LossCase {
  mode: Extract<CallMode, 'refer' | 'anchored'>;
  sessions: number;
  profile: LossProfile;
  seed: number;
  /** Sessions running at once (default: all of them). */
  concurrency?: number;
  /** Server SipT1 in ms (default 50). */
  t1?: number;
}

export interface LossReport {
  mode: LossCase['mode'];
  profile: LossProfile;
  sessions: number;
  completed: number;
  /** `code reason` → sessions. */
  failed: Record<string, number>;
  stuck: number;
  /** Event-sequence problems, as `callId: problem`. */
  eventProblems: string[];
  retransmissions: { server: number; phones: number; perSession: number };
  relays: { toPhone: DirectionStats; fromPhone: DirectionStats };
  /** What the server still held after the run (all zero when clean). */
  leftovers: ReturnType<FaultServer['leftovers']>;
  clean: boolean;
  internalErrors: number;
  phoneErrors: number;
  /** Phones that still held a call or a stack object after the run. */
  busyPhones: number;
  /** Longest session, first event to last, in ms. */
  longestSessionMs: number;
  durationMs: number;
}

/** Longest a session may take under loss before it counts as stuck (Timer B is 64·T1 = 3.2 s at T1 = 50). */
const SESSION_DEADLINE_MS = 15_000;

interface Pair {
  alice: TestPhone;
  bob: TestPhone;
  relayA: LossyRelay;
  relayB: LossyRelay;
}

export async function runLossCase(c: LossCase): Promise<LossReport> {
  const began = Date.now();
  const t1 = c.t1 ?? 50;
  const fs = await startFaultServer({ settings: [`SipT1 = ${t1}`, `SipT2 = ${8 * t1}`] });
  const report: LossReport = {
    mode: c.mode, profile: c.profile, sessions: c.sessions, completed: 0, failed: {}, stuck: 0, eventProblems: [],
    retransmissions: { server: 0, phones: 0, perSession: 0 },
    relays: { toPhone: zero(), fromPhone: zero() },
    leftovers: fs.leftovers(), clean: false, internalErrors: 0, phoneErrors: 0, busyPhones: 0, longestSessionMs: 0, durationMs: 0,
  };
  const concurrency = c.concurrency ?? c.sessions;
  let relayIndex = 0;
  try {
    for (let done = 0; done < c.sessions; done += concurrency) {
      const n = Math.min(concurrency, c.sessions - done);
      const pairs: Pair[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const alice = await TestPhone.start({ name: `a${done + i}`, behaviour: { ring: 10, answer: 30, onRefer: 'execute' } });
          const bob = await TestPhone.start({ name: `b${done + i}`, behaviour: { ring: 10, answer: 30 } });
          // One PRNG per relay, seeded from the case: a relay's decisions follow its own traffic only.
          const relayA = await LossyRelay.start({ phonePort: port(alice), profile: c.profile, random: seededRandom(c.seed * 7919 + relayIndex++) });
          const relayB = await LossyRelay.start({ phonePort: port(bob), profile: c.profile, random: seededRandom(c.seed * 7919 + relayIndex++) });
          pairs.push({ alice, bob, relayA, relayB });
        }
        await Promise.all(pairs.map((p) => runSession(fs, c.mode, p, report)));
        // The phones' own calls (REFER mode: alice ↔ bob) and transactions end.
        await waitUntil(() => pairs.every((p) => p.alice.isIdle() && p.bob.isIdle()), 8000, 'the phones to be idle').catch(() => {});
        for (const p of pairs) {
          if (!p.alice.isIdle() || !p.bob.isIdle()) report.busyPhones++;
          report.phoneErrors += p.alice.errors.length + p.bob.errors.length;
          for (const ph of [p.alice, p.bob]) report.retransmissions.phones += ph.seen.filter((s) => s.direction === 'out' && s.retransmission).length;
          for (const r of [p.relayA, p.relayB]) {
            add(report.relays.toPhone, r.stats.toPhone);
            add(report.relays.fromPhone, r.stats.fromPhone);
          }
        }
      } finally {
        for (const p of pairs) {
          await p.alice.stop();
          await p.bob.stop();
          await p.relayA.close();
          await p.relayB.close();
        }
      }
    }
    // Lingering server transactions (Timer J = 64·T1 over UDP) run out; then nothing may be left.
    await waitUntil(() => nothingLeft(fs.leftovers()), 64 * t1 + 5000, 'the server to hold nothing').catch(() => {});
    report.leftovers = fs.leftovers();
    report.clean = nothingLeft(report.leftovers);
    report.internalErrors = fs.server.counters.internalErrors;
    report.retransmissions.server = fs.retransmissionsSent();
    report.retransmissions.perSession = (report.retransmissions.server + report.retransmissions.phones) / c.sessions;
  } finally {
    await fs.stop();
  }
  report.durationMs = Date.now() - began;
  return report;
}

/**
 * One session: the server calls alice, then connects bob (REFER: alice dials him; anchored: the
 * server does). Once connected, alice hangs up a little later — an anchored call ends with it,
 * a referred one has already ended for the server.
 */
async function runSession(fs: FaultServer, mode: LossCase['mode'], p: Pair, report: LossReport): Promise<void> {
  const id = fs.start(p.relayA.uriFor('alice'), p.relayB.uriFor('bob'), mode, { referNotifyTimeoutMs: 4000 });
  const events = (): CallEvent[] => fs.events.get(id) ?? [];
  let hungUp = false;
  try {
    await waitUntil(() => {
      if (!hungUp && events().some((e) => e.kind === 'connected')) {
        hungUp = true;
        setTimeout(() => void p.alice.hangup(), 50);
      }
      return fs.ended(id);
    }, SESSION_DEADLINE_MS, `session ${id}`);
  } catch {
    report.stuck++;
    return;
  }
  const list = events();
  for (const problem of eventProblems(list)) report.eventProblems.push(`${id}: ${problem}`);
  report.longestSessionMs = Math.max(report.longestSessionMs, list.at(-1)!.time - list[0]!.time);
  const failed = list.find((e) => e.kind === 'failed');
  if (failed) {
    const key = `${failed.code} ${failed.reason ?? ''}`.trim();
    report.failed[key] = (report.failed[key] ?? 0) + 1;
  } else if (list.some((e) => e.kind === 'completed')) {
    report.completed++;
  }
  // REFER mode: alice and bob talk directly; end that call too (through bob's relay).
  if (hungUp) await new Promise((r) => setTimeout(r, 60));
  await p.alice.hangup().catch(() => []);
}

function port(phone: TestPhone): number {
  return phone.endpoint.bound.find((b) => b.transport === 'udp')!.port;
}

function zero(): DirectionStats {
  return { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
}

function add(into: DirectionStats, from: DirectionStats): void {
  into.received += from.received;
  into.forwarded += from.forwarded;
  into.dropped += from.dropped;
  into.duplicated += from.duplicated;
  into.reordered += from.reordered;
}

/** Failure codes a lossy network may legitimately produce: a transaction or a REFER timing out. */
export const TIMEOUT_CODES = new Set([408]);

export function failureCodes(r: LossReport): number[] {
  return Object.keys(r.failed).map((k) => Number(k.split(' ')[0]));
}
