/**
 * The transaction layer (RFC 3261 §17): creates client transactions for the TU's requests, matches
 * responses and requests to live transactions, creates server transactions for new requests, and
 * holds every transaction until it terminates. One per stack; constructed and passed in.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_COOKIE } from '../message/via.js';
import type { TimerHost } from '../timer.js';
import type { ClientTransaction } from './client-transaction.js';
import { InviteClientTransaction } from './invite-client.js';
import { InviteServerTransaction } from './invite-server.js';
import { FixedTimerQueue } from '../fixed-timers.js';
import { clientKey, hasRfc3261Branch, responseKey, rfc2543Base, serverKey } from './matching.js';
import { NonInviteClientTransaction } from './non-invite-client.js';
import { NonInviteServerTransaction } from './non-invite-server.js';
import type { AckDisposition, ServerTransaction } from './server-transaction.js';
import { resolveTimers, type TimerSettings, type TimerValues } from './settings.js';
import type { TransactionContext } from './transaction.js';
import { NO_RECORD, WaitTable } from './wait-table.js';
import type {
  AnyTransaction,
  ClientTransactionUser,
  Destination,
  TransactionEvent,
  TransactionWire,
} from './types.js';

export interface TransactionLayerOptions {
  wire: TransactionWire;
  timers: TimerHost;
  settings?: Partial<TimerSettings>;
  /** Retransmissions, timeouts, TU exceptions … for metrics and logs. Must not throw (it is guarded anyway). */
  onEvent?: (event: TransactionEvent) => void;
  /**
   * A 2xx for an INVITE client transaction that waits out Timer M as a record (its TU retired it,
   * `retireAccepted`): the TU's part (RFC 6026 §7.2), given the bytes the TU left in the record.
   * Without it such 2xx are only absorbed.
   */
  onAccepted2xx?: (response: SipResponse, kept: Buffer) => void;
}

export type ReceiveRequestResult =
  /** A new server transaction: hand it to the TU (set `tx.user`). An INVITE has already sent 100 Trying. */
  | { kind: 'new'; tx: ServerTransaction }
  /**
   * A retransmission, absorbed: the last response was re-sent if the state calls for it (§17.2.1,
   * §17.2.2). No `tx` when the transaction waits as a record (wait-table.ts).
   */
  | { kind: 'retransmission'; tx?: ServerTransaction }
  /** The ACK for our non-2xx final response (Completed → Confirmed), or a retransmission of it. */
  | { kind: 'ack-absorbed' }
  /**
   * An ACK for the TU: it matched no transaction (the usual ACK for a 2xx, §17.1.1.3/§13.2.2.4), or
   * it matched an INVITE server transaction in "Accepted" (RFC 6026 §8.7), given as `tx`.
   */
  | { kind: 'ack'; tx?: ServerTransaction }
  /** The request's Via, CSeq, From or To could not be read: no transaction can hold it. */
  | { kind: 'invalid'; error: Error };

export class TransactionLayer {
  readonly timerValues: TimerValues;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** RFC 2543 INVITE server transactions by the key their ACK matches (less the To tag, §17.2.3). */
  private readonly rfc2543Invites = new Map<string, ServerTransaction>();
  private readonly ctx: TransactionContext;
  private readonly onEvent: ((event: TransactionEvent) => void) | undefined;
  /** One queue per fixed timer length (64*T1, T4, D): see fixed-timers.ts. */
  private readonly queues = new Map<number, FixedTimerQueue>();
  /**
   * Transactions waiting as records (wait-table.ts): non-INVITE server ones in Completed (Timer
   * J), non-INVITE client ones in Completed (Timer K), INVITE client ones in Accepted (Timer M).
   */
  private readonly serverWaits: WaitTable;
  private readonly clientWaits: WaitTable;
  private readonly acceptedWaits: WaitTable;
  private readonly onAccepted2xx: ((response: SipResponse, kept: Buffer) => void) | undefined;

  constructor(opts: TransactionLayerOptions) {
    this.timerValues = resolveTimers(opts.settings);
    this.onEvent = opts.onEvent;
    this.serverWaits = new WaitTable(opts.timers, this.timerValues.transactionTimeout);
    this.clientWaits = new WaitTable(opts.timers, this.timerValues.t4);
    this.acceptedWaits = new WaitTable(opts.timers, this.timerValues.transactionTimeout);
    this.onAccepted2xx = opts.onAccepted2xx;
    this.ctx = {
      wire: opts.wire,
      timers: opts.timers,
      values: this.timerValues,
      emit: (event) => this.emit(event),
      release: (tx) => this.release(tx),
      fixedTimers: (ms) => {
        let queue = this.queues.get(ms);
        if (queue === undefined) this.queues.set(ms, (queue = new FixedTimerQueue(opts.timers, ms)));
        return queue;
      },
      waitTable: (side) => (side === 'server' ? this.serverWaits : side === 'client' ? this.clientWaits : this.acceptedWaits),
    };
  }

