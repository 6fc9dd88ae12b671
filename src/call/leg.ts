/**
 * One outgoing call leg: INVITE → ringing → answered → ended, or failed with one status code
 * (486 busy, 487 cancelled, 408 no answer — our ring timeout, 603 declined, 5xx/6xx as received,
 * 503 on transport failure). A 2xx that crosses our CANCEL is acknowledged and hung up (§9.1).
 */
import type { SipRequest, SipResponse } from '../sip/message/index.js';
import type { SipStack } from '../sip/stack/index.js';
import type { InviteClient } from '../sip/dialog/invite-client.js';
import type { InviteSession, SessionEndReason } from '../sip/dialog/invite-session.js';
import type { TimerHandle, TimerHost } from '../sip/timer.js';

export type LegState = 'calling' | 'ringing' | 'answered' | 'failed' | 'ended';

/**
 * What a leg reports, with itself as the first argument: one handler (a CallSession) serves all
 * its legs, instead of an object and four closures per leg kept for the whole call (issue 6).
 */
export interface LegHandler {
  /** The INVITE went to the transport (once; its target resolved). */
  onLegSent?(leg: OutgoingLeg): void;
  /** The first 180/183 (once). */
  onLegRinging(leg: OutgoingLeg, res: SipResponse): void;
  /** The 2xx: the session exists; the owner sends the ACK with `session.ack(seq, body?)`. */
  onLegAnswered(leg: OutgoingLeg, res: SipResponse, session: InviteSession, seq: number): void;
  onLegFailed(leg: OutgoingLeg, code: number, res?: SipResponse): void;
  /** After `onLegAnswered`: the session ended (either side's BYE, or ours). */
  onLegEnded(leg: OutgoingLeg, reason: SessionEndReason): void;
}

export class OutgoingLeg {
  state: LegState = 'calling';
  session: InviteSession | undefined;
  private client: InviteClient | undefined;
  private ringTimer: TimerHandle | undefined;
  /** Set when we CANCEL: the status to report instead of the 487 the phone will send. */
  private cancelCode: number | undefined;
  /** The SIP Call-ID of this leg's dialog. */
  readonly sipCallId: string;
  /** Whether our INVITE carried an offer (it did not in RFC 3725 flow I). */
  private readonly offered: boolean;

  constructor(
    private readonly stack: SipStack,
    private readonly timers: TimerHost,
    request: SipRequest,
    private readonly ringTimeoutMs: number,
    private readonly handler: LegHandler,
  ) {
    this.sipCallId = request.callId;
    this.offered = request.body.length > 0;
    this.request = request;
  }

  /** Until start(): the leg keeps only what it reads later (sipCallId, offered), not the INVITE. */
  private request: SipRequest | undefined;

  start(): void {
    const request = this.request;
    if (!request) return; // started already
    this.request = undefined;
    this.ringTimer = this.timers.setTimeout(() => {
      this.ringTimer = undefined;
      this.cancel(408);
    }, this.ringTimeoutMs);
    this.client = this.stack.invite(request, {
      onSent: () => this.handler.onLegSent?.(this),
      onProgress: (res) => {
        if (this.state !== 'calling' || res.status < 180) return;
        this.state = 'ringing';
        this.handler.onLegRinging(this, res);
      },
      onAnswer: (res, session, seq) => {
        this.clearRingTimer();
        // Final answer: the client is no longer needed; a held call keeps its dialog, not the
        // objects that set it up (issue 6: memory per held call).
        this.client = undefined;
        if (this.cancelCode !== undefined || this.state === 'failed' || this.state === 'ended') {
          // §9.1 / §15: the 2xx crossed our CANCEL (or we gave up): acknowledge, then hang up.
          session.ack(seq, !this.offered && res.body.length > 0 ? { body: emptyAnswerFor(res) } : undefined);
          session.bye();
          if (this.state !== 'failed' && this.state !== 'ended') this.fail(this.cancelCode ?? 487);
          return;
        }
        this.state = 'answered';
        this.session = session;
        this.watchEnd(session);
        this.handler.onLegAnswered(this, res, session, seq);
      },
      onFailure: (status, res) => {
        this.clearRingTimer();
        this.client = undefined;
        if (this.state === 'failed' || this.state === 'ended' || this.state === 'answered') return;
        this.fail(this.cancelCode ?? status, res);
      },
    });
  }

  /**
   * The session's end ends the leg. Made here, not in start()'s callbacks: closures of one
   * function share a context in V8, and a hook made there kept the INVITE and its 2xx alive for
   * the whole call (issue 6: memory per held call).
   */
  private watchEnd(session: InviteSession): void {
    session.handler.onTerminated = (reason) => {
      if (this.state === 'answered') {
        this.state = 'ended';
        this.handler.onLegEnded(this, reason);
      }
    };
  }

  /** CANCEL a leg that has not answered; the failure is reported with `code` (487 by default). */
  cancel(code = 487): void {
    if (this.state !== 'calling' && this.state !== 'ringing') return;
    this.cancelCode ??= code;
    this.client?.cancel();
  }

  /** Lets go of an answered leg without ending it: its session now belongs to someone else. */
  release(): void {
    if (this.state === 'answered') this.state = 'ended';
  }

  /** Ends the leg however far it got: CANCEL before the answer, BYE after. */
  hangup(code = 487): void {
    if (this.state === 'answered') {
      this.state = 'ended';
      this.session?.bye();
      return;
    }
    this.cancel(code);
  }

  private fail(code: number, res?: SipResponse): void {
    this.state = 'failed';
    this.handler.onLegFailed(this, code, res);
  }

  private clearRingTimer(): void {
    if (this.ringTimer !== undefined) {
      this.timers.clearTimeout(this.ringTimer);
      this.ringTimer = undefined;
    }
  }

  dispose(): void {
    this.clearRingTimer();
  }
}

/** A body that answers an unwanted late-offer 2xx just enough to be able to hang it up. */
function emptyAnswerFor(res: SipResponse): string {
  const lines = res.body.toString().split(/\r?\n/);
  const media = lines.filter((l) => l.startsWith('m=')).map((l) => l.replace(/^m=(\S+) \d+/, 'm=$1 0'));
  return ['v=0', 'o=clicktocall 1 1 IN IP4 0.0.0.0', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', ...media, ''].join('\r\n');
}
