/**
 * Transaction timer values (RFC 3261 §17 and Table 4 of Appendix A; RFC 6026 §8.5 for L and M).
 * Only T1, T2 and T4 are set; every other timer is derived from them.
 */

export interface TimerSettings {
  /** RTT estimate. Default 500 ms. */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. Default 4 s. */
  t2: number;
  /** Maximum time a message stays in the network. Default 5 s. */
  t4: number;
  /**
   * Timer D on unreliable transports. Default max(32 s, 64*T1): §17.1.1.2 "at least 32 seconds
   * for unreliable transports" because the client cannot know the server's T1. Tests and short-
   * timeout deployments may lower it.
   */
  timerD?: number;
}

export const DEFAULT_TIMER_SETTINGS: Readonly<TimerSettings> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** Every timer's value, computed once per layer. Retransmit timers give the first interval. */
export interface TimerValues {
  t1: number;
  t2: number;
  t4: number;
  /** A, E, G initial interval (unreliable transports only). */
  retransmitInitial: number;
  /** B, F, H, L, M: 64*T1. */
  transactionTimeout: number;
  /** D, unreliable. */
  d: number;
}

export function resolveTimers(settings: Partial<TimerSettings> = {}): TimerValues {
  const t1 = settings.t1 ?? DEFAULT_TIMER_SETTINGS.t1;
  const t2 = settings.t2 ?? DEFAULT_TIMER_SETTINGS.t2;
  const t4 = settings.t4 ?? DEFAULT_TIMER_SETTINGS.t4;
  for (const [name, v] of [['t1', t1], ['t2', t2], ['t4', t4]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`Timer ${name} must be a positive number of ms, got ${v}`);
  }
  if (t2 < t1) throw new RangeError(`Timer T2 (${t2}) must not be below T1 (${t1})`);
  const d = settings.timerD ?? Math.max(32_000, 64 * t1);
  if (!Number.isFinite(d) || d < 0) throw new RangeError(`Timer D must be >= 0 ms, got ${d}`);
  return { t1, t2, t4, retransmitInitial: t1, transactionTimeout: 64 * t1, d };
}

/**
 * The next interval of a capped retransmit timer (E, G): §17.1.2.2 "reset ... with a value of
 * MIN(2*T1, T2) ... MIN(4*T1, T2)": doubling, capped at T2.
 */
export function nextCappedInterval(previous: number, t2: number): number {
  return Math.min(previous * 2, t2);
}
