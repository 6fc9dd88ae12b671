/**
 * The injectable clock shared by the whole SIP stack. Everything that waits (transaction timers,
 * Timer C, subscription expiry) takes a TimerHost, so tests drive time with a fake clock instead
 * of sleeping.
 */

/** Opaque: whatever the host's setTimeout returned. */
export type TimerHandle = unknown;

export interface TimerHost {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds; for realTimers the wall clock (Date.now()). */
  now(): number;
}

/** Node's setTimeout fires at once for delays above 2^31-1 ms; clamp instead of misfiring. */
const MAX_DELAY = 0x7fffffff;

/**
 * Node timers. They are not unref'd on purpose: an armed retransmission or timeout timer keeps the
 * process alive, and once every transaction has ended no timer is left to hold it.
 */
export const realTimers: TimerHost = {
  setTimeout(fn, ms) {
    const delay = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_DELAY) : 0;
    return setTimeout(fn, delay);
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
  now() {
    return Date.now();
  },
};

/**
 * Wraps a TimerHost and counts the timers that are armed (set, neither fired nor cleared), so a
 * test or a health check can assert that nothing is left running: `armed === 0` once idle.
 */
export class CountingTimers implements TimerHost {
  private readonly inner: TimerHost;
  private readonly live = new Set<TimerHandle>();
  /** Timers ever armed through this host. */
  totalArmed = 0;

  constructor(inner: TimerHost = realTimers) {
    this.inner = inner;
  }

  get armed(): number {
    return this.live.size;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // The handle is only known once the inner host returns; the timer cannot fire before that.
    let handle: TimerHandle;
    handle = this.inner.setTimeout(() => {
      this.live.delete(handle);
      fn();
    }, ms);
    this.live.add(handle);
    this.totalArmed++;
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle);
    this.inner.clearTimeout(handle);
  }

  now(): number {
    return this.inner.now();
  }
}
