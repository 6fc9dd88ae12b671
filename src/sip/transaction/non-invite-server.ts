/** The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). */
import type { SipRequest, SipResponse } from '../message/message.js';
import { ServerTransaction } from './server-transaction.js';
import type { TransactionContext } from './transaction.js';
import type { Destination, ServerState } from './types.js';

export class NonInviteServerTransaction extends ServerTransaction {
  private current: ServerState = 'Trying';

  /** Completed until the layer's record of it expires, once retired (retireCompleted). */
  get state(): ServerState {
    return this.current === 'Completed' && this.isTerminated ? 'Terminated' : this.current;
  }

  set state(state: ServerState) {
    this.current = state;
  }

  constructor(id: string, request: SipRequest, responseDest: Destination, ctx: TransactionContext) {
    super(id, false, request, responseDest, ctx);
  }

  start(): void {
    // §17.2.2: "The state machine is initialized in the "Trying" state ... This request is passed
    // up to the TU." Nothing is sent until the TU responds.
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (status < 100 || status > 699) return this.discard(response);
    if (this.state !== 'Trying' && this.state !== 'Proceeding') {
      // §17.2.2: "Any other final responses passed by the TU to the server transaction MUST be
      // discarded while in the "Completed" state."
      return this.discard(response);
    }
    if (status < 200) {
      // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response to the
      // server transaction, the server transaction MUST enter the "Proceeding" state. The response
      // MUST be passed to the transport layer for transmission. Any further provisional responses
      // that are received from the TU while in the "Proceeding" state MUST be passed to the
      // transport layer for transmission."
      this.state = 'Proceeding';
      this.sendResponse(response);
      return;
    }
    // §17.2.2: "If the TU passes a final response (status codes 200-699) to the server while in the
    // "Proceeding" state, the transaction MUST enter the "Completed" state, and the response MUST
    // be passed to the transport layer for transmission. When the server transaction enters the
    // "Completed" state, it MUST set Timer J to fire in 64*T1 seconds for unreliable transports,
    // and zero seconds for reliable transports." (Figure 8: the same from "Trying".)
    this.state = 'Completed';
    this.sendResponse(response);
    if (this.retireCompleted()) return;
    this.waiting(true);
    this.startWaitTimer('J', this.reliable ? 0 : this.ctx.values.transactionTimeout);
  }

  receiveRetransmission(): void {
    this.retransmissionReceived();
    switch (this.state) {
      case 'Trying':
        // §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded."
        return;
      case 'Proceeding':
        // §17.2.2: "If a retransmission of the request is received while in the "Proceeding" state,
        // the most recently sent provisional response MUST be passed to the transport layer for
        // retransmission."
        this.resendLastResponse();
        return;
      case 'Completed':
        // §17.2.2: "While in the "Completed" state, the server transaction MUST pass the final
        // response to the transport layer for retransmission whenever a retransmission of the
        // request is received."
        this.resendLastResponse();
        return;
      default:
        return;
    }
  }
}