  /** Live transactions, client and server (those waiting as records included). */
  get size(): number {
    return this.clientCount + this.serverCount;
  }

  get clientCount(): number {
    return this.clients.size + this.clientWaits.size + this.acceptedWaits.size;
  }

  /**
   * Client transactions still waiting for their final response (Calling, Trying, Proceeding):
   * what a stopping server waits for — not those that only wait out a timer (Completed,
   * Accepted), which on UDP last T4 or 64*T1 after the answer.
   */
  get awaitingAnswers(): number {
    let n = 0;
    for (const tx of this.clients.values()) if (tx.state === 'Calling' || tx.state === 'Trying' || tx.state === 'Proceeding') n++;
    return n;
  }

  get serverCount(): number {
    return this.servers.size + this.serverWaits.size;
  }

  /**
   * Creates, registers and starts a client transaction (§17.1): INVITE → INVITE client transaction,
   * anything else → non-INVITE. Throws (a TU programming error) for ACK — "There is no client
   * transaction for ACK. If the TU wishes to send an ACK, it passes one directly to the transport
   * layer" (§17.1) — for a top Via without an RFC 3261 branch, and for a branch already in use.
   */
  sendRequest(request: SipRequest, dest: Destination, user: ClientTransactionUser): ClientTransaction {
    if (request.method === 'ACK') throw new Error('ACK has no client transaction (RFC 3261 §17.1): send it on the wire');
    const via = request.topVia;
    if (!hasRfc3261Branch(via)) {
      throw new Error(`Request needs a top Via branch starting with z9hG4bK (RFC 3261 §8.1.1.7), got "${via.branch ?? ''}"`);
    }
    const id = clientKey(via.branch!, request.method);
    if (this.clients.has(id)) throw new Error(`A ${request.method} client transaction with branch ${via.branch} already exists`);
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(id, request, dest, user, this.ctx)
        : new NonInviteClientTransaction(id, request, dest, user, this.ctx);
    this.clients.set(id, tx);
    tx.start();
    return tx;
  }

  /**
   * Matches a response to its client transaction (§17.1.3) and feeds it to it. Returns undefined
   * for a stray — §18.1.2: "Otherwise, the response MUST be passed to the core": after an INVITE
   * client transaction has ended, 2xx retransmissions are the dialog layer's. 'absorbed': a
   * transaction waiting as a record took it (wait-table.ts).
   */
  receiveResponse(response: SipResponse): ClientTransaction | 'absorbed' | undefined {
    let key: string | undefined;
    try {
      key = responseKey(response);
    } catch {
      return undefined; // unreadable Via/CSeq: it cannot belong to any transaction of ours
    }
    if (key === undefined) return undefined;
    const tx = this.clients.get(key);
    if (!tx) return this.receiveForRecord(response, key);
    if (response.status >= 100 && response.status <= 699) {
      // guard() inlined: no closure per response on this path.
      try {
        tx.receiveResponse(response);
      } catch (error) {
        this.emit({ type: 'internal-error', error, tx });
        tx.terminate();
      }
    }
    return tx;
  }

  /**
   * Matches a request to a server transaction (§17.2.3) or creates one. `responseDest` is where
   * this request's responses go (§18.2.2), worked out by the stack.
   */
  receiveRequest(request: SipRequest, responseDest: Destination): ReceiveRequestResult {
    let key: string;
    try {
      key = serverKey(request);
    } catch (error) {
      return { kind: 'invalid', error: error instanceof Error ? error : new Error(String(error)) };
    }
    if (request.method === 'ACK') return this.receiveAck(request, key);

    const existing = this.servers.get(key);
    if (existing) {
      this.guard(existing, () => existing.receiveRetransmission());
      return { kind: 'retransmission', tx: existing };
    }
    const waiting = this.serverWaits.find(key);
    if (waiting !== NO_RECORD) {
      this.resendWaiting(waiting, request.method);
      return { kind: 'retransmission' };
    }

    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction(key, request, responseDest, this.ctx)
        : new NonInviteServerTransaction(key, request, responseDest, this.ctx);
    this.servers.set(key, tx);
    if (tx.isInvite && !hasRfc3261Branch(request.topVia)) {
      this.rfc2543Invites.set(rfc2543Base(request), tx);
    }
    try {
      tx.start(); // guard() inlined, as in receiveResponse
    } catch (error) {
      this.emit({ type: 'internal-error', error, tx });
      tx.terminate();
    }
    return { kind: 'new', tx };
  }

