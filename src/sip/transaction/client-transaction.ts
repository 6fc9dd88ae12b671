/** The part every client transaction shares (RFC 3261 §17.1): the request, its destination, its TU. */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type TransactionContext } from './transaction.js';
import { isReliable, type AnyTransaction, type ClientState, type ClientTransactionUser, type Destination } from './types.js';

export abstract class ClientTransaction extends Transaction {
  /** §17.1.1.2: the ACK for a non-2xx "MUST be sent to the same address, port, and transport". */
  readonly dest: Destination;
  /** Replaced by a no-op user in the non-INVITE Completed state when it has no onTerminated. */
  user: ClientTransactionUser;
  abstract override state: ClientState;

  protected constructor(
    id: string,
    isInvite: boolean,
    request: SipRequest,
    dest: Destination,
    user: ClientTransactionUser,
    ctx: TransactionContext,
  ) {
    super(id, isInvite, isReliable(dest), request, ctx);
    this.dest = dest;
    this.user = user;
  }

  /** Sends the request and arms the first timers. Called once, by the layer, after registering. */
  abstract start(): void;

  /** A response matched to this transaction (§17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  /** §17.1.4: "inform the TU that a transport failure has occurred ... transition directly to Terminated". */
  protected onSendError(err: Error): void {
    if (this.isTerminated) return; // e.g. the ACK over TCP after Timer D = 0: the TU already has the final
    this.callUser(() => this.user.onTransportError(err, this));
    this.terminate();
  }

  protected passUp(response: SipResponse): void {
    this.callUser(() => this.user.onResponse(response, this));
  }

  /**
   * Entering a wait state (Completed, Accepted): the request is neither sent again nor read (a
   * non-2xx ACK is built before), so it is let go for the up to 64*T1 the transaction still lives.
   */
  protected waiting(): void {
    this.releaseRequest();
    this.shedSendCallback();
  }

  /**
   * Non-INVITE Completed (Timer K) only absorbs response retransmissions: nothing more reaches
   * the TU but onTerminated. A TU without one is let go at once, and with it whatever its
   * callbacks hold (a session, an application's state) for the rest of the wait.
   */
  protected releaseUser(): void {
    if (!this.user.onTerminated) this.user = RELEASED_USER;
  }

  /** The TU is let go whatever it listens for: a record stands for this transaction (retire). */
  protected dropUser(): void {
    this.user = RELEASED_USER;
  }

  /**
   * Non-INVITE Completed on UDP once the TU is let go (Timer K, T4): the layer's table keeps the
   * key and absorbs the response's retransmissions (§17.1.2.2) — no object waits.
   */
  protected retireCompleted(): boolean {
    if (this.reliable || this.user !== RELEASED_USER) return false;
    return this.retire('K', this.ctx.waitTable('client'));
  }

  protected retransmitRequest(): void {
    this.ctx.emit({ type: 'retransmission', method: this.method, tx: this });
    this.transmit(this.request, this.dest);
  }

  protected setTerminatedState(): void {
    this.state = 'Terminated';
  }

  protected notifyTerminated(): void {
    const done = this.user.onTerminated;
    if (done) this.callUser(() => done.call(this.user, this));
  }

  protected self(): AnyTransaction {
    return this;
  }
}

const ignore = (): void => {};
/** What a client transaction holds instead of a TU it no longer needs. */
const RELEASED_USER: ClientTransactionUser = { onResponse: ignore, onTimeout: ignore, onTransportError: ignore };
