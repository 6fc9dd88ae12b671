/**
 * An initial INVITE we send (RFC 3261 §13.2): early dialogs from provisional responses with a To
 * tag, the session from the first 2xx, extra 2xx from forking (§13.2.2.4: acknowledged, then
 * handed to the application — by default ended with BYE), CANCEL (§9.1: only after a
 * provisional response arrived), and failures mapped to one status (timeout 408, transport 503).
 */
import { createCancel, type SipRequest, type SipResponse } from '../message/index.js';
import { InviteClientTransaction, type ClientTransaction, type ClientTransactionUser } from '../transaction/index.js';
import type { TimerHandle } from '../timer.js';
import { detachBuffer } from '../message/detach.js';
import { type Dialog, dialogFromResponse, type UacOrigin } from './dialog.js';
import type { DialogHost } from './host.js';
import { EndedSession, InviteSession } from './invite-session.js';

export interface InviteClientHandler {
  /** A 1xx (after the 100 Trying from the next hop). */
  onProgress?(res: SipResponse): void;
  /**
   * The first 2xx. The session exists; acknowledge with `session.ack(seq, body?)` now or later
   * (late offer: the answer goes in the ACK, RFC 3264 / RFC 3725 flow I).
   */
  onAnswer(res: SipResponse, session: InviteSession, seq: number): void;
  /** The INVITE went to the transport (the first time; its target resolved). */
  onSent?(): void;
  /** Another 2xx from a fork (already acknowledged). Default: BYE it. */
  onFork?(res: SipResponse, session: InviteSession): void;
  /** The INVITE failed: the final status (≥ 300), 408 on timeout, 503 on transport error. */
  onFailure(status: number, res?: SipResponse): void;
}

export class InviteClient implements ClientTransactionUser {
  state: 'calling' | 'proceeding' | 'answered' | 'failed' | 'cancelled' = 'calling';
  /**
   * The session of the first 2xx; once it has ended only what a late 2xx retransmission still
   * needs is kept (EndedSession) — not the dialog — for the 64*T1 the transaction waits.
   */
  private first: InviteSession | EndedSession | undefined;
  private provisional = false;
  private cancelPending: string | undefined;
  private cancelled = false;
  /** Sessions of other 2xx (forking, §13.2.2.4); made on the first (rare). */
  private forks: Map<string, InviteSession | EndedSession> | undefined;
  private tx: ClientTransaction | undefined;
  private cancelTimer: TimerHandle | undefined;
  /** Provisionals already reported: a retransmitted 180 (same status and To tag) is not news. */
  private seenProvisional: Set<string> | undefined;

  /**
   * The INVITE until the first 2xx or failure: the client waits 64*T1 after the answer (Timer M)
   * and must not hold it then (forks: forkOrigin).
   */
  private request: SipRequest | undefined;

  constructor(
    private readonly host: DialogHost,
    request: SipRequest,
    private handler: InviteClientHandler,
    private readonly localContact: string,
  ) {
    this.request = request;
    this.seq = request.cseq.seq;
  }

  /** The INVITE's CSeq number, read once (the request is let go when answered). */
  private readonly seq: number;

  /** The session of the first 2xx while it lasts (undefined before the answer and after its end). */
  get session(): InviteSession | undefined {
    return this.first instanceof InviteSession ? this.first : undefined;
  }

  start(): void {
    if (this.request) this.host.sendRequest(this.request, this);
  }

  onSent(): void {
    this.handler.onSent?.();
  }

  /** CANCEL the INVITE (§9.1). Before any provisional response, it waits for one. */
  cancel(reason?: string): void {
    if (this.state === 'answered' || this.state === 'failed' || this.cancelled) return;
    if (!this.provisional) {
      this.cancelPending = reason ?? '';
      return;
    }
    this.sendCancel(reason);
  }

  private sendCancel(reason?: string): void {
    if (!this.tx || !this.request) return;
    this.cancelled = true;
    const tx = this.tx;
    this.host.sendCancel(createCancel(this.request, reason || undefined), tx);
    // §9.1: no final response 64*T1 after the CANCEL → the INVITE transaction is destroyed.
    this.cancelTimer = this.host.timers.setTimeout(() => {
      this.cancelTimer = undefined;
      if (this.state === 'answered' || this.state === 'failed' || this.state === 'cancelled') return;
      tx.terminate();
      this.state = 'cancelled';
      this.reportFailure(487);
    }, 64 * this.host.t1);
  }

  private clearCancelTimer(): void {
    if (this.cancelTimer !== undefined) {
      this.host.timers.clearTimeout(this.cancelTimer);
      this.cancelTimer = undefined;
    }
  }

  onResponse(res: SipResponse, tx: ClientTransaction): void {
    this.tx = tx;
    if (res.status < 200) {
      if (res.status > 100 || !this.provisional) {
        this.provisional = true;
        if (this.cancelPending !== undefined) {
          this.sendCancel(this.cancelPending);
          this.cancelPending = undefined;
        }
      }
      if (res.status === 100 || this.state === 'answered') return;
      const key = `${res.status}/${res.to.tag ?? ''}`;
      const seen = (this.seenProvisional ??= new Set());
      if (seen.has(key)) return;
      seen.add(key);
      this.state = 'proceeding';
      this.call(() => this.handler.onProgress?.(res));
      return;
    }
    this.clearCancelTimer();
    if (res.status < 300) {
      this.on2xx(res);
      return;
    }
    if (this.state === 'answered') return;
    this.state = this.cancelled ? 'cancelled' : 'failed';
    this.reportFailure(res.status, res);
  }

