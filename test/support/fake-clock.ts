// A manual clock for tests: timers fire only when the test advances time, in due order (ties in
// the order they were armed), including timers armed by callbacks while advancing.
import type { TimerHandle, TimerHost } from '../../src/sip/timer.js';

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements TimerHost {
  private current: number;
  private seq = 0;
  /** Sorted by (due, seq). */
  private queue: FakeTimer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: FakeTimer = { due: this.current + delay, seq: this.seq++, fn };
    // Insert after every timer due at or before it: stable for equal due times.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.due > timer.due) i--;
    this.queue.splice(i, 0, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.queue.indexOf(handle as FakeTimer);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): must be >= 0`);
    const target = this.current + ms;
    for (;;) {
      const next = this.queue[0];
      if (!next || next.due > target) break;
      this.queue.shift();
      this.current = next.due;
      next.fn();
    }
    this.current = target;
  }

  /** Advances to the next armed timer and fires it (and any due at the same instant); false if none. */
  advanceToNext(): boolean {
    const next = this.queue[0];
    if (!next) return false;
    this.advance(next.due - this.current);
    return true;
  }

  /** Timers armed and not yet fired or cleared. */
  pending(): number {
    return this.queue.length;
  }

  /** Due time of the next timer, or undefined. */
  nextDue(): number | undefined {
    return this.queue[0]?.due;
  }
}
