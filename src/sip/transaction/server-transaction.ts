/** The part every server transaction shares (RFC 3261 §17.2): the request, where responses go, the TU. */
import type { SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_COOKIE } from '../message/via.js';
import { detachForWait } from '../message/detach.js';
import { Transaction, type TransactionContext } from './transaction.js';
import { isReliable, type AnyTransaction, type Destination, type ServerState, type ServerTransactionUser } from './types.js';

/** What an ACK that matched an INVITE server transaction turned out to be. */
export type AckDisposition = 'absorbed' | 'to-tu';

export abstract class ServerTransaction extends Transaction {
  /** Where responses are sent (§18.2.2, worked out by the stack from the top Via and the source). */
  readonly responseDest: Destination;
  /** Set by the TU once it takes the transaction; until then only events are reported. */
  user: ServerTransactionUser | undefined;
  /**
   * The most recent response passed to the transport, until the transaction waits: then it is
   * let go (waiting()), and only its bytes stay where a retransmission needs them.
   */
  lastResponse: SipResponse | undefined;
  /** The status of the most recent response sent, 0 before any (it outlives lastResponse). */
  lastStatus = 0;
  // In Completed: the final response as bytes only, re-sent as they are (§17.2.1, §17.2.2) —
  // where they lie in a shared wait slab (detachForWait), without a Buffer object of their own
  // (~100 bytes of heap each, for tens of thousands of waiting transactions).
  private lastSlab: ArrayBufferLike | undefined = undefined;
  private lastOffset = 0;
  private lastLength = 0;
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
    this.lastStatus = response.status;
    this.transmit(response, this.responseDest);
  }

  /**
   * Entering a wait state (Completed, Accepted): up to 64*T1 on UDP, for thousands of
   * transactions at once under load, so what they hold is what the garbage collector traces.
   * The request is let go; the last response too, its bytes kept only where a retransmission of
   * the request is answered with it (`keepBytes`: Completed). Accepted keeps nothing: the TU
   * re-sends its 2xx itself (RFC 6026 §7.1).
   */
  protected waiting(keepBytes: boolean): void {
    const last = this.lastResponse;
    if (this.isInvite && !this.id.startsWith(BRANCH_COOKIE)) {
      // An RFC 2543 INVITE (no z9hG4bK branch) keeps both, compacted: the layer matches its ACKs
      // by the request's fields and the response's To tag (§17.2.3), and unregisters it by them.
      this.request.compact();
      last?.compact();
    } else {
      this.releaseRequest();
      this.lastResponse = undefined;
      if (keepBytes && last) {
        const kept = detachForWait(last.serialize());
        this.lastSlab = kept.buffer;
        this.lastOffset = kept.byteOffset;
        this.lastLength = kept.length;
      }
    }
    this.shedSendCallback();
  }

  /**
   * Non-INVITE Completed on UDP with no TU (Timer J, 64*T1): the layer's table keeps the final
   * response's bytes and re-sends them to a retransmitted request (§17.2.2) — no object waits.
   */
  protected retireCompleted(): boolean {
    const last = this.lastResponse;
    if (this.reliable || this.user !== undefined || last === undefined) return false;
    if (!this.retire('J', this.ctx.waitTable('server'), last.serialize(), this.responseDest, last.status)) return false;
    this.releaseRequest();
    this.lastResponse = undefined;
    this.shedSendCallback();
    return true;
  }

  /** Confirmed: the ACK came, no response is sent again. */
  protected forgetResponseBytes(): void {
    this.lastSlab = undefined;
  }

  /** Re-sends the last response (a retransmitted request came in, or Timer G fired). */
  protected resendLastResponse(): void {
    const last = this.lastResponse;
    const slab = last === undefined ? this.lastSlab : undefined;
    if (last === undefined && slab === undefined) return;
    this.ctx.emit({ type: 'retransmission', method: this.method, status: this.lastStatus, tx: this });
    if (last !== undefined) this.transmit(last, this.responseDest);
    else this.transmitBytes(Buffer.from(slab!, this.lastOffset, this.lastLength), this.responseDest);
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
