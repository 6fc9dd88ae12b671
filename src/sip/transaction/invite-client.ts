/**
 * The INVITE client transaction: RFC 3261 §17.1.1 as corrected by RFC 6026 §7.2 and §8.4
 * (2xx responses lead to "Accepted", not straight to "Terminated").
 */
import { createNon2xxAck } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { ClientTransaction } from './client-transaction.js';
import type { TimerName, TransactionContext } from './transaction.js';
import type { ClientState, ClientTransactionUser, Destination } from './types.js';

export class InviteClientTransaction extends ClientTransaction {
  private current: ClientState = 'Calling';
  /** The ACK for our non-2xx final response, re-sent for each retransmission of that response. */
  ack: SipRequest | undefined;
  private intervalA: number;
  /** When the first 2xx came (Timer M runs from then). */
  private acceptedAt = 0;

  /** Accepted until the layer's record of it expires, once retired (retireAccepted). */
  get state(): ClientState {
    return this.current === 'Accepted' && this.isTerminated ? 'Terminated' : this.current;
  }

  set state(state: ClientState) {
    this.current = state;
  }

  constructor(id: string, request: SipRequest, dest: Destination, user: ClientTransactionUser, ctx: TransactionContext) {
    super(id, true, request, dest, user, ctx);
    this.intervalA = ctx.values.retransmitInitial;
  }

  start(): void {
    // §17.1.1.2: "The initial state, "calling", MUST be entered when the TU initiates a new client
    // transaction with an INVITE request. The client transaction MUST pass the request to the
    // transport layer for transmission. If an unreliable transport is being used, the client
    // transaction MUST start timer A with a value of T1. If a reliable transport is being used, the
    // client transaction SHOULD NOT start timer A. For any transport, the client transaction MUST
    // start timer B with a value of 64*T1 seconds."
    if (!this.reliable) this.startFixedTimer('A', this.intervalA);
    this.startFixedTimer('B', this.ctx.values.transactionTimeout);
    this.transmit(this.request, this.dest);
  }

  private timerA(): void {
    // §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request ... and
    // MUST reset the timer with a value of 2*T1. ... retransmitted with intervals that double after
    // each transmission. These retransmissions SHOULD only be done while the client transaction is
    // in the "calling" state." Timer A is not capped at T2 (unlike E and G).
    if (this.state !== 'Calling') return;
    this.intervalA *= 2;
    this.startFixedTimer('A', this.intervalA);
    this.retransmitRequest();
  }

  protected override onFixedTimer(name: TimerName): void {
    if (name === 'A') this.timerA();
    else if (name === 'B') this.timerB();
    else this.terminate(); // M, D
  }

  private timerB(): void {
    // §17.1.1.2: "If the client transaction is still in the "Calling" state when timer B fires, the
    // client transaction SHOULD inform the TU that a timeout has occurred. The client transaction
    // MUST NOT generate an ACK." In Proceeding the TU runs its own Timer C (§16.6) / ring timeout.
    if (this.state !== 'Calling') return;
    this.ctx.emit({ type: 'timeout', timer: 'B', tx: this });
    this.callUser(() => this.user.onTimeout(this));
    this.terminate();
  }

  /**
   * Accepted, and the TU's session of the first 2xx has ended: all the TU would still do for a
   * 2xx until Timer M is ACK it again (the same dialog) or ACK and end it (a fork, §13.2.2.4),
   * which the stack does from the ACK's bytes (`ack`, none if it never ACKed). The layer keeps the
   * key and those bytes as a record until Timer M (RFC 6026 §7.2, §8.4; wait-table.ts) and hands
   * it each 2xx that matches; this object and its TU are let go. False if not Accepted, or the
   * key cannot be kept: nothing changes.
   */
  retireAccepted(ack: Uint8Array | undefined): boolean {
    if (this.current !== 'Accepted') return false;
    if (!this.retire('M', this.ctx.waitTable('accepted'), ack, undefined, 0, this.acceptedAt + this.ctx.values.transactionTimeout)) return false;
    this.dropUser();
    return true;
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          // §17.1.1.2: "If the client transaction receives a provisional response while in the
          // "Calling" state, it transitions to the "Proceeding" state. In the "Proceeding" state,
          // the client transaction SHOULD NOT retransmit the request any longer. Furthermore, the
          // provisional response MUST be passed to the TU. Any further provisional responses MUST
          // be passed up to the TU while in the "Proceeding" state."
          if (this.state === 'Calling') {
            this.state = 'Proceeding';
            this.stopTimer('A');
            this.stopTimer('B'); // B only matters in Calling
          }
          this.passUp(response);
        } else if (status < 300) {
          // RFC 6026 §7.2: "If a 2xx response is received while the client INVITE state machine is
          // in the "Calling" or "Proceeding" states, it MUST transition to the "Accepted" state,
          // pass the 2xx response to the TU, and set Timer M to 64*T1."
          this.state = 'Accepted';
          this.acceptedAt = this.ctx.timers.now();
          this.stopTimer('A');
          this.stopTimer('B');
          // Armed before the TU hears the 2xx: it may retire the transaction from its callback.
          // RFC 6026 §8.4: "If timer M fires while the client transaction is in the "Accepted"
          // state, the client transaction MUST move to the "Terminated" state."
          this.startFixedTimer('M', this.ctx.values.transactionTimeout);
          this.passUp(response);
          this.waiting();
        } else {
          // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response
          // with status code from 300-699 MUST cause the client transaction to transition to
          // "Completed". The client transaction MUST pass the received response up to the TU, and
          // the client transaction MUST generate an ACK request, even if the transport is reliable
          // ... The ACK MUST be sent to the same address, port, and transport to which the
          // original request was sent. The client transaction SHOULD start timer D when it enters
          // the "Completed" state, with a value of at least 32 seconds for unreliable transports,
          // and a value of zero seconds for reliable transports."
          this.state = 'Completed';
          this.stopTimer('A');
          this.stopTimer('B');
          this.passUp(response);
          if (this.isTerminated) return; // the TU closed the layer from its callback
          // §17.1.1.3: the ACK carries the INVITE's top Via (same branch), the response's To.
          this.ack = createNon2xxAck(this.request, response);
          this.transmit(this.ack, this.dest);
          this.waiting();
          this.ack.compact();
          this.startWaitTimer('D', this.reliable ? 0 : this.ctx.values.d);
        }
        return;
      case 'Completed':
        // §17.1.1.2: "Any retransmissions of the final response that are received while in the
        // "Completed" state MUST cause the ACK to be re-passed to the transport layer for
        // retransmission, but the newly received response MUST NOT be passed up to the TU."
        if (status >= 300 && this.ack) {
          this.ctx.emit({ type: 'retransmission-received', method: this.method, status, tx: this });
          this.ctx.emit({ type: 'retransmission', method: 'ACK', tx: this });
          this.transmit(this.ack, this.dest);
        }
        return;
      case 'Accepted':
        // RFC 6026 §7.2: "A 2xx response received while in the "Accepted" state MUST be passed to
        // the TU and the machine remains in the "Accepted" state. The client transaction MUST NOT
        // generate an ACK to any 2xx response on its own." (Retransmissions and forked 2xx.)
        if (status >= 200 && status < 300) this.passUp(response);
        return;
      default:
        return;
    }
  }
}
