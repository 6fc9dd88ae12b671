/** The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6). */
import type { SipRequest, SipResponse } from '../message/message.js';
import { ClientTransaction } from './client-transaction.js';
import { nextCappedInterval } from './settings.js';
import type { TimerName, TransactionContext } from './transaction.js';
import type { ClientState, ClientTransactionUser, Destination } from './types.js';

export class NonInviteClientTransaction extends ClientTransaction {
  private current: ClientState = 'Trying';

  /** Completed until the layer's record of it expires, once retired (retireCompleted). */
  get state(): ClientState {
    return this.current === 'Completed' && this.isTerminated ? 'Terminated' : this.current;
  }

  set state(state: ClientState) {
    this.current = state;
  }
  private intervalE: number;

  constructor(id: string, request: SipRequest, dest: Destination, user: ClientTransactionUser, ctx: TransactionContext) {
    super(id, false, request, dest, user, ctx);
    this.intervalE = ctx.values.retransmitInitial;
  }

  start(): void {
    // §17.1.2.2: "When entering this state, the client transaction SHOULD set timer F to fire in
    // 64*T1 seconds. The request MUST be passed to the transport layer for transmission. If an
    // unreliable transport is in use, the client transaction MUST set timer E to fire in T1 seconds."
    this.startFixedTimer('F', this.ctx.values.transactionTimeout);
    if (!this.reliable) this.startFixedTimer('E', this.intervalE);
    this.transmit(this.request, this.dest);
  }

  private timerE(): void {
    if (this.state === 'Trying') {
      // §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but this time
      // with a value of MIN(2*T1, T2). When the timer fires again, it is reset to a MIN(4*T1, T2).
      // ... For the default values of T1 and T2, this results in intervals of 500 ms, 1 s, 2 s,
      // 4 s, 4 s, 4 s, etc."
      this.intervalE = nextCappedInterval(this.intervalE, this.ctx.values.t2);
    } else if (this.state === 'Proceeding') {
      // §17.1.2.2: "If Timer E fires while in the "Proceeding" state, the request MUST be passed to
      // the transport layer for retransmission, and Timer E MUST be reset with a value of T2."
      this.intervalE = this.ctx.values.t2;
    } else {
      return;
    }
    this.startFixedTimer('E', this.intervalE);
    this.retransmitRequest();
  }

  protected override onFixedTimer(name: TimerName): void {
    if (name === 'E') this.timerE();
    else if (name === 'F') this.timerF();
    else this.terminate(); // K
  }

  private timerF(): void {
    // §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying" state, the
    // client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the
    // "Terminated" state." — likewise in "Proceeding" (MUST).
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    this.ctx.emit({ type: 'timeout', timer: 'F', tx: this });
    this.callUser(() => this.user.onTimeout(this));
    this.terminate();
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    if (this.state === 'Trying' || this.state === 'Proceeding') {
      if (status < 200) {
        // §17.1.2.2: "If a provisional response is received while in the "Trying" state, the
        // response MUST be passed to the TU, and then the client transaction SHOULD move to the
        // "Proceeding" state." Timer E keeps running; its next reset uses T2.
        this.state = 'Proceeding';
        this.passUp(response);
        return;
      }
      // §17.1.2.2: "If a final response (status codes 200-699) is received while in the "Trying"
      // [or "Proceeding"] state, the response MUST be passed to the TU, and the client transaction
      // MUST transition to the "Completed" state. ... Once the client transaction enters the
      // "Completed" state, it MUST set Timer K to fire in T4 seconds for unreliable transports,
      // and zero seconds for reliable transports."
      this.state = 'Completed';
      this.stopTimer('E');
      this.stopTimer('F');
      this.passUp(response);
      // Completed only absorbs retransmitted responses: neither the request nor the TU is needed.
      this.waiting();
      this.releaseUser();
      if (this.retireCompleted()) return;
      this.startWaitTimer('K', this.reliable ? 0 : this.ctx.values.t4);
      return;
    }
    if (this.state === 'Completed') {
      // §17.1.2.2: "The "Completed" state exists to buffer any additional response retransmissions
      // that may be received": absorbed, not passed up.
      this.ctx.emit({ type: 'retransmission-received', method: this.method, status, tx: this });
    }
  }
}
