/**
 * What all four transaction kinds share: named timers that are always cleared on termination,
 * sends whose failures come back as a state-machine event, and TU calls that cannot throw into
 * the layer. The state machines themselves live in the four subclasses.
 */
import type { SipMessage, SipRequest } from '../message/message.js';
import type { TimerHandle, TimerHost } from '../timer.js';
import type { FixedTimerOwner, FixedTimerQueue } from './fixed-timers.js';
import type { TimerValues } from './settings.js';
import type { AnyTransaction, Destination, TransactionEvent, TransactionWire } from './types.js';

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
}

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M';

export abstract class Transaction implements FixedTimerOwner {
  /** The matching key (§17.1.3 / §17.2.3) under which the layer holds this transaction. */
  readonly id: string;
  readonly isInvite: boolean;
  /** Not UDP: nothing is retransmitted and the wait timers D, I, J, K are zero. */
  readonly reliable: boolean;
  protected readonly ctx: TransactionContext;
  /**
   * Armed timers as [name, handle, queue, name, handle, queue, …] in the order they were armed
   * (queue: the FixedTimerQueue of a fixed-length timer, else undefined for a host timer): a
   * transaction has one to three at a time, and thousands wait in Completed/Accepted states, so
   * a small array rather than a Map per transaction (less memory, less GC).
   */
  private armed: unknown[] | undefined = undefined;
  private ended = false;
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
    if (request === undefined) throw new Error(`${this.method} transaction ${this.id}: its request was let go when it entered ${this.stateName}`);
    return request;
  }

  /** Whether the request is still held (see `request`). */
  get holdsRequest(): boolean {
    return this.heldRequest !== undefined;
  }

  protected abstract get stateName(): string;

  /**
   * Entering a wait state in which the request is neither sent again nor read: up to 64*T1 of
   * holding a parsed request (and, received, its datagram and source) for nothing — the largest
   * part of what a finished call kept under load (issue 2, issue 6).
   */
  protected releaseRequest(): void {
    this.heldRequest = undefined;
  }

  get isTerminated(): boolean {
    return this.ended;
  }

  /** Names of the timers currently armed (for tests and debugging). */
  get armedTimers(): TimerName[] {
    const names: TimerName[] = [];
    const armed = this.armed;
    if (armed) for (let i = 0; i < armed.length; i += 3) names.push(armed[i] as TimerName);
    return names;
  }

  // ── timers ─────────────────────────────────────────────────────────────────────

  /**
   * Arms (or re-arms) a host timer, for the retransmission timers whose interval changes (A, E,
   * G). Its callback never throws out: a failure ends the transaction.
   */
  protected startTimer(name: TimerName, ms: number, onFire: () => void): void {
    if (this.ended) return;
    this.stopTimer(name);
    const handle = this.ctx.timers.setTimeout(() => {
      this.forget(name);
      if (this.ended) return;
      try {
        onFire();
      } catch (error) {
        this.fail(error);
      }
    }, ms);
    this.arm(name, handle, undefined);
  }

  /**
   * Arms a timer of fixed length (B, D, F, H, I, J, K, L, M) in the layer's queue for that
   * length: no host timer and no closure per transaction. It fires `onFixedTimer(name)`.
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
    const armed = this.armed;
    if (!armed) return;
    for (let i = 0; i < armed.length; i += 3) {
      if (armed[i] === name) {
        const handle = armed[i + 1];
        const queue = armed[i + 2] as FixedTimerQueue | undefined;
        this.unarm(i);
        if (queue) queue.cancel(handle as number);
        else this.ctx.timers.clearTimeout(handle);
        return;
      }
    }
  }

  private arm(name: TimerName, handle: unknown, queue: FixedTimerQueue | undefined): void {
    // A literal of three has room for exactly one timer: most waiting transactions hold one.
    if (this.armed === undefined) this.armed = [name, handle, queue];
    else this.armed.push(name, handle, queue);
  }

  /** Removes entry `i` from `armed`; an emptied array is dropped (it has grown past one timer). */
  private unarm(i: number): void {
    const armed = this.armed!;
    if (armed.length === 3) this.armed = undefined;
    else armed.splice(i, 3);
  }

  /** Removes a timer that fired from `armed`. */
  private forget(name: TimerName): void {
    const armed = this.armed;
    if (!armed) return;
    for (let i = 0; i < armed.length; i += 3) {
      if (armed[i] === name) {
        this.unarm(i);
        return;
      }
    }
  }

  private stopAllTimers(): void {
    const armed = this.armed;
    if (!armed) return;
    this.armed = undefined;
    for (let i = 0; i < armed.length; i += 3) {
      const queue = armed[i + 2] as FixedTimerQueue | undefined;
      if (queue) queue.cancel(armed[i + 1] as number);
      else this.ctx.timers.clearTimeout(armed[i + 1]);
    }
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
