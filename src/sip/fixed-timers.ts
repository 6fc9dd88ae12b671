/**
 * Timers of one fixed length (64*T1 for B, F, H, J, L, M; T4 for I, K; Timer D; each interval of
 * the retransmission timers A, E, G: T1, 2*T1, …) for every transaction of a layer; the call layer
 * uses it too (MaxCallDuration of held calls). All timers of a queue have the same length, so they expire in the order
 * they were armed: a FIFO with one host timer for its head replaces a host timer and two closures
 * per transaction. Under load tens of thousands of transactions wait in Completed/Accepted states
 * (issue 2, issue 6): this is what keeps them cheap to arm, cancel and hold.
 *
 * The FIFO is a list of fixed-size chunks: a slot is an owner pointer, a one-byte name and an
 * unboxed deadline (17 bytes), where three growing arrays took 24 bytes and up to half as much
 * again in growth slack, and reallocated megabytes at a time in the old generation as they grew
 * (~330 bytes per finished REFER session in the 64*T1 queue, issue 6). A consumed chunk is dropped
 * whole; the queue keeps one when it empties, so a queue that keeps emptying does not churn.
 */
import type { TimerHandle, TimerHost } from './timer.js';

/** What a queue calls when a timer expires. */
export interface FixedTimerOwner {
  fixedTimerFired(name: string): void;
}

/**
 * How long to wait for `due` in a FIFO whose waits are all `length` ms: a wall clock set back
 * must not stretch a wait, so never longer than the length.
 */
export function waitFor(timers: TimerHost, due: number, length: number): number {
  return Math.min(Math.max(due - timers.now(), 0), length);
}

/** Whether `due` has come; a deadline further away than the length means the clock went back: it has. */
export function hasCome(due: number, now: number, length: number): boolean {
  return due <= now || due - now > length;
}

const CHUNK_BITS = 10;
const CHUNK_SLOTS = 1 << CHUNK_BITS;
const SLOT_MASK = CHUNK_SLOTS - 1;

/** CHUNK_SLOTS slots: owner (undefined once cancelled or fired), name code, deadline. */
class Chunk {
  readonly owners: (FixedTimerOwner | undefined)[] = new Array<FixedTimerOwner | undefined>(CHUNK_SLOTS).fill(undefined);
  readonly names = new Uint8Array(CHUNK_SLOTS);
  /** Epoch ms are not Smis: a Float64Array keeps them unboxed. */
  readonly dues = new Float64Array(CHUNK_SLOTS);
}

export class FixedTimerQueue {
  private chunks: Chunk[] = [];
  /** The sequence number (handle) of chunks[0]'s first slot. */
  private base = 0;
  /** The oldest slot still to look at, counted from base. */
  private head = 0;
  /** The sequence number the next timer gets. */
  private tail = 0;
  private live = 0;
  private timer: TimerHandle | undefined = undefined;
  /** Inside fire(): a timer an owner arms there must not set the host timer (fire() sets it last). */
  private firing = false;
  /** Names by code (a slot keeps a byte): the few timer names a queue sees. */
  private readonly names: string[] = [];

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
    const handle = this.tail;
    const index = handle - this.base;
    const ci = index >>> CHUNK_BITS;
    if (ci === this.chunks.length) this.chunks.push(new Chunk());
    const chunk = this.chunks[ci]!;
    const slot = index & SLOT_MASK;
    const due = this.timers.now() + this.ms;
    chunk.owners[slot] = owner;
    chunk.names[slot] = this.codeOf(name);
    chunk.dues[slot] = due;
    this.tail++;
    this.live++;
    if (this.timer === undefined && !this.firing) this.arm(due);
    return handle;
  }

  cancel(handle: number): void {
    const index = handle - this.base;
    if (index < this.head || handle >= this.tail) return;
    const chunk = this.chunks[index >>> CHUNK_BITS]!;
    const slot = index & SLOT_MASK;
    if (chunk.owners[slot] === undefined) return;
    chunk.owners[slot] = undefined;
    if (--this.live === 0) this.reset();
  }

  private codeOf(name: string): number {
    let code = this.names.indexOf(name);
    if (code < 0) {
      if (this.names.length > 255) throw new Error(`fixed-timer queue of ${this.ms} ms: more than 256 timer names`);
      code = this.names.push(name) - 1;
    }
    return code;
  }

  private arm(due: number): void {
    this.timer = this.timers.setTimeout(() => this.fire(), waitFor(this.timers, due, this.ms));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.timers.now();
    this.firing = true;
    try {
      this.fireDue(now);
    } finally {
      this.firing = false;
    }
    if (this.live === 0) {
      this.reset();
      return;
    }
    this.dropConsumed();
    // Armed for the head: a timer an owner added meanwhile is due after it (same length, later).
    if (this.timer === undefined) {
      const chunk = this.chunks[this.head >>> CHUNK_BITS]!;
      this.arm(chunk.dues[this.head & SLOT_MASK]!);
    }
  }

  private fireDue(now: number): void {
    // Only the timers armed before this firing: one an owner arms now (a retransmission timer
    // re-armed at T2 from the T2 queue) is due a whole length later, but the wall clock may have
    // moved on since `now` was read, and its deadline would look like a clock set back (hasCome):
    // fired at once, re-armed, fired again — a loop that never yields.
    const end = this.tail;
    // The chunks are read anew each turn: an owner's reaction may cancel (even reset) or add.
    while (this.base + this.head < end) {
      const chunk = this.chunks[this.head >>> CHUNK_BITS]!;
      const slot = this.head & SLOT_MASK;
      const owner = chunk.owners[slot];
      if (owner === undefined) {
        this.head++; // cancelled
        continue;
      }
      if (!hasCome(chunk.dues[slot]!, now, this.ms)) break;
      const name = this.names[chunk.names[slot]!]!;
      chunk.owners[slot] = undefined;
      this.head++;
      this.live--;
      try {
        owner.fixedTimerFired(name);
      } catch {
        // An owner reports its own failures; one must not stop the others' timers.
      }
    }
  }

  /** Drops the chunks the head has left behind (every slot in them fired or cancelled). */
  private dropConsumed(): void {
    const done = this.head >>> CHUNK_BITS;
    if (done === 0) return;
    this.chunks.splice(0, done);
    this.base += done * CHUNK_SLOTS;
    this.head -= done * CHUNK_SLOTS;
  }

  /** Nothing armed: the sequence goes on from tail in the first chunk, kept (all its slots are free). */
  private reset(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.chunks.length > 1) this.chunks.length = 1;
    this.base = this.tail;
    this.head = 0;
  }
}
