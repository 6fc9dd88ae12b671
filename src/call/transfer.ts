/**
 * A REFER from a phone during an anchored call (RFC 5589 §6.1 blind transfer), by policy:
 * - handle: 202, NOTIFY 100, INVITE the target (no SDP, Referred-By kept); when it answers, move
 *   the transferee onto it (re-INVITE with the target's offer, answer in the target's ACK),
 *   NOTIFY 200 and end the transferor's leg. When the target fails: NOTIFY the failure and
 *   reconnect the transferee with the transferor (or, the transferor gone, end the call).
 * - passthrough: a new REFER with the same Refer-To to the other phone; its answer answers the
 *   original REFER ("REFER request failure"), its NOTIFYs are relayed ("reference failure").
 * - reject: 603.
 */
import { createResponse, parseParams, type SipRequest, SipParseError } from '../sip/message/index.js';
import type { SipStack } from '../sip/stack/index.js';
import type { InviteSession } from '../sip/dialog/invite-session.js';
import type { ReferNotifier } from '../sip/dialog/refer-notifier.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import type { TimerHost } from '../sip/timer.js';
import { holdAnswer } from '../sdp/hold.js';
import type { CallEvent, CallEventKind, LegName } from './events.js';
import { OutgoingLeg } from './leg.js';

export type TransferPolicy = 'handle' | 'passthrough' | 'reject';

/** What the transfer hook is told (Restcomm's Transferor / Transferee / ReferTarget). */
export interface TransferHookInfo {
  callId: string;
  transferor: string;
  transferee: string;
  referTarget: string;
  referredBy: string | undefined;
}

/** The hook's answer; undefined (timeout, error) means "the configured default". */
export interface TransferDecision {
  action: 'approve' | 'deny';
  target?: string;
  policy?: TransferPolicy;
}

export interface Party {
  session: InviteSession;
  leg: LegName;
  /** The party's address (for From of calls placed on its behalf, and for events). */
  uri: string;
}

export interface TransferHost {
  stack: SipStack;
  timers: TimerHost;
  ownAddress: string;
  ringTimeoutMs: number;
  referNotifyTimeoutMs: number;
  event(kind: CallEventKind, leg: LegName | undefined, code: number, text: string, extra?: Partial<CallEvent>): void;
  /** Toll-fraud patterns (decisions.md §1) apply to transfer targets too. */
  allowTarget(uri: string): boolean;
  addLeg(leg: OutgoingLeg): void;
  /** The two parties now talk to each other; the host relays their re-INVITEs and REFERs. */
  bridge(a: Party, b: Party): void;
  endAll(reason: string): void;
  transferDone(t: Transfer): void;
}

export type Accept = (opts?: { referSub?: boolean }) => ReferNotifier;

/** Checks a REFER's Refer-To (RFC 3515 §2.4.1): exactly one, a usable URI, a scheme we call. */
export interface ReplacesTarget {
  callId: string;
  toTag: string;
  fromTag: string;
}

export function referTarget(req: SipRequest): { ok: true; uri: string; replaces: ReplacesTarget | undefined } | { ok: false; status: number; reason: string } {
  const values = req.getAll('refer-to');
  if (values.length === 0) return { ok: false, status: 400, reason: 'Missing Refer-To' };
  if (values.length > 1) return { ok: false, status: 400, reason: 'More than one Refer-To' };
  try {
    const target = req.referTo!;
    const uri = target.parsedUri;
    if (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel') {
      return { ok: false, status: 416, reason: 'Unsupported URI Scheme in Refer-To' };
    }
    // RFC 3891 §3 / RFC 5589 §7: Refer-To <sip:target?Replaces=call-id;to-tag=…;from-tag=…>.
    let replaces: ReplacesTarget | undefined;
    for (const [k, v] of uri.headers) {
      if (k.toLowerCase() !== 'replaces') continue;
      const semi = v.indexOf(';');
      const params = new Map<string, string | null>();
      if (semi >= 0) parseParams(v, semi, params);
      const callId = (semi < 0 ? v : v.slice(0, semi)).trim();
      const toTag = params.get('to-tag');
      const fromTag = params.get('from-tag');
      if (!callId || !toTag || !fromTag) return { ok: false, status: 400, reason: 'Bad Replaces in Refer-To' };
      replaces = { callId, toTag, fromTag };
    }
    // Headers in the Refer-To URI belong to the request the referee sends, not to its target.
    const bare = uri.clone();
    bare.headers.clear();
    bare.params.delete('method');
    return { ok: true, uri: bare.toString(), replaces };
  } catch (err) {
    if (err instanceof SipParseError) return { ok: false, status: 400, reason: `Bad Refer-To: ${err.reason}` };
    throw err;
  }
}

