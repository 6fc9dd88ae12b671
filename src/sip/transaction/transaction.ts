/**
 * What all four transaction kinds share: named timers that are always cleared on termination,
 * sends whose failures come back as a state-machine event, and TU calls that cannot throw into
 * the layer. The state machines themselves live in the four subclasses.
 */
import type { SipMessage, SipRequest } from '../message/message.js';
import type { TimerHost } from '../timer.js';
import type { FixedTimerOwner, FixedTimerQueue } from '../fixed-timers.js';
import type { TimerValues } from './settings.js';
import type { AnyTransaction, Destination, TransactionEvent, TransactionWire } from './types.js';
import { NO_RECORD, type WaitTable } from './wait-table.js';

/** What a transaction needs from the layer that owns it. */
export interface TransactionContext {
  readonly wire: TransactionWire;
  readonly timers: TimerHost;
  readonly values: TimerValues;
  emit(event: TransactionEvent): void;
  /** Unregisters a transaction that reached Terminated (§17.1.1.2: "destroyed the instant it enters"). */
  release(tx: AnyTransaction): void;
  /** The layer's queue for timers of length `ms` (see fixed-timers.ts). */
  fixedTimers(ms: number): FixedTimerQueue;
  /**
   * The layer's records of transactions waiting out Timer J (non-INVITE server), K (non-INVITE
   * client) or M (INVITE client in Accepted).
   */
  waitTable(side: 'server' | 'client' | 'accepted'): WaitTable;
}

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M';

export abstract class Transaction implements FixedTimerOwner {
  /** The matching key (§17.1.3 / §17.2.3) under which the layer holds this transaction. */
  readonly id: string;
  readonly isInvite: boolean;
  /** Not UDP: nothing is retransmitted and the wait timers D, I, J, K are zero. */
  readonly reliable: boolean;
  protected readonly ctx: TransactionContext;
  // Armed timers in two inline slots, the older first (name, handle, queue — the FixedTimerQueue
  // of a fixed-length timer, else undefined for a host timer). No state machine arms more than
  // two at once (A+B, E+F, G+H). Fields rather than an array: tens of thousands of transactions
  // wait under load, each with one timer.
  private n0: TimerName | undefined = undefined;
  private h0: unknown = undefined;
  private q0: FixedTimerQueue | undefined = undefined;
  private n1: TimerName | undefined = undefined;
  private h1: unknown = undefined;
  private q1: FixedTimerQueue | undefined = undefined;
  private ended = false;
  // Once the rest of a wait state is a record in the layer's table (retire): the table, the
  // record and the timer it waits out. The object is no longer the layer's; these let whoever
  // still holds it read the truth (state, isTerminated, armedTimers).
  private waitTable: WaitTable | undefined = undefined;
  private waitSeq = NO_RECORD;
  private waitTimer: TimerName | undefined = undefined;
  /** The method of the request that created the transaction. */
  readonly method: string;
  private heldRequest: SipRequest | undefined;

  protected constructor(id: string, isInvite: boolean, reliable: boolean, request: SipRequest, ctx: TransactionContext) {
    this.id = id;
    this.isInvite = isInvite;
    this.reliable = reliable;
    this.method = request.method;
    this.heldRequest = request;
    this.ctx = ctx;
  }

  /**
   * The request that created the transaction. Let go (releaseRequest) in the wait states that
   * never send or read it again; reading it then is a bug in the layer, reported as one.
   */
  get request(): SipRequest {
    const request = this.heldRequest;
    if (request === undefined) throw new Error(`${this.method} transaction ${this.id}: its request was let go when it entered ${this.state}`);
    return request;
  }

  /** Whether the request is still held (see `request`). */
  get holdsRequest(): boolean {
    return this.heldRequest !== undefined;
  }

  abstract state: string;

  /**
   * Entering a wait state in which the request is neither sent again nor read: up to 64*T1 of
   * holding a parsed request (and, received, its datagram and source) for nothing — the largest
   * part of what a finished call kept under load (issue 2, issue 6).
   */
  protected releaseRequest(): void {
    this.heldRequest = undefined;
  }

  get isTerminated(): boolean {
    return this.ended || (this.waitTable !== undefined && !this.waitTable.has(this.waitSeq));
  }

  /** Names of the timers currently armed (for tests and debugging). */
  get armedTimers(): TimerName[] {
    if (this.waitTable !== undefined) return this.isTerminated ? [] : [this.waitTimer!];
    const names: TimerName[] = [];
    if (this.n0 !== undefined) names.push(this.n0);
    if (this.n1 !== undefined) names.push(this.n1);
    return names;
  }

  /**
   * Hands the rest of a wait state (Timer J, K or M, nothing left for a TU but what the record
   * keeps) to the layer's `table`, as a record of the key and the bytes it needs (a response to
   * re-send, an ACK): the layer forgets this object, which nothing then needs (wait-table.ts), and
   * its timers stop (the record's deadline replaces them). False when the table cannot keep the
   * key: the transaction waits as an object, its timers as they were.
   */
  protected retire(timer: TimerName, table: WaitTable, body?: Uint8Array, dest?: Destination, code = 0, due?: number): boolean {
    if (this.isTerminated || this.waitTable !== undefined) return false;
    const seq = table.add(this.id, body, dest, code, due);
    if (seq === NO_RECORD) return false;
    this.stopAllTimers();
    this.ctx.release(this.self());
    this.waitTable = table;
    this.waitSeq = seq;
    this.waitTimer = timer;
    return true;
  }

  // ── timers ─────────────────────────────────────────────────────────────────────

