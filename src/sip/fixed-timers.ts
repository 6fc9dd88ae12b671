/**
 * Timers of one fixed length (64*T1 for B, F, H, J, L, M; T4 for I, K; Timer D) for every
 * transaction of a layer; the call layer uses it too (MaxCallDuration of held calls). All timers of a queue have the same length, so they expire in the order
 * they were armed: a FIFO with one host timer for its head replaces a host timer and two closures
 * per transaction. Under load tens of thousands of transactions wait in Completed/Accepted states
 * (issue 2, issue 6): this is what keeps them cheap to arm, cancel and hold.
 */
import type { TimerHandle, TimerHost } from './timer.js';

/** What a queue calls when a timer expires. */
export interface FixedTimerOwner {
  fixedTimerFired(name: string): void;
}

export class FixedTimerQueue {
  /** Slot i: owners[i] (undefined once cancelled or fired), names[i], dues[i]. */
  private owners: (FixedTimerOwner | undefined)[] = [];
  private names: string[] = [];
  /** Deadlines apart, in an array of numbers only: V8 keeps them unboxed (epoch ms are not Smis). */
  private dues: number[] = [];
  /** The oldest slot still in the arrays. */
  private head = 0;
  /** The sequence number of slot 0 (a handle stays valid when the arrays are trimmed). */
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
    const handle = this.base + this.owners.length;
    const due = this.timers.now() + this.ms;
    this.owners.push(owner);
    this.names.push(name);
    this.dues.push(due);
    this.live++;
    if (this.timer === undefined) this.arm(due);
    return handle;
  }

  cancel(handle: number): void {
    const i = handle - this.base;
    if (i < this.head || i >= this.owners.length || this.owners[i] === undefined) return;
    this.owners[i] = undefined;
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
    // The arrays are read anew each turn: an owner's reaction may cancel (even reset) or add.
    while (this.head < this.owners.length) {
      const owner = this.owners[this.head];
      if (owner === undefined) {
        this.head++; // cancelled
        continue;
      }
      const due = this.dues[this.head]!;
      // A deadline further away than the queue's length means the clock went back: it is due.
      if (due > now && due - now <= this.ms) break;
      const name = this.names[this.head]!;
      this.owners[this.head] = undefined;
      this.head++;
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
    if (this.timer === undefined) this.arm(this.dues[this.head]!);
  }

  /** Drops the slots before the head once they are the larger part of the arrays. */
  private trim(): void {
    if (this.head < 1024 || this.head * 2 < this.owners.length) return;
    this.owners = this.owners.slice(this.head);
    this.names = this.names.slice(this.head);
    this.dues = this.dues.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }

  private reset(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.base += this.owners.length;
    this.owners = [];
    this.names = [];
    this.dues = [];
    this.head = 0;
  }
}