export class Transfer {
  private notifier: ReferNotifier | undefined;
  private targetLeg: OutgoingLeg | undefined;
  private transferorGone = false;
  private finished = false;

  constructor(
    private readonly host: TransferHost,
    readonly transferor: Party,
    readonly transferee: Party,
    private readonly refer: SipRequest,
    private readonly tx: ServerTransaction,
    private readonly accept: Accept,
    readonly target: string,
  ) {}

  run(policy: TransferPolicy): void {
    this.host.event('transfer-requested', this.transferor.leg, 202, `Transfer to ${this.target} requested by the ${this.transferor.leg}`, {
      reason: policy,
    });
    if (policy === 'reject') {
      this.respond(603, 'Decline');
      this.end('transfer-failed', 603, 'Transfer declined by policy', 'policy-reject');
      return;
    }
    if (policy === 'passthrough') this.passThrough();
    else this.handle();
  }

  // ── handle ────────────────────────────────────────────────────────────────────

  private handle(): void {
    const notifier = this.accept();
    this.notifier = notifier;
    notifier.accept();
    const invite = this.host.stack.createRequest('INVITE', this.target, `<${this.transferee.uri}>`, `<${this.target}>`);
    const referredBy = this.refer.get('referred-by');
    invite.set('Referred-By', referredBy ?? `<${this.transferor.uri}>`);
    const leg = new OutgoingLeg(this.host.stack, this.host.timers, invite, this.host.ringTimeoutMs, {
      // Closures are fine here: a transfer's target leg is rare and short-lived.
      onLegRinging: () => {
        notifier.notify(180, 'Ringing');
        this.host.event('transfer-ringing', this.transferor.leg, 180, 'Transfer target ringing');
      },
      onLegAnswered: (_leg, res, session, seq) => {
        if (this.finished) {
          session.ack(seq, res.body.length ? { body: holdAnswer(res.body, this.host.ownAddress) } : undefined);
          session.bye();
          return;
        }
        if (res.body.length === 0) {
          session.ack(seq);
          session.bye();
          this.targetFailed(488);
          return;
        }
        const offer = res.body;
        const contentType = res.get('content-type') ?? 'application/sdp';
        // The transferee moves to the target: the target's offer in a re-INVITE (RFC 3725 style).
        this.transferee.session.reinvite({ body: offer, contentType }, {
          onAnswer: (answer, ack) => {
            ack();
            session.ack(seq, { body: answer.body, contentType: answer.get('content-type') ?? 'application/sdp' });
            notifier.notify(200, 'OK');
            this.finished = true;
            // Bridge first: the transferor then leaves a pair it is no longer part of.
            this.host.bridge(this.transferee, { session, leg: this.transferor.leg, uri: this.target });
            this.host.transferDone(this);
            this.host.event('transfer-connected', this.transferor.leg, 200, `Transfer to ${this.target} connected`);
            this.transferor.session.bye();
          },
          onFailure: (code) => {
            session.ack(seq, { body: holdAnswer(offer, this.host.ownAddress), contentType: 'application/sdp' });
            session.bye();
            this.targetFailed(code);
          },
        });
      },
      onLegFailed: (_leg, code) => this.targetFailed(code),
      onLegEnded: () => {},
    });
    this.targetLeg = leg;
    this.host.addLeg(leg);
    leg.start();
  }

  private targetFailed(code: number): void {
    if (this.finished) return;
    this.finished = true;
    this.notifier?.notify(code, 'Transfer failed');
    this.host.event('transfer-failed', this.transferor.leg, code, `Transfer to ${this.target} failed`, { reason: 'target-failed' });
    this.host.transferDone(this);
    if (this.transferorGone) {
      // decisions.md §6: nobody to go back to — end the transferee's leg too, and say so.
      this.host.event('transfer-failed', this.transferee.leg, code, 'Transferor gone: ending the call', { reason: 'transferor-gone' });
      this.host.endAll('transfer-failed');
      return;
    }
    this.reconnect();
  }

