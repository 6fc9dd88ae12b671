/**
 * Timers of one fixed length (64*T1 for B, F, H, J, L, M; T4 for I, K; Timer D), for every
 * transaction of a layer. All timers of a queue have the same length, so they expire in the order
 * they were armed: a FIFO with one host timer for its head replaces a host timer and two closures
 * per transaction. Under load tens of thousands of transactions wait in Completed/Accepted states
 * (issue 2, issue 6): this is what keeps them cheap to arm, cancel and hold.
 */
import type { TimerHandle, TimerHost } from '../timer.js';

/** What a queue calls when a timer expires. */
export interface FixedTimerOwner {
  fixedTimerFired(name: string): void;
}

export class FixedTimerQueue {
  /** Slots of three: owner (undefined once cancelled or fired), timer name, deadline. */
  private slots: unknown[] = [];
  /** Index (in slots) of the oldest slot still in the array. */
  private head = 0;
  /** The sequence number of slots[0] (a handle stays valid when the array is trimmed). */
  private base = 0;
  private live = 0;
  private timer: TimerHandle | undefined = undefined;

  constructor(
    private readonly timers: TimerHost,
    readonly ms: number,
  ) {}

  /** Timers armed and not yet fired or cancelled. */
  get size(): number {
    return this.live;
  }

  /** Arms `name` for `owner`; the returned handle cancels it. */
  add(owner: FixedTimerOwner, name: string): number {
    const handle = this.base + this.slots.length;
    const due = this.timers.now() + this.ms;
    this.slots.push(owner, name, due);
    this.live++;
    if (this.timer === undefined) this.arm(due);
    return handle;
  }

  cancel(handle: number): void {
    const i = handle - this.base;
    if (i < this.head || i >= this.slots.length || this.slots[i] === undefined) return;
    this.slots[i] = undefined;
    if (--this.live === 0) this.reset();
  }

  private arm(due: number): void {
    // A wall clock set back must not stretch a wait: never wait longer than the queue's length.
    const wait = Math.min(Math.max(due - this.timers.now(), 0), this.ms);
    this.timer = this.timers.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.timers.now();
    // `this.slots` is read anew each turn: an owner's reaction may cancel (even reset) or add.
    while (this.head < this.slots.length) {
      const owner = this.slots[this.head] as FixedTimerOwner | undefined;
      if (owner === undefined) {
        this.head += 3; // cancelled
        continue;
      }
      const due = this.slots[this.head + 2] as number;
      // A deadline further away than the queue's length means the clock went back: it is due.
      if (due > now && due - now <= this.ms) break;
      const name = this.slots[this.head + 1] as string;
      this.slots[this.head] = undefined;
      this.head += 3;
      this.live--;
      try {
        owner.fixedTimerFired(name);
      } catch {
        // An owner reports its own failures; one must not stop the others' timers.
      }
    }
    if (this.live === 0) {
      this.reset();
      return;
    }
    this.trim();
    if (this.timer === undefined) this.arm(this.slots[this.head + 2] as number);
  }

  /** Drops the slots before the head once they are the larger part of the array. */
  private trim(): void {
    if (this.head < 3072 || this.head * 2 < this.slots.length) return;
    this.slots = this.slots.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }

  private reset(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.base += this.slots.length;
    this.slots = [];
    this.head = 0;
  }
}