  private receiveAck(ack: SipRequest, key: string): ReceiveRequestResult {
    let tx: ServerTransaction | undefined;
    if (hasRfc3261Branch(ack.topVia)) {
      tx = this.servers.get(key);
    } else {
      try {
        const candidate = this.rfc2543Invites.get(rfc2543Base(ack));
        // §17.2.3: "... and the To tag of the ACK matches the To tag of the response sent by the
        // server transaction."
        if (candidate?.lastResponse && candidate.lastResponse.status >= 200 && candidate.lastResponse.to.tag === ack.to.tag) {
          tx = candidate;
        }
      } catch {
        tx = undefined;
      }
    }
    if (!tx || !tx.isInvite) return { kind: 'ack' };
    let disposition: AckDisposition;
    try {
      disposition = tx.receiveAck();
    } catch (error) {
      this.emit({ type: 'internal-error', error, tx });
      tx.terminate();
      return { kind: 'ack-absorbed' };
    }
    return disposition === 'to-tu' ? { kind: 'ack', tx } : { kind: 'ack-absorbed' };
  }

  /**
   * §9.2: "the transaction to be cancelled is the INVITE server transaction that would match the
   * CANCEL if it were an INVITE": same branch and sent-by (or the RFC 2543 fields), method INVITE.
   */
  findInviteServerTransaction(cancel: SipRequest): ServerTransaction | undefined {
    let key: string;
    try {
      key = serverKey(cancel, 'INVITE');
    } catch {
      return undefined;
    }
    const tx = this.servers.get(key);
    return tx?.isInvite ? tx : undefined;
  }

  /** Live client transaction by id (branch + method). */
  getClientTransaction(id: string): ClientTransaction | undefined {
    return this.clients.get(id);
  }

  /** Terminates every transaction (TUs get onTerminated, not onTimeout) and clears every timer. */
  close(): void {
    for (const tx of [...this.clients.values()]) tx.terminate();
    for (const tx of [...this.servers.values()]) tx.terminate();
    this.serverWaits.clear();
    this.clientWaits.clear();
    this.acceptedWaits.clear();
  }

  // ── internals ─────────────────────────────────────────────────────────────────

  /** A response for no transaction object: one waiting as a record, or a stray for the core. */
  private receiveForRecord(response: SipResponse, key: string): 'absorbed' | undefined {
    if (this.clientWaits.find(key) !== NO_RECORD) {
      // §17.1.2.2: Completed "exists to buffer any additional response retransmissions".
      this.emit({ type: 'retransmission-received', method: response.cseq.method, status: response.status });
      return 'absorbed';
    }
    const accepted = this.acceptedWaits.find(key);
    if (accepted === NO_RECORD) return undefined;
    // RFC 6026 §7.2: "A 2xx response received while in the "Accepted" state MUST be passed to
    // the TU"; anything else is absorbed, as the object would (invite-client.ts).
    const status = response.status;
    if (status >= 200 && status < 300 && this.onAccepted2xx) {
      try {
        this.onAccepted2xx(response, this.acceptedWaits.bodyOf(accepted));
      } catch (error) {
        this.emit({ type: 'tu-error', error });
      }
    }
    return 'absorbed';
  }

  /**
   * §17.2.2: "While in the "Completed" state, the server transaction MUST pass the final response
   * to the transport layer for retransmission whenever a retransmission of the request is
   * received." A failed send ends the record (§17.2.4; no TU waits for it).
   */
  private resendWaiting(seq: number, method: string): void {
    const table = this.serverWaits;
    const status = table.codeOf(seq);
    this.emit({ type: 'retransmission-received', method });
    this.emit({ type: 'retransmission', method, status });
    const failed = (err?: Error): void => {
      if (!err) return;
      table.remove(seq);
      this.emit({ type: 'transport-error', error: err });
    };
    try {
      this.ctx.wire.sendBytes(table.bodyOf(seq), table.destOf(seq)!, failed);
    } catch (error) {
      failed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private release(tx: AnyTransaction): void {
    if ('responseDest' in tx) {
      if (this.servers.get(tx.id) === tx) this.servers.delete(tx.id);
      if (tx.isInvite && !tx.id.startsWith(BRANCH_COOKIE)) {
        // Computed once already when the transaction was created; the parsed headers are cached.
        try {
          const base = rfc2543Base(tx.request);
          if (this.rfc2543Invites.get(base) === tx) this.rfc2543Invites.delete(base);
        } catch {
          // unreachable: the same call succeeded when the transaction was registered
        }
      }
    } else if (this.clients.get(tx.id) === tx) {
      this.clients.delete(tx.id);
    }
  }

  /** A layer bug must not escape into a socket handler: report it and end the transaction. */
  private guard(tx: AnyTransaction, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.emit({ type: 'internal-error', error, tx });
      tx.terminate();
    }
  }

  private emit(event: TransactionEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch {
      // An observer that throws must not break a state machine.
    }
  }
}
