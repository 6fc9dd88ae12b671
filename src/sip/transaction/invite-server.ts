/**
 * The INVITE server transaction: RFC 3261 §17.2.1 as corrected by RFC 6026 §7.1 and §8.5-8.7
 * (a 2xx leads to "Accepted", which absorbs INVITE retransmissions and passes ACKs to the TU).
 */
import { createResponse } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { ServerTransaction, type AckDisposition } from './server-transaction.js';
import { nextCappedInterval } from './settings.js';
import type { TimerName, TransactionContext } from './transaction.js';
import type { Destination, ServerState } from './types.js';

export class InviteServerTransaction extends ServerTransaction {
  state: ServerState = 'Proceeding';
  private intervalG: number;

  constructor(id: string, request: SipRequest, responseDest: Destination, ctx: TransactionContext) {
    super(id, true, request, responseDest, ctx);
    this.intervalG = ctx.values.retransmitInitial;
  }

  start(): void {
    // §17.2.1: "When a server transaction is constructed for a request, it enters the "Proceeding"
    // state. The server transaction MUST generate a 100 (Trying) response unless it knows that the
    // TU will generate a provisional or final response within 200 ms ... the insertion of tags in
    // the To header field of the response ... is downgraded from MAY to SHOULD NOT."
    // We never know that, so the 100 goes out at once (createResponse adds no tag to a 100).
    this.sendResponse(createResponse(this.request, 100));
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (status < 100 || status > 699) return this.discard(response);
    switch (this.state) {
      case 'Proceeding':
        if (status < 200) {
          // §17.2.1: "So long as the server transaction is in the "Proceeding" state, each of these
          // MUST be passed to the transport layer for transmission. They are not sent reliably by
          // the transaction layer ... and do not cause a change in the state."
          this.sendResponse(response);
        } else if (status < 300) {
          // RFC 6026 §7.1: "If the SIP element's TU issues a 2xx response for this transaction
          // while the state machine is in the "Proceeding" state, the state machine MUST transition
          // to the "Accepted" state and set Timer L to 64*T1." The 2xx is retransmitted by the TU
          // (§13.3.1.4), never by the transaction.
          this.state = 'Accepted';
          this.sendResponse(response);
          this.waiting(false);
          // RFC 6026 §8.7: "If Timer L fires while the INVITE server transaction is in the
          // "Accepted" state, the transaction MUST transition to the "Terminated" state."
          this.startFixedTimer('L', this.ctx.values.transactionTimeout);
        } else {
          // §17.2.1: "if the TU passes a response with status code from 300 to 699 to the server
          // transaction, the response MUST be passed to the transport layer for transmission, and
          // the state machine MUST enter the "Completed" state. For unreliable transports, timer G
          // is set to fire in T1 seconds, and is not set to fire for reliable transports. ... When
          // the "Completed" state is entered, timer H MUST be set to fire in 64*T1 seconds for all
          // transports."
          this.state = 'Completed';
          if (!this.reliable) this.startFixedTimer('G', this.intervalG);
          this.startFixedTimer('H', this.ctx.values.transactionTimeout);
          this.sendResponse(response);
          this.waiting(true);
        }
        return;
      case 'Accepted':
        // RFC 6026 §7.1: "The server transaction MUST NOT generate 2xx retransmissions on its own.
        // Any retransmission of the 2xx response passed from the TU to the transaction while in the
        // "Accepted" state MUST be passed to the transport layer for transmission."
        if (status >= 200 && status < 300) {
          // Sent, not kept (the TU holds it while it retransmits). Only an RFC 2543 INVITE still
          // holds its 2xx (waiting()): the same object again is a retransmission of it.
          if (this.lastResponse === undefined || response === this.lastResponse) {
            this.ctx.emit({ type: 'retransmission', method: this.method, status, tx: this });
            this.transmit(response, this.responseDest);
          } else {
            this.sendResponse(response);
          }
          return;
        }
        return this.discard(response);
      default:
        return this.discard(response);
    }
  }

  private timerG(): void {
    // §17.2.1: "If timer G fires, the response is passed to the transport layer once more for
    // retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when timer
    // G fires, the response is passed to the transport again for transmission, and timer G is reset
    // with a value that doubles, unless that value exceeds T2, in which case it is reset with the
    // value of T2."
    if (this.state !== 'Completed') return;
    this.intervalG = nextCappedInterval(this.intervalG, this.ctx.values.t2);
    this.startFixedTimer('G', this.intervalG);
    this.resendLastResponse();
  }

  protected override onFixedTimer(name: TimerName): void {
    if (name === 'G') this.timerG();
    else if (name === 'H') this.timerH();
    else this.terminate(); // L, I
  }

  private timerH(): void {
    // §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK was never
    // received. In this case, the server transaction MUST transition to the "Terminated" state, and
    // MUST indicate to the TU that a transaction failure has occurred."
    if (this.state !== 'Completed') return;
    this.ctx.emit({ type: 'timeout', timer: 'H', tx: this });
    const onTimeout = this.user?.onTimeout;
    if (onTimeout) this.callUser(() => onTimeout.call(this.user, this));
    this.terminate();
  }

  receiveRetransmission(): void {
    this.retransmissionReceived();
    switch (this.state) {
      case 'Proceeding':
        // §17.2.1: "If a request retransmission is received while in the "Proceeding" state, the
        // most recent provisional response that was received from the TU MUST be passed to the
        // transport layer for retransmission."
        this.resendLastResponse();
        return;
      case 'Completed':
        // §17.2.1: "while in the "Completed" state, if a request retransmission is received, the
        // server SHOULD pass the response to the transport for retransmission."
        this.resendLastResponse();
        return;
      default:
        // RFC 6026 §8.7: "The purpose of the "Accepted" state is to absorb retransmissions of an
        // accepted INVITE request. Any such retransmissions are absorbed entirely within the
        // server transaction." Confirmed absorbs them too: the ACK has arrived.
        return;
    }
  }

  override receiveAck(): AckDisposition {
    switch (this.state) {
      case 'Completed':
        // §17.2.1: "If an ACK is received while the server transaction is in the "Completed"
        // state, the server transaction MUST transition to the "Confirmed" state. As Timer G is
        // ignored in this state, any retransmissions of the response will cease." ... "When this
        // state is entered, timer I is set to fire in T4 seconds for unreliable transports, and
        // zero seconds for reliable transports. Once timer I fires, the server MUST transition to
        // the "Terminated" state."
        this.state = 'Confirmed';
        this.stopTimer('G');
        this.stopTimer('H');
        this.forgetResponseBytes(); // nothing is re-sent any more
        this.startWaitTimer('I', this.reliable ? 0 : this.ctx.values.t4);
        return 'absorbed';
      case 'Accepted':
        // RFC 6026 §8.7: an ACK received in the "Accepted" state is passed up to the TU.
        return 'to-tu';
      default:
        // Confirmed: §17.2.1 "The purpose of the "Confirmed" state is to absorb any additional ACK
        // messages". Proceeding: an ACK before any final response acknowledges nothing; dropped.
        return 'absorbed';
    }
  }
}
