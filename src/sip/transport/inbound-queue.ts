/**
 * UDP datagrams are handled in slices from the check phase (setImmediate), not as libuv reads
 * them. libuv reads up to 32 datagrams per readiness of a UDP socket and Node hands each to us at
 * once; a 2xx that creates a dialog and sends an ACK and a REFER costs ~130 µs, so a burst of
 * answers kept the poll phase busy for milliseconds while the API's sockets, ready in the same
 * poll, waited: at half the sustained rate, 99 % of the request→INVITE time that exceeded 2 ms
 * was the request waiting to be read (issue 6; docs/benchmarks.md, sixteenth round). Queued, a
 * datagram costs a push in the poll phase, and the SIP work runs in slices of `sliceMicros`
 * between polls: a click-to-call request waits for at most a slice, not for the backlog.
 *
 * Messages keep their order. When `maxQueued` wait, or `maxQueuedBytes` (the server cannot keep
 * up, or a peer floods it with large datagrams), the queue is handled whole before the next one —
 * the behaviour without slices, where the kernel's socket buffer holds the rest — so that the
 * queue never holds more than that. `sliceMicros` 0: every message is delivered as it is read.
 */
import type { Inbound } from './types.js';

export interface InboundQueueOptions {
  /** Microseconds of delivering per slice (at least one message per slice); 0: no queue. */
  sliceMicros: number;
  /** Most messages waiting; at this many, all of them are delivered at once. */
  maxQueued: number;
  /** Most bytes waiting (the datagrams' lengths); a message that would pass it is delivered after all of them. */
  maxQueuedBytes: number;
  /** Delivers one message (must not throw: the transport layer's deliver catches). */
  deliver(m: Inbound): void;
  /** ms, high resolution (tests pass a fake clock). */
  now?: () => number;
  /** Runs `fn` after the poll phase (tests run it by hand). */
  schedule?: (fn: () => void) => void;
}

export class InboundQueue {
  private readonly sliceMs: number;
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private queuedBytes = 0;
  private readonly deliver: (m: Inbound) => void;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void) => void;
  private items: (Inbound | undefined)[] = [];
  private head = 0;
  private scheduled = false;
  private readonly runSlice = (): void => {
    this.scheduled = false;
    this.drain(this.sliceMs);
  };

  constructor(opts: InboundQueueOptions) {
    this.sliceMs = Math.max(0, opts.sliceMicros) / 1000;
    this.maxQueued = Math.max(1, opts.maxQueued);
    this.maxQueuedBytes = Math.max(0, opts.maxQueuedBytes);
    this.deliver = opts.deliver;
    this.now = opts.now ?? (() => performance.now());
    this.schedule = opts.schedule ?? ((fn) => setImmediate(fn));
  }

  /** Messages waiting for a slice. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(m: Inbound): void {
    if (this.sliceMs === 0) {
      this.deliver(m);
      return;
    }
    if (this.length >= this.maxQueued || this.queuedBytes + m.data.length > this.maxQueuedBytes) this.drain(Infinity);
    this.items.push(m);
    this.queuedBytes += m.data.length;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.runSlice);
    }
  }

  /** Drops every waiting message (the layer closing: nothing could answer them). */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private drain(budgetMs: number): void {
    const end = budgetMs === Infinity ? Infinity : this.now() + budgetMs;
    const items = this.items;
    while (this.head < items.length) {
      const m = items[this.head]!;
      items[this.head++] = undefined;
      this.queuedBytes -= m.data.length;
      this.deliver(m);
      // Cleared by what that message did (the layer closed): the rest is gone, and so is `items`.
      if (this.items !== items) return;
      if (end !== Infinity && this.now() >= end) break;
    }
    if (this.head >= items.length) {
      // Empty: a fresh array rather than one that only grows (its consumed front is dead space).
      this.items = [];
      this.head = 0;
      return;
    }
    if (this.head >= 1024 && this.head * 2 >= items.length) {
      // Never empty under a steady backlog: drop the consumed front now and then.
      this.items = items.slice(this.head);
      this.head = 0;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.runSlice);
    }
  }
}