  /**
   * Arms (or re-arms) a timer in the layer's queue for its length: no host timer and no closure
   * per transaction. It fires `onFixedTimer(name)`. The wait timers (B, D, F, H, I, J, K, L, M)
   * have one length each; a retransmission timer (A, E, G) is armed anew at each firing with its
   * next interval (T1, 2*T1, … capped at T2 for E and G), each interval a queue of its own — a
   * handful per layer. Nearly every A and E is cancelled by a response within milliseconds: in a
   * queue that is a slot cleared, where a host timer was created and unlinked (issue 6).
   */
  protected startFixedTimer(name: TimerName, ms: number): void {
    if (this.ended) return;
    this.stopTimer(name);
    const queue = this.ctx.fixedTimers(ms);
    this.arm(name, queue.add(this, name), queue);
  }

  /**
   * A wait timer that is zero on reliable transports (D, I, J, K): with a zero value the
   * transaction moves on at once rather than arming a timer for "now".
   */
  protected startWaitTimer(name: TimerName, ms: number): void {
    if (this.ended) return;
    if (ms <= 0) this.onFixedTimer(name);
    else this.startFixedTimer(name, ms);
  }

  /** A fixed-length timer expired (called by its queue). */
  fixedTimerFired(name: string): void {
    this.forget(name as TimerName);
    if (this.ended) return;
    try {
      this.onFixedTimer(name as TimerName);
    } catch (error) {
      this.fail(error);
    }
  }

  /** What a fixed-length timer does; the wait timers (D, I, J, K, L, M) end the transaction. */
  protected onFixedTimer(_name: TimerName): void {
    this.terminate();
  }

  protected stopTimer(name: TimerName): void {
    let handle: unknown;
    let queue: FixedTimerQueue | undefined;
    if (this.n0 === name) {
      handle = this.h0;
      queue = this.q0;
      this.shiftSlots();
    } else if (this.n1 === name) {
      handle = this.h1;
      queue = this.q1;
      this.clearSecondSlot();
    } else {
      return;
    }
    if (queue) queue.cancel(handle as number);
    else this.ctx.timers.clearTimeout(handle);
  }

  private arm(name: TimerName, handle: unknown, queue: FixedTimerQueue | undefined): void {
    if (this.n0 === undefined) {
      this.n0 = name;
      this.h0 = handle;
      this.q0 = queue;
    } else if (this.n1 === undefined) {
      this.n1 = name;
      this.h1 = handle;
      this.q1 = queue;
    } else {
      // A state machine arming a third timer is a bug in this layer: reported, the transaction ended.
      throw new Error(`${this.method} transaction ${this.id}: Timer ${name} armed while ${this.n0} and ${this.n1} run`);
    }
  }

  /** The first slot is empty now: the second moves up. */
  private shiftSlots(): void {
    this.n0 = this.n1;
    this.h0 = this.h1;
    this.q0 = this.q1;
    this.clearSecondSlot();
  }

  private clearSecondSlot(): void {
    this.n1 = undefined;
    this.h1 = undefined;
    this.q1 = undefined;
  }

  /** Removes a timer that fired from the slots. */
  private forget(name: TimerName): void {
    if (this.n0 === name) this.shiftSlots();
    else if (this.n1 === name) this.clearSecondSlot();
  }

  private stopAllTimers(): void {
    while (this.n0 !== undefined) this.stopTimer(this.n0);
  }

  // ── sending ────────────────────────────────────────────────────────────────────

  /**
   * Passes a message to the transport. A failure, reported through the callback or thrown by the
   * wire, becomes `onSendError` (§17.1.4, §17.2.4) — never an exception to whoever called us.
   */
  protected transmit(message: SipMessage, dest: Destination): void {
    try {
      // One completion callback per transaction, made on the first send (not one per message).
      this.ctx.wire.send(message, dest, (this.sendDone ??= (err?: Error) => this.onSendDone(err)));
    } catch (error) {
      this.handleSendError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Like transmit, for a message kept as bytes only (a wait state's last response). */
  protected transmitBytes(bytes: Buffer, dest: Destination): void {
    try {
      this.ctx.wire.sendBytes(bytes, dest, (this.sendDone ??= (err?: Error) => this.onSendDone(err)));
    } catch (error) {
      this.handleSendError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private sendDone: ((err?: Error) => void) | undefined = undefined;

  /** Entering a wait state: the send callback is made again if a retransmission needs it. */
  protected shedSendCallback(): void {
    this.sendDone = undefined;
  }

  private onSendDone(err: Error | undefined): void {
    if (!err) return;
    try {
      this.handleSendError(err);
    } catch (error) {
      this.fail(error);
    }
  }

  private handleSendError(err: Error): void {
    this.ctx.emit({ type: 'transport-error', error: err, tx: this.self() });
    this.onSendError(err);
  }

  /** The state machine's reaction to a failed send. */
  protected abstract onSendError(err: Error): void;

  // ── TU calls and termination ───────────────────────────────────────────────────

  /** Calls into the TU; an exception is reported, not propagated (the machine must go on). */
  protected callUser(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.ctx.emit({ type: 'tu-error', error, tx: this.self() });
    }
  }

  /** Enters Terminated: clears every timer, unregisters, tells the TU. Idempotent. */
  terminate(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waitTable !== undefined) this.waitTable.remove(this.waitSeq);
    this.setTerminatedState();
    this.stopAllTimers();
    this.ctx.release(this.self());
    this.notifyTerminated();
  }

  protected abstract setTerminatedState(): void;
  protected abstract notifyTerminated(): void;
  protected abstract self(): AnyTransaction;

  /** An internal error: report it and end the transaction so nothing leaks. */
  protected fail(error: unknown): void {
    this.ctx.emit({ type: 'internal-error', error, tx: this.self() });
    this.terminate();
  }
}
