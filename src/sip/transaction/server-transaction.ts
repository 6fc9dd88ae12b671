/** The part every server transaction shares (RFC 3261 §17.2): the request, where responses go, the TU. */
import type { SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_COOKIE } from '../message/via.js';
import { Transaction, type TransactionContext } from './transaction.js';
import { isReliable, type AnyTransaction, type Destination, type ServerState, type ServerTransactionUser } from './types.js';

/** What an ACK that matched an INVITE server transaction turned out to be. */
export type AckDisposition = 'absorbed' | 'to-tu';

export abstract class ServerTransaction extends Transaction {
  /** Where responses are sent (§18.2.2, worked out by the stack from the top Via and the source). */
  readonly responseDest: Destination;
  /** Set by the TU once it takes the transaction; until then only events are reported. */
  user: ServerTransactionUser | undefined;
  /** The most recent response passed to the transport: re-sent for request retransmissions. */
  lastResponse: SipResponse | undefined;
  abstract override state: ServerState;

  protected constructor(id: string, isInvite: boolean, request: SipRequest, responseDest: Destination, ctx: TransactionContext) {
    super(id, isInvite, isReliable(responseDest), request, ctx);
    this.responseDest = responseDest;
  }

  /** Called once by the layer after registering (the INVITE transaction sends 100 Trying here). */
  abstract start(): void;

  /** The TU's response: drives the state machine. Never throws; a refused response is reported. */
  abstract respond(response: SipResponse): void;

  /** A retransmission of the request matched this transaction (§17.2.3). */
  abstract receiveRetransmission(): void;

  /** An ACK matched this transaction (INVITE only). */
  receiveAck(): AckDisposition {
    return 'absorbed';
  }

  /**
   * §17.2.4: "the server transaction SHOULD inform the TU that a failure has occurred, and SHOULD
   * transition to the terminated state." The TU hears of it even if the transaction already ended
   * (a final response over TCP, where Timer J is zero, fails after the transaction is gone).
   */
  protected onSendError(err: Error): void {
    const onError = this.user?.onTransportError;
    if (onError) this.callUser(() => onError.call(this.user, err, this));
    this.terminate();
  }

  /** Sends a response for the first time and remembers it for retransmission. */
  protected sendResponse(response: SipResponse): void {
    this.lastResponse = response;
    this.transmit(response, this.responseDest);
  }

  /**
   * Entering a wait state (Completed, Accepted, Confirmed): the request and the last response are
   * kept as bytes only (SipMessage.compact); a retransmission re-sends the bytes as they are.
   */
  protected waiting(): void {
    // Only the last response is sent again. The request is let go — but an RFC 2543 INVITE
    // (no z9hG4bK branch) keeps it: the layer finds its ACKs and unregisters it by its fields.
    if (this.isInvite && !this.id.startsWith(BRANCH_COOKIE)) this.request.compact();
    else this.releaseRequest();
    this.lastResponse?.compact();
    this.shedSendCallback();
  }

  /** Re-sends the last response (a retransmitted request came in, or Timer G fired). */
  protected resendLastResponse(): void {
    const last = this.lastResponse;
    if (!last) return;
    this.ctx.emit({ type: 'retransmission', method: this.method, status: last.status, tx: this });
    this.transmit(last, this.responseDest);
  }

  protected discard(response: SipResponse): void {
    this.ctx.emit({ type: 'response-discarded', status: response.status, state: this.state, tx: this });
  }

  protected retransmissionReceived(): void {
    this.ctx.emit({ type: 'retransmission-received', method: this.method, tx: this });
  }

  protected setTerminatedState(): void {
    this.state = 'Terminated';
  }

  protected notifyTerminated(): void {
    const done = this.user?.onTerminated;
    if (done) this.callUser(() => done.call(this.user, this));
  }

  protected self(): AnyTransaction {
    return this;
  }
}
