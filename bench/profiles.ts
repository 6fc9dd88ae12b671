/**
 * How much each benchmark does. `full` is the measuring profile (about two to three minutes);
 * `quick` is the CI profile (about ten seconds, tiny counts: it proves that everything runs and
 * completes, its figures mean little).
 */
import type { EchoBudget } from './udp-echo-bench.js';
import type { ParserBudget } from './parser-bench.js';
import type { SipBudget } from './sip-load.js';

export interface Profile {
  name: 'full' | 'quick';
  parser: ParserBudget;
  udp: EchoBudget;
  sip: SipBudget;
}

export const FULL: Profile = {
  name: 'full',
  parser: { rounds: 5, roundMs: 1000, maxOpsPerRound: 5_000_000 },
  udp: { rounds: 5, window: 256, datagramBytes: 500, maxRoundTrips: 2_000_000, roundMs: 3000, warmupRoundTrips: 50_000 },
  sip: { rounds: 5, window: 200, maxCount: 200_000, roundMs: 5000, drainMs: 5000, warmupCount: 5000 },
};

export const QUICK: Profile = {
  name: 'quick',
  parser: { rounds: 3, roundMs: 50, maxOpsPerRound: 20_000 },
  udp: { rounds: 3, window: 64, datagramBytes: 500, maxRoundTrips: 20_000, roundMs: 300, warmupRoundTrips: 500 },
  sip: { rounds: 3, window: 20, maxCount: 300, roundMs: 700, drainMs: 4000, warmupCount: 50 },
};
