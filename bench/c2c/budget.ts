/** How much the click-to-call sections do (bench/profiles.ts holds one per profile). */
import type { Via } from './driver.js';
import type { ScenarioName } from './scenarios.js';
import type { SipTransport } from './sipp-farm.js';

export interface C2cBudget {
  /** Scenario × interface pairs measured by `--only c2c` (overridden by --scenario / --via). */
  matrix: Array<{ scenario: ScenarioName; via: Via }>;
  transport: SipTransport;
  /** Closed-loop windows tried in order by the sustained-rate search. */
  windows: number[];
  /** Length of each search step. */
  stepMs: number;
  /** The best zero-failure window is run again this long (0: the search step is the result). */
  confirmMs: number;
  /** A fixed-rate run at half the sustained rate, for request→INVITE latency (0: skipped). */
  halfRateMs: number;
  /**
   * How many such runs (each on a fresh server): the one with the median request→INVITE p99 is
   * reported. One run's p99 moved between 5 and 10 ms from run to run on this machine.
   */
  halfRateRuns: number;
  /** The warm-up of a fixed-rate run (half rate, --rate) on its server before it is measured (0: none). */
  halfRateWarmupMs: number;
  /** After a step's duration: the most we wait for finals and phones. */
  drainMs: number;
  ringMs: number;
  holdMs: number;
  ringTimeoutS: number;
  initiatorPhones: number;
  xmlConnections: number;
  /** After the confirmation run: wait up to this for transactions/dialogs/calls to reach zero. */
  lingerMs: number;
  /** Extra server settings (the quick profile shortens the SIP timers so that state drains fast). */
  serverExtra: string[];
  /** Extra node options for the server process (`--cpu-prof DIR` sets them). */
  serverNodeArgs?: string[];
  /** settleMs: how long the held calls' RSS is watched after the drain, for the lowest figure (0: not). */
  /**
   * `window`: set-up requests in flight (each waits for the call to connect). `teardownWindow`:
   * DELETEs in flight — a DELETE answers as soon as the BYEs are sent, so this window alone paces
   * the hang-up: with 100, bursts of 200 BYEs met two SIPp processes holding the calls, which
   * answered 1.5 s late or not at all (~150,000 server retransmissions for 20,000 calls, ~1,000,000
   * for 100,000); with 4, none, and the teardown is faster.
   */
  hold: { calls: number[]; window: number; teardownWindow: number; lingerMs: number; settleMs: number };
  soak: { perSec: number; durationMs: number; sampleMs: number; warmupFraction: number; lingerMs: number };
}
