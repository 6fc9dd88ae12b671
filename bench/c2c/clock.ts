/**
 * Wall-clock time in ms with µs resolution, comparable with SIPp's gettimeofday() on the same
 * machine: request→INVITE subtracts the driver's send time from the time SIPp logged the INVITE.
 *
 * It is the monotonic clock plus an offset to the wall clock. The offset is measured again before
 * each measured run, and once more after it: when the wall clock moved against the monotonic one
 * in between (a virtual machine paused and restored, an NTP step), the two clocks in the
 * subtraction disagree and that run's request→INVITE latencies are wrong — by 2.6 s in one
 * half-rate run on 2026-11-28, where the kernel logged a virtual-machine fork. The run says so.
 */
export interface WallClock {
  /** Wall-clock ms (µs resolution). */
  epochMs(): number;
  /** Measures the offset again (before a run); returns it. */
  sync(): number;
  /** How far the wall clock moved against epochMs() since the last sync (ms; within ~0.02 ms when it did not). */
  stepMs(): number;
}

export interface ClockSources {
  /** The wall clock, whole ms (Date.now). */
  wall(): number;
  /** A monotonic clock in ms with sub-ms resolution, on the epoch at process start. */
  mono(): number;
}

const realSources: ClockSources = { wall: Date.now, mono: () => performance.timeOrigin + performance.now() };

/** Spins at most this long for Date.now() to tick over (it ticks every ms). */
const MAX_SPIN_MS = 5;
/** Ticks read at most per measurement, and bounds narrow enough to stop at (ms). */
const TICKS = 8;
const GOOD_WIDTH_MS = 0.02;

export function createWallClock(src: ClockSources = realSources): WallClock {
  // Date.now() is whole ms: at the instant it ticks over, wall time is that whole ms. The tick
  // fell between the last read that did not see it and the first that did; the monotonic clock
  // read on both sides of those two reads bounds that instant. A preemption in there (the load
  // core is busy) widens the bounds, so of a few ticks the one with the narrowest bounds is kept.
  const measure = (): number => {
    let best = Number.NaN;
    let bestWidth = Number.POSITIVE_INFINITY;
    for (let tick = 0; tick < TICKS && bestWidth > GOOD_WIDTH_MS; tick++) {
      let before = src.mono();
      const first = src.wall();
      const giveUp = before + MAX_SPIN_MS;
      for (;;) {
        const a = src.mono();
        const w = src.wall();
        const b = src.mono();
        if (w !== first) {
          // Tick between `before` (ahead of the read that did not see it) and `b`.
          const width = b - before;
          if (width < bestWidth) {
            bestWidth = width;
            best = w - (before + b) / 2;
          }
          break;
        }
        if (b > giveUp) {
          // A wall clock that does not tick: the reading is as rough as it gets.
          if (bestWidth === Number.POSITIVE_INFINITY) {
            bestWidth = MAX_SPIN_MS;
            best = w - b;
          }
          break;
        }
        before = a;
      }
    }
    return best;
  };
  let offset = measure();
  return {
    epochMs: () => src.mono() + offset,
    sync: () => (offset = measure()),
    stepMs: () => measure() - offset,
  };
}

const clock = createWallClock();

export function epochMs(): number {
  return clock.epochMs();
}

export function syncWallClock(): number {
  return clock.sync();
}

export function wallClockStepMs(): number {
  return clock.stepMs();
}
