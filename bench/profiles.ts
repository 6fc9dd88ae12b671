/**
 * How much each benchmark does. `full` is the measuring profile (about two to three minutes for
 * parser/udp/sip; the click-to-call sections, run only when asked, take minutes each);
 * `quick` is the CI profile (about ten seconds, tiny counts: it proves that everything runs and
 * completes, its figures mean little).
 */
import type { EchoBudget } from './udp-echo-bench.js';
import type { ParserBudget } from './parser-bench.js';
import type { SipBudget } from './sip-load.js';
import type { C2cBudget } from './c2c/budget.js';

export interface Profile {
  name: 'full' | 'quick';
  parser: ParserBudget;
  udp: EchoBudget;
  sip: SipBudget;
  /** The click-to-call sections (`--only c2c`, `hold`, `soak`), run only when asked. */
  c2c: C2cBudget;
}

/** Every scenario via XML, and REFER and anchored via REST and GET (issue 6 targets). */
const FULL_MATRIX: C2cBudget['matrix'] = [
  { scenario: 'refer', via: 'xml' },
  { scenario: 'anchored', via: 'xml' },
  { scenario: 'fallback', via: 'xml' },
  { scenario: 'mix', via: 'xml' },
  { scenario: 'refer', via: 'rest' },
  { scenario: 'refer', via: 'get' },
];

export const FULL: Profile = {
  name: 'full',
  parser: { rounds: 5, roundMs: 1000, maxOpsPerRound: 5_000_000 },
  udp: { rounds: 5, window: 256, datagramBytes: 500, maxRoundTrips: 2_000_000, roundMs: 3000, warmupRoundTrips: 50_000 },
  sip: { rounds: 5, window: 200, maxCount: 200_000, roundMs: 5000, drainMs: 5000, warmupCount: 5000 },
  c2c: {
    matrix: FULL_MATRIX,
    transport: 'udp',
    windows: [5, 10, 20, 40, 80, 160, 320, 640],
    stepMs: 8000,
    confirmMs: 60_000,
    halfRateMs: 15_000,
    halfRateRuns: 3,
    halfRateWarmupMs: 5_000,
    drainMs: 15_000,
    ringMs: 0,
    holdMs: 100,
    ringTimeoutS: 2,
    initiatorPhones: 1,
    xmlConnections: 4,
    lingerMs: 45_000,
    // The RFC 3261 defaults: wait states last 32 s, so the linger wait is longer than that.
    serverExtra: [],
    hold: { calls: [10_000], window: 100, teardownWindow: 4, lingerMs: 45_000, settleMs: 90_000 },
    soak: { perSec: 200, durationMs: 120_000, sampleMs: 5000, warmupFraction: 0.25, lingerMs: 45_000 },
  },
};

export const QUICK: Profile = {
  name: 'quick',
  parser: { rounds: 3, roundMs: 50, maxOpsPerRound: 20_000 },
  udp: { rounds: 3, window: 64, datagramBytes: 500, maxRoundTrips: 20_000, roundMs: 300, warmupRoundTrips: 500 },
  sip: { rounds: 3, window: 20, maxCount: 300, roundMs: 700, drainMs: 4000, warmupCount: 50 },
  c2c: {
    matrix: FULL_MATRIX,
    transport: 'udp',
    windows: [10],
    stepMs: 2000,
    confirmMs: 0,
    halfRateMs: 0,
    halfRateRuns: 0,
    halfRateWarmupMs: 0,
    drainMs: 8000,
    ringMs: 0,
    holdMs: 50,
    ringTimeoutS: 1,
    initiatorPhones: 1,
    xmlConnections: 2,
    // The steps do not wait for state to drain (the hold and soak runs below do).
    lingerMs: 0,
    // Short SIP timers so that transactions drain within seconds (T1 100 ms: wait states 6.4 s).
    serverExtra: ['SipT1 = 100', 'SipTimerD = 6400'],
    hold: { calls: [200], window: 50, teardownWindow: 4, lingerMs: 15_000, settleMs: 0 },
    soak: { perSec: 50, durationMs: 12_000, sampleMs: 1000, warmupFraction: 0.25, lingerMs: 15_000 },
  },
};