  /**
   * Failed-transfer recovery: the transferee and the transferor talk again. An offerless
   * re-INVITE to the transferee yields a fresh offer, which goes to the transferor; its answer
   * returns in the transferee's ACK — whatever hold state the transferor had set up is undone.
   */
  private reconnect(): void {
    const { transferee, transferor } = this;
    transferee.session.reinvite(undefined, {
      onAnswer: (res, ackTransferee) => {
        if (res.body.length === 0) {
          ackTransferee();
          this.host.bridge(transferee, transferor);
          return;
        }
        transferor.session.reinvite({ body: res.body, contentType: res.get('content-type') ?? 'application/sdp' }, {
          onAnswer: (answer, ackTransferor) => {
            ackTransferor();
            ackTransferee({ body: answer.body, contentType: answer.get('content-type') ?? 'application/sdp' });
            this.host.event('transfer-recovered', transferee.leg, 200, 'Transfer failed: reconnected to the transferor');
            this.host.bridge(transferee, transferor);
          },
          onFailure: () => {
            ackTransferee({ body: holdAnswer(res.body, this.host.ownAddress), contentType: 'application/sdp' });
            this.host.endAll('transfer-recovery-failed');
          },
        });
      },
      onFailure: () => this.host.endAll('transfer-recovery-failed'),
    });
  }

  /** A party of the transfer hung up. Returns true when the transfer handled it. */
  partyEnded(party: Party): boolean {
    if (this.finished) return false;
    if (party === this.transferor) {
      // decisions.md §6: the transferor's BYE ends only its own leg; the transfer goes on.
      this.transferorGone = true;
      return true;
    }
    if (party === this.transferee) {
      this.finished = true;
      this.targetLeg?.hangup();
      this.notifier?.notify(487, 'Request Terminated');
      this.host.event('transfer-failed', this.transferor.leg, 487, 'Transferee hung up during the transfer', { reason: 'transferee-gone' });
      this.host.transferDone(this);
      return false;
    }
    return false;
  }

  // ── passthrough (seed 004, call agent mode) ───────────────────────────────────

  private passThrough(): void {
    let notifier: ReferNotifier | undefined;
    const other = this.transferee;
    other.session.refer(this.target, {
      referredBy: this.refer.get('referred-by') ?? `<${this.transferor.uri}>`,
      notifyTimeoutMs: this.host.referNotifyTimeoutMs,
    }, {
      onResponse: (res) => {
        if (res.status < 300) {
          notifier = this.accept();
          notifier.accept();
          return;
        }
        // "REFER request failure": the other phone's refusal answers the original REFER.
        this.respond(res.status, res.reason);
      },
      onProgress: (frag) => {
        if (!frag || !notifier || frag.status < 180 || frag.status >= 200) return;
        notifier.notify(frag.status, frag.reason);
        this.host.event('transfer-ringing', this.transferor.leg, frag.status, 'Transfer target ringing');
      },
      onEnd: (end) => {
        switch (end.kind) {
          case 'final':
            // "Reference failure" (≥ 300) or success, relayed as it came.
            notifier?.notify(end.status, end.reason);
            if (end.status < 300) this.end('transfer-connected', 200, `Transfer to ${this.target} connected`, 'passthrough');
            else this.end('transfer-failed', end.status, `Transfer to ${this.target} failed`, 'reference-failure');
            return;
          case 'rejected':
            this.end('transfer-failed', end.status, `Transfer to ${this.target} refused by the other phone`, 'refer-request-failure');
            return;
          case 'no-subscription':
            notifier?.notify(200, 'OK');
            this.end(undefined, 0, '', '');
            return;
          default:
            notifier?.notify(408, 'Request Timeout');
            this.end('transfer-failed', 408, `Transfer to ${this.target}: no outcome reported`, end.kind);
        }
      },
    });
  }

  private end(kind: CallEventKind | undefined, code: number, text: string, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    if (kind) this.host.event(kind, this.transferor.leg, code, text, { reason });
    this.host.transferDone(this);
  }

  private respond(status: number, reason?: string): void {
    this.host.stack.respond(this.tx, createResponse(this.refer, status, reason, this.transferor.session.dialog.localTag));
  }
}