  private on2xx(res: SipResponse): void {
    const tag = res.to.tag ?? '';
    const known = this.first?.remoteTag === tag ? this.first : this.forks?.get(tag);
    if (known) {
      known.handleStray2xx(res);
      return;
    }
    let dialog: Dialog;
    if (this.first === undefined) {
      const request = this.request;
      if (request === undefined) return; // failed before: Timer D's wait passes nothing up
      dialog = dialogFromResponse(request, res, this.localContact);
      this.request = undefined;
    } else {
      const origin = this.forkOrigin();
      if (origin === undefined) return; // nothing left to build its dialog from: see forkOrigin
      dialog = dialogFromResponse(origin, res, this.localContact);
    }
    const session = new InviteSession(this.host, dialog);
    // Held for the call: a copy of its own, not a view that keeps the whole 200 OK datagram.
    if (res.body.length > 0) session.remoteBody = detachBuffer(res.body);
    const seq = this.seq;
    if (this.first === undefined) {
      this.first = session;
      this.watchEnd(session, undefined);
      this.state = 'answered';
      this.seenProvisional = undefined; // provisionals are not reported once answered
      const handler = this.handler;
      // Answered: only a fork's 2xx can still reach the application. The transaction keeps this
      // client for 64*T1 (Timer M); it must not keep the application's call with it.
      if (!handler.onFork) this.handler = SETTLED;
      this.call(() => handler.onAnswer(res, session, seq));
      return;
    }
    // §13.2.2.4: every 2xx gets its ACK; a UAC that wants one session ends the others with BYE.
    const forks = (this.forks ??= new Map());
    forks.set(tag, session);
    this.watchEnd(session, tag);
    session.ack(seq);
    // Fix: the ended fork stays in `forks` (it used to be deleted on termination) so that a
    // retransmission of its 2xx is re-ACKed by it (§13.2.2.4), not taken for a new fork and BYEd again.
    if (this.handler.onFork) this.call(() => this.handler.onFork!(res, session));
    else session.bye();
  }

  /**
   * What a fork's dialog takes from our INVITE (§12.1.2), read from the first session: its dialog
   * while it lasts, then the ACK it keeps until Timer M. Not a copy kept for the 64*T1 wait (some
   * ten objects per answered INVITE, issue 6). Undefined when the first session ended unacknowledged.
   */
  private forkOrigin(): UacOrigin | undefined {
    const first = this.first;
    if (first instanceof InviteSession) {
      const d = first.dialog;
      // requestUri is only the fallback for a 2xx without Contact (malformed, §12.1.1): the first
      // dialog's remote target stands in for our Request-URI.
      return { callId: d.callId, localTag: d.localTag, localUri: d.localUri, localSeq: this.seq, requestUri: d.remoteTarget };
    }
    return first?.forkOrigin(this.seq);
  }

  onTimeout(): void {
    this.fail(408);
  }

  /** The transaction is gone (Timer M after a 2xx): no 2xx retransmission will come to re-ACK. */
  onTerminated(): void {
    const seq = this.seq;
    this.first?.forgetAck(seq);
    if (this.forks) for (const fork of this.forks.values()) fork.forgetAck(seq);
    // No 2xx can come any more: a held session must not keep this client (its INVITE, its
    // transaction) through its hook for the rest of the call.
    if (this.first instanceof InviteSession) this.first.onEnd = undefined;
    if (this.forks) for (const fork of this.forks.values()) if (fork instanceof InviteSession) fork.onEnd = undefined;
  }

  /**
   * When `session` ends, keep only what a 2xx copy still needs (EndedSession). A method of its
   * own, not a closure in on2xx: V8 gives closures of one function a shared context, and a hook
   * made there kept that function's 2xx response alive for the whole call.
   */
  private watchEnd(session: InviteSession, forkTag: string | undefined): void {
    session.onEnd = () => {
      if (forkTag === undefined) {
        if (this.first === session) {
          this.first = session.toEnded();
          this.retireTransaction(this.first);
        }
      } else if (this.forks?.get(forkTag) === session) {
        this.forks.set(forkTag, session.toEnded());
      }
    };
  }

  /**
   * The first session has ended and no application handler waits for a fork: until Timer M, all
   * this client would do is ACK a 2xx again or ACK and end a fork's — which the stack does from
   * the ACK's bytes (answerLate2xx). So the transaction waits as a record with those bytes, and
   * this client is let go with it (an object, its session's tag and ACK for 32 s per call
   * otherwise; issue 6). With a fork already seen the forks' sessions must be kept: no record.
   */
  private retireTransaction(ended: EndedSession): void {
    const tx = this.tx;
    if (!(tx instanceof InviteClientTransaction) || this.forks !== undefined || this.handler !== SETTLED) return;
    if (tx.retireAccepted(ended.ackBytes)) this.tx = undefined;
  }

  onTransportError(): void {
    this.fail(503);
  }

  private fail(status: number): void {
    this.clearCancelTimer();
    if (this.state === 'answered' || this.state === 'failed' || this.state === 'cancelled') return;
    this.state = 'failed';
    this.reportFailure(status);
  }

  /** The one failure report; then the handler is let go (nothing more reaches it). */
  private reportFailure(status: number, res?: SipResponse): void {
    const handler = this.handler;
    this.handler = SETTLED;
    this.request = undefined; // nothing is sent for it any more (the transaction built its ACK)
    this.call(() => handler.onFailure(status, res));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.reportError(err, 'invite-client');
    }
  }
}

const ignore = (): void => {};
/** What a client answers to once its application handler has had its final report. */
const SETTLED: InviteClientHandler = { onAnswer: ignore, onFailure: ignore };
