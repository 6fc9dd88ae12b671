/**
 * One click-to-call (architecture.md "Session"): calls the initiator, then connects the
 * destination by REFER (the phone dials; we leave) or by anchoring (RFC 3725 flow I: we call the
 * destination without SDP and swap the offers), falls back from REFER to anchoring, and ends
 * in exactly one final event. Every leg, dialog and timer it made is released when it ends.
 */
import type { SipResponse } from '../sip/message/index.js';
import type { SipStack } from '../sip/stack/index.js';
import type { InviteSession } from '../sip/dialog/invite-session.js';
import type { ReferClient, ReferEnd } from '../sip/dialog/refer-client.js';
import type { TimerHandle, TimerHost } from '../sip/timer.js';
import type { FixedTimerOwner, FixedTimerQueue } from '../sip/fixed-timers.js';
import { holdAnswer, holdOffer } from '../sdp/hold.js';
import { type CallEvent, type CallEventKind, type LegName, TEXT } from './events.js';
import { OutgoingLeg, type LegHandler } from './leg.js';
import { type Party, type ReplacesTarget, referTarget, Transfer, type TransferDecision, type TransferHookInfo, type TransferHost } from './transfer.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import type { SipRequest } from '../sip/message/index.js';
import type { ReferNotifier } from '../sip/dialog/refer-notifier.js';
import { createResponse, parseUri } from '../sip/message/index.js';
import { type CallRequest, userOf } from './request.js';

export interface SessionContext {
  stack: SipStack;
  timers: TimerHost;
  /** ClickToCallIdentity: our From towards the initiator and our Referred-By. */
  identity: string;
  /** Our address for SDP origin lines and the `inactive` hold offer. */
  ownAddress: string;
  publish(event: CallEvent): void;
  finished(session: CallSession): void;
  /** Toll-fraud patterns for targets other than the request's two (transfer targets). */
  allowTarget(uri: string): boolean;
  /** Finds the connected party of any call whose dialog is (callId, tags) — attended transfer. */
  findParty?: (callId: string, tagA: string, tagB: string) => { session: CallSession; party: Party } | undefined;
  /** The initiator's INVITE went to the transport (metrics: the server's part of the setup). */
  inviteSent?: (request: CallRequest) => void;
  /** The SIP Call-ID of one of this call's legs (for the ladder trace). */
  traceLeg?: (callId: string, sipCallId: string) => void;
  /** TransferHookUrl: asked before acting on a transfer. */
  transferHook?: (info: TransferHookInfo) => Promise<TransferDecision | undefined>;
  reportError(err: unknown, where: string): void;
  /**
   * The queue for MaxCallDuration timers of `ms` (fixed-timers.ts: one host timer for all held
   * calls of that length), or undefined: a timer of its own.
   */
  durationQueue?(ms: number): FixedTimerQueue | undefined;
}

/** Marks "a transfer hook is being asked" (a second REFER meanwhile gets 491). */
const PENDING_HOOK = { partyEnded: () => false } as unknown as Transfer;

function checkUri(text: string): string | undefined {
  try {
    const u = parseUri(text.trim());
    return u.scheme === 'sip' || u.scheme === 'sips' || u.scheme === 'tel' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

export type SessionState =
  | 'calling-initiator'
  | 'referring'
  | 'calling-destination'
  | 'connected'
  | 'ended';

export class CallSession implements LegHandler, FixedTimerOwner {
  state: SessionState = 'calling-initiator';
  /** True once the final event (connected, failed, refused) went out. */
  finalSent = false;
  private seq = 0;
  private initiatorLeg: OutgoingLeg;
  private destinationLeg: OutgoingLeg | undefined;
  private initiator: InviteSession | undefined;
  private destinationRinging = false;
  private maxTimer: TimerHandle | undefined;
  /** Or the MaxCallDuration timer in a shared queue (held calls: no host timer or closure each). */
  private maxQueue: FixedTimerQueue | undefined;
  private maxQueued = 0;
  /** 491 back-off before trying the REFER again. */
  private referRetryTimer: TimerHandle | undefined;
  /** Refer-Sub: false accepted: how long we wait for the phone to leave (its success signal). */
  private noSubscriptionTimer: TimerHandle | undefined;
  private done = false;
  private connectedSent = false;
  /** Legs placed for transfers (ended with the call). */
  private readonly extraLegs: OutgoingLeg[] = [];
  /** Sessions taken over from another call by an attended transfer (ended with this call). */
  private readonly adopted: InviteSession[] = [];
  private transfer: Transfer | undefined;
  private oodClient: ReferClient | undefined;
  /** The two parties talking now (anchored, after connecting; changed by a transfer). */
  private parties: [Party, Party] | undefined;

  constructor(
    private readonly ctx: SessionContext,
    readonly request: CallRequest,
  ) {
    const opts = request.options;
    const display = opts.callerId ?? `Click-To-Call: ${userOf(request.destination)}`;
    const invite = ctx.stack.createRequest(
      'INVITE', request.initiator, `"${display.replace(/["\\]/g, '')}" <${ctx.identity}>`, `<${request.initiator}>`,
    );
    if (opts.holdOffer !== 'none') invite.setBody(holdOffer(opts.holdOffer, ctx.ownAddress), 'application/sdp');
    ctx.traceLeg?.(request.id, invite.callId);
    this.initiatorLeg = new OutgoingLeg(ctx.stack, ctx.timers, invite, opts.ringTimeoutMs, this);
  }

  // ── LegHandler: what the initiator and destination legs report ─────────────────

  onLegSent(leg: OutgoingLeg): void {
    if (leg === this.initiatorLeg && this.request.receivedAt !== undefined) this.ctx.inviteSent?.(this.request);
  }

  onLegRinging(leg: OutgoingLeg): void {
    if (leg === this.initiatorLeg) this.event('ringing', 'initiator', 180, TEXT.ringingInitiator);
    else if (leg === this.destinationLeg) this.destinationRings();
  }

  onLegAnswered(leg: OutgoingLeg, res: SipResponse, session: InviteSession, seq: number): void {
    if (leg === this.initiatorLeg) this.initiatorAnswered(res, session, seq);
    else if (leg === this.destinationLeg) this.guard('destination-answered', () => this.destinationAnswered(res, session, seq));
  }

  onLegFailed(leg: OutgoingLeg, code: number): void {
    if (leg === this.initiatorLeg) {
      this.fail('initiator', code, 'initiator-failed');
      this.finish();
    } else if (leg === this.destinationLeg) {
      this.fail('destination', code, 'destination-failed');
      this.endAll();
    }
  }

  onLegEnded(leg: OutgoingLeg): void {
    if (leg === this.initiatorLeg) this.initiatorEnded();
    else if (leg === this.destinationLeg) {
      // Answered but not yet connected (our re-INVITE to the initiator is out): the session
      // still ends with one final event. Once connected, fail() is a no-op.
      this.fail('destination', 487, 'destination-hung-up');
      this.endAll('destination-hung-up');
    }
  }

  get id(): string {
    return this.request.id;
  }

  start(): void {
    this.event('initiated', undefined, 100, TEXT.inProgress, {
      translatedInitiator: this.request.initiator,
      translatedDestination: this.request.destination,
    });
    if (this.request.mode === 'ood-refer') this.guard('start', () => this.oodRefer());
    else this.guard('start', () => this.initiatorLeg.start());
  }

  // ── out-of-dialog REFER (Cisco "OOD-R", issue 4 §1) ──────────────────────────

  /**
   * REFER outside any dialog to the initiator's device (Request-URI = the referee, Refer-To = the
   * destination); the device places the call itself and reports in NOTIFYs (RFC 3515, RFC 6665).
   * A device that refuses (403, 405, 489, 501) gets the INVITE-then-REFER flow instead.
   */
  private oodRefer(): void {
    this.state = 'referring';
    const req = this.request;
    // The initiator hears this REFER first: an INVITE after a refusal is not the setup's latency.
    req.receivedAt = undefined;
    const refer = this.ctx.stack.createRequest('REFER', req.initiator, `<${this.ctx.identity}>`, `<${req.initiator}>`);
    this.ctx.traceLeg?.(req.id, refer.callId);
    this.oodClient = this.ctx.stack.refer(refer, req.destination, {
      referredBy: `<${this.ctx.identity}>`,
      notifyTimeoutMs: req.options.referNotifyTimeoutMs,
      ringingTimeoutMs: req.options.ringTimeoutMs + req.options.referNotifyTimeoutMs,
    }, {
      onResponse: (res) => {
        if (res.status < 300) this.event('referred', 'initiator', 100, `REFER accepted by the initiator's device (${res.status})`);
      },
      onProgress: (frag) => {
        if (frag && frag.status >= 180 && frag.status < 200) this.destinationRings();
      },
      onEnd: (end) => this.guard('ood-refer-end', () => {
        this.oodClient = undefined;
        if (this.done) return;
        switch (end.kind) {
          case 'final':
            if (end.status < 300) this.connected();
            else this.fail('destination', end.status, 'refer-target-failed');
            this.endAll('referred');
            return;
          case 'rejected':
            if ([403, 405, 489, 501].includes(end.status)) {
              this.event('fallback', undefined, 100, `Out-of-dialog REFER refused (${end.status}): calling the initiator`, { reason: 'ood-refer-refused' });
              this.state = 'calling-initiator';
              this.request.mode = 'refer';
              this.initiatorLeg.start();
              return;
            }
            this.fail('initiator', end.status, 'ood-refer-failed');
            this.endAll();
            return;
          case 'no-subscription':
            // Refer-Sub: false — the device will not report; accepted is all we will know.
            this.connected();
            this.endAll('referred');
            return;
          default:
            this.fail('destination', 408, end.kind === 'timeout' ? 'refer-notify-timeout' : 'refer-no-final-status');
            this.endAll();
        }
      }),
    });
  }

  /** API hang-up: CANCEL or BYE whatever is up. */
  hangup(reason = 'hangup'): void {
    if (this.done) return;
    this.guard('hangup', () => {
      if (!this.finalSent) {
        const leg: LegName = this.state === 'calling-initiator' ? 'initiator' : 'destination';
        this.fail(leg, 487, reason);
      }
      this.endAll(reason);
    });
  }

  // ── initiator leg ──────────────────────────────────────────────────────────────

  private initiatorAnswered(res: SipResponse, session: InviteSession, seq: number): void {
    this.initiator = session;
    // Late offer (no SDP in our INVITE): the phone offered in its 2xx; we answer on hold in the ACK.
    if (this.request.options.holdOffer === 'none' && res.body.length > 0) {
      session.ack(seq, { body: holdAnswer(res.body, this.ctx.ownAddress), contentType: 'application/sdp' });
    } else {
      session.ack(seq);
    }
    this.event('answered', 'initiator', 200, TEXT.connectedInitiator);
    if (this.done) return;
    const mode = this.request.mode;
    if (mode === 'anchored') {
      this.callDestination();
      return;
    }
    // decisions.md §6: a 2xx whose Allow lacks REFER → anchor; no Allow at all → try REFER.
    const allow = res.allow;
    if (allow !== undefined && !allow.includes('REFER')) {
      this.event('fallback', undefined, 100, 'Phone does not allow REFER: anchoring the call', { reason: 'refer-not-allowed' });
      this.callDestination();
      return;
    }
    this.refer();
  }

  private initiatorEnded(): void {
    if (this.done) return;
    switch (this.state) {
      case 'referring':
        // The phone ended its call with us; the REFER subscription (if any) still reports the
        // outcome. With no subscription (Refer-Sub: false) the hang-up is the success signal.
        if (this.noSubscriptionTimer !== undefined) {
          this.ctx.timers.clearTimeout(this.noSubscriptionTimer);
          this.noSubscriptionTimer = undefined;
          this.connected();
          this.endAll('referred');
        }
        return;
      case 'calling-destination':
        this.fail('destination', 487, 'initiator-hung-up');
        this.endAll();
        return;
      case 'connected':
        this.endAll('initiator-hung-up');
        return;
      default:
        this.finish();
    }
  }

  // ── REFER mode ────────────────────────────────────────────────────────────────

  private refer(retries = 0): void {
    const session = this.initiator;
    if (!session) return;
    this.state = 'referring';
    const timeout = this.request.options.referNotifyTimeoutMs;
    session.refer(this.request.destination, {
      referredBy: `<${this.ctx.identity}>`,
      notifyTimeoutMs: timeout,
      // Once the destination rings, it may ring for the whole ring timeout (plus the NOTIFY wait).
      ringingTimeoutMs: this.request.options.ringTimeoutMs + timeout,
    }, {
      onProgress: (frag) => {
        if (frag && frag.status >= 180 && frag.status < 200) this.destinationRings();
      },
      onEnd: (end) => this.guard('refer-end', () => this.referEnded(end, retries)),
    });
  }

  private referEnded(end: ReferEnd, retries: number): void {
    if (this.done || this.state !== 'referring') return;
    switch (end.kind) {
      case 'final':
        if (end.status < 300) this.connected();
        else this.fail('destination', end.status, 'refer-target-failed');
        this.endAll('referred');
        return;
      case 'rejected': {
        const code = end.status;
        if (code === 491 && retries < 2) {
          // §14.1-style back-off before trying the REFER again.
          this.referRetryTimer = this.ctx.timers.setTimeout(() => {
            this.referRetryTimer = undefined;
            this.refer(retries + 1);
          }, 2100 + Math.floor(Math.random() * 1900));
          return;
        }
        if (code === 481 || code === 408) {
          // decisions.md §6: the dialog is gone; nothing left to anchor.
          this.fail('destination', code, 'refer-dialog-gone');
          this.finish();
          return;
        }
        this.event('fallback', undefined, 100, `REFER refused (${code}): anchoring the call`, { reason: 'refer-refused' });
        this.callDestination();
        return;
      }
      case 'no-subscription':
        // RFC 4488: no NOTIFYs will come. Success is the phone ending its call with us (it moved
        // to the destination); failure is this timer running out.
        this.noSubscriptionTimer = this.ctx.timers.setTimeout(() => {
          this.noSubscriptionTimer = undefined;
          this.fail('destination', 408, 'refer-no-outcome');
          this.finish();
        }, this.request.options.referNotifyTimeoutMs);
        return;
      case 'timeout':
      case 'terminated-without-final':
        this.fail('destination', 408, end.kind === 'timeout' ? 'refer-notify-timeout' : 'refer-no-final-status');
        this.finish();
        return;
      case 'disposed':
        this.finish();
        return;
    }
  }

  // ── anchored mode (RFC 3725 flow I) ───────────────────────────────────────────

  private callDestination(): void {
    if (this.done) return;
    this.state = 'calling-destination';
    const req = this.request;
    // decisions.md §6: the destination sees the initiator's address as From.
    const invite = this.ctx.stack.createRequest('INVITE', req.destination, `<${req.initiator}>`, `<${req.destination}>`);
    this.ctx.traceLeg?.(req.id, invite.callId);
    this.destinationLeg = new OutgoingLeg(this.ctx.stack, this.ctx.timers, invite, req.options.ringTimeoutMs, this);
    this.destinationLeg.start();
  }

  private destinationAnswered(res: SipResponse, session: InviteSession, seq: number): void {
    const initiator = this.initiator;
    if (res.body.length === 0 || !initiator || initiator.state === 'terminated') {
      // We offered nothing, so the 2xx must carry the offer (RFC 3264 §5 / RFC 3261 §13.2.1).
      session.ack(seq);
      this.fail('destination', initiator && initiator.state !== 'terminated' ? 488 : 487, 'no-offer-from-destination');
      this.endAll();
      return;
    }
    const offer = res.body;
    const contentType = res.get('content-type') ?? 'application/sdp';
    // Flow I step 3–5: the destination's offer to the initiator in a re-INVITE, its answer in
    // the destination's ACK — each phone ends up holding the other's media address.
    initiator.reinvite({ body: offer, contentType }, {
      onAnswer: (answer, ack) => {
        ack();
        session.ack(seq, { body: answer.body, contentType: answer.get('content-type') ?? 'application/sdp' });
        // A party hung up (or the API did) while the re-INVITE was out: every 2xx is
        // acknowledged (§13.2.2.4), but there is nothing left to connect.
        if (this.done) return;
        this.connected();
        this.state = 'connected';
        this.bridge(
          { session: initiator, leg: 'initiator', uri: this.request.initiator },
          { session, leg: 'destination', uri: this.request.destination },
        );
        this.armMaxDuration();
      },
      onFailure: (code) => {
        session.ack(seq, { body: holdAnswer(offer, this.ctx.ownAddress), contentType: 'application/sdp' });
        if (this.done) return;
        this.fail('destination', code, 'initiator-reinvite-failed');
        this.endAll();
      },
    });
  }

  /**
   * MaxCallDuration for an anchored call. Its own method: a timer callback made inside
   * destinationAnswered would share that function's closure context and keep the 2xx and the
   * offer alive for the whole call (V8 closures of one function share one context).
   */
  private armMaxDuration(): void {
    const ms = this.request.options.maxDurationMs;
    const queue = this.ctx.durationQueue?.(ms);
    if (queue) {
      this.maxQueue = queue;
      this.maxQueued = queue.add(this, 'max-duration');
      return;
    }
    this.maxTimer = this.ctx.timers.setTimeout(() => {
      this.maxTimer = undefined;
      this.endAll('max-duration');
    }, ms);
  }

  /** FixedTimerOwner: the MaxCallDuration queue's timer for this call expired. */
  fixedTimerFired(): void {
    this.maxQueue = undefined;
    this.guard('max-duration', () => this.endAll('max-duration'));
  }

  /**
   * The two parties of an anchored call talk to each other: a re-INVITE from one (hold, codec
   * change) is relayed to the other; a REFER is a transfer (RFC 5589); a BYE ends the call —
   * unless a transfer is running and the transferor is the one leaving (decisions.md §6).
   */
  private bridge(a: Party, b: Party): void {
    this.parties = [a, b];
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const h = from.session.handler;
      h.onReinvite = (incoming) => {
        const body = incoming.request.body;
        if (body.length === 0) {
          // Offerless re-INVITE (a session refresh): offer what the other phone last gave us.
          incoming.respond(200, to.session.remoteBody ? { body: to.session.remoteBody, contentType: 'application/sdp' } : undefined);
          return;
        }
        to.session.reinvite({ body, contentType: incoming.request.get('content-type') ?? 'application/sdp' }, {
          onAnswer: (answer, ack) => {
            ack();
            incoming.respond(200, { body: answer.body, contentType: answer.get('content-type') ?? 'application/sdp' });
          },
          onFailure: (code) => incoming.respond(code >= 400 && code < 700 ? code : 500),
        });
      };
      h.onRefer = (req, tx, accept) => this.guard('refer', () => this.referFrom(from, to, req, tx, accept));
      h.onTerminated = () => this.guard('party-ended', () => {
        if (this.transfer?.partyEnded(from)) return;
        // A party that left the pair (the transferor after a transfer) ends only itself.
        if (!this.parties?.includes(from)) return;
        this.endAll(`${from.leg}-hung-up`);
      });
    }
  }

  /** A REFER from a phone during the anchored call (RFC 5589 §6.1). */
  private referFrom(transferor: Party, transferee: Party, req: SipRequest, tx: ServerTransaction, accept: (o?: { referSub?: boolean }) => ReferNotifier): void {
    const reply = (status: number, reason?: string) =>
      this.ctx.stack.respond(tx, createResponse(req, status, reason, transferor.session.dialog.localTag));
    if (this.done || this.transfer) {
      reply(491, 'Request Pending');
      return;
    }
    const target = referTarget(req);
    if (!target.ok) {
      reply(target.status, target.reason);
      return;
    }
    if (target.replaces) {
      this.attendedTransfer(transferor, transferee, req, tx, accept, target.uri, target.replaces);
      return;
    }
    const hook = this.ctx.transferHook;
    if (!hook) {
      this.startTransfer(transferor, transferee, req, tx, accept, target.uri, this.request.options.transferPolicy);
      return;
    }
    // Hold the REFER while the application decides (its transaction allows ~32 s; the hook far less).
    this.transfer = PENDING_HOOK;
    hook({
      callId: this.id, transferor: transferor.uri, transferee: transferee.uri, referTarget: target.uri,
      referredBy: req.referredBy?.uri,
    }).then((decision) => this.guard('transfer-hook', () => {
      this.transfer = undefined;
      if (this.done) {
        reply(481, 'Call/Transaction Does Not Exist');
        return;
      }
      if (decision?.action === 'deny') {
        reply(603, 'Decline');
        this.event('transfer-failed', transferor.leg, 603, `Transfer to ${target.uri} denied by the application`, { reason: 'hook-deny' });
        return;
      }
      let uri = target.uri;
      if (decision?.target) {
        const rewritten = checkUri(decision.target);
        if (!rewritten) {
          reply(500, 'Transfer hook gave a bad target');
          return;
        }
        uri = rewritten;
      }
      this.startTransfer(transferor, transferee, req, tx, accept, uri, decision?.policy ?? this.request.options.transferPolicy);
    }), (err: unknown) => this.ctx.reportError(err, 'transfer-hook'));
  }

  /**
   * Attended transfer on anchored calls (RFC 5589 §7, Refer-To with Replaces, RFC 3891): the
   * transferor is in two calls through us; the Replaces names its dialog in the other one. The
   * transferee is joined with that call's remote party (an offerless re-INVITE to it, its offer to
   * the transferee, the answer back in the ACK), and both of the transferor's dialogs end.
   */
  private attendedTransfer(
    transferor: Party, transferee: Party, req: SipRequest, tx: ServerTransaction,
    accept: (o?: { referSub?: boolean }) => ReferNotifier, targetUri: string, replaces: ReplacesTarget,
  ): void {
    const reply = (status: number, reason?: string) =>
      this.ctx.stack.respond(tx, createResponse(req, status, reason, transferor.session.dialog.localTag));
    const found = this.ctx.findParty?.(replaces.callId, replaces.toTag, replaces.fromTag);
    if (!found || found.session === this) {
      // RFC 3891 §3: the dialog to replace does not exist (here).
      reply(481, 'Replaced dialog not found');
      return;
    }
    const other = found.session.handOver(found.party);
    if (!other) {
      reply(481, 'Replaced call is not connected');
      return;
    }
    const notifier = accept();
    notifier.accept();
    this.transfer = PENDING_HOOK;
    this.event('transfer-requested', transferor.leg, 202, `Attended transfer to ${targetUri} requested by the ${transferor.leg}`, { reason: 'attended' });
    const target: Party = { session: other.session, leg: transferor.leg, uri: other.uri };
    // Both dialogs taken from the other call are ours to end now.
    this.adopted.push(other.session, found.party.session);
    other.session.reinvite(undefined, {
      onAnswer: (offer, ackTarget) => {
        if (offer.body.length === 0) {
          ackTarget();
          this.attendedFailed(transferor, notifier, 488);
          return;
        }
        transferee.session.reinvite({ body: offer.body, contentType: offer.get('content-type') ?? 'application/sdp' }, {
          onAnswer: (answer, ackTransferee) => {
            ackTransferee();
            ackTarget({ body: answer.body, contentType: answer.get('content-type') ?? 'application/sdp' });
            this.transfer = undefined;
            notifier.notify(200, 'OK');
            this.bridge(transferee, target);
            this.event('transfer-connected', transferor.leg, 200, `Attended transfer to ${targetUri} connected`, { reason: 'attended' });
            transferor.session.bye();
            found.party.session.bye();
          },
          onFailure: (code) => {
            ackTarget({ body: holdAnswer(offer.body, this.ctx.ownAddress), contentType: 'application/sdp' });
            this.attendedFailed(transferor, notifier, code);
          },
        });
      },
      onFailure: (code) => this.attendedFailed(transferor, notifier, code),
    });
  }

  private attendedFailed(transferor: Party, notifier: ReferNotifier, code: number): void {
    this.transfer = undefined;
    notifier.notify(code, 'Transfer failed');
    this.event('transfer-failed', transferor.leg, code, 'Attended transfer failed', { reason: 'attended' });
    this.endAll('transfer-failed');
  }

  /** The party of this call whose SIP dialog is (callId, tags in either order), if connected. */
  partyForDialog(callId: string, tagA: string, tagB: string): Party | undefined {
    for (const p of this.parties ?? []) {
      const d = p.session.dialog;
      if (d.callId !== callId) continue;
      if ((d.localTag === tagA && d.remoteTag === tagB) || (d.localTag === tagB && d.remoteTag === tagA)) return p;
    }
    return undefined;
  }

  /**
   * Another call takes the other party of `party` (an attended transfer replaced `party`'s
   * dialog): this call lets go of it without a BYE, and ends — BYE to `party` is the taker's job.
   */
  handOver(party: Party): { session: InviteSession; uri: string } | undefined {
    if (!this.parties || this.done || this.transfer) return undefined;
    const other = this.parties.find((p) => p !== party);
    if (!other) return undefined;
    const leg = [this.initiatorLeg, this.destinationLeg, ...this.extraLegs].find((l) => l?.session === other.session);
    leg?.release();
    this.parties = undefined;
    for (const h of [other.session.handler, party.session.handler]) {
      h.onReinvite = undefined;
      h.onRefer = undefined;
    }
    other.session.handler.onTerminated = undefined;
    party.session.handler.onTerminated = undefined;
    const [i, d] = [this.initiatorLeg, this.destinationLeg];
    const partyLeg = [i, d, ...this.extraLegs].find((l) => l?.session === party.session);
    partyLeg?.release();
    this.endAll('replaced');
    return { session: other.session, uri: other.uri };
  }

  private startTransfer(
    transferor: Party, transferee: Party, req: SipRequest, tx: ServerTransaction,
    accept: (o?: { referSub?: boolean }) => ReferNotifier, targetUri: string, policy: TransferDecision['policy'] & string,
  ): void {
    const reply = (status: number, reason?: string) =>
      this.ctx.stack.respond(tx, createResponse(req, status, reason, transferor.session.dialog.localTag));
    // decisions.md §1: the toll-fraud patterns apply to transfer and hook-rewritten targets too.
    if (!this.ctx.allowTarget(targetUri)) {
      reply(403, 'Transfer target not allowed');
      this.event('transfer-failed', transferor.leg, 403, `Transfer to ${targetUri} refused: not an allowed destination`, { reason: 'target-not-allowed' });
      return;
    }
    const host: TransferHost = {
      stack: this.ctx.stack,
      timers: this.ctx.timers,
      ownAddress: this.ctx.ownAddress,
      ringTimeoutMs: this.request.options.ringTimeoutMs,
      referNotifyTimeoutMs: this.request.options.referNotifyTimeoutMs,
      event: (kind, leg, code, text, extra) => this.event(kind, leg, code, text, extra),
      allowTarget: (uri) => this.ctx.allowTarget(uri),
      addLeg: (leg) => {
        this.extraLegs.push(leg);
        this.ctx.traceLeg?.(this.id, leg.sipCallId);
      },
      bridge: (x, y) => this.bridge(x, y),
      endAll: (reason) => this.endAll(reason),
      transferDone: (t) => {
        if (this.transfer === t) this.transfer = undefined;
      },
    };
    this.transfer = new Transfer(host, transferor, transferee, req, tx, accept, targetUri);
    this.transfer.run(policy);
  }

  // ── events and ending ─────────────────────────────────────────────────────────

  private destinationRings(): void {
    if (this.destinationRinging) return;
    this.destinationRinging = true;
    this.event('ringing', 'destination', 180, TEXT.ringingDestination);
  }

  private connected(): void {
    this.connectedSent = true;
    this.event('connected', 'destination', 200, TEXT.connectedDestination);
  }

  private fail(leg: LegName, code: number, reason: string): void {
    if (this.finalSent) return;
    this.event('failed', leg, code, leg === 'initiator' ? TEXT.failedInitiator : TEXT.failedDestination, { reason });
  }

  /** The session is over for us (REFER mode: we leave the call, BYE unless the phone did). */
  private finish(): void {
    this.endAll('ended');
  }

  /**
   * Ends every leg and timer. A call that connected gets its `completed` event here (REFER mode:
   * reason `referred`, the server left; anchored: who hung up), so that every session ends with
   * exactly one of failed / refused / completed.
   */
  private endAll(reason = 'ended'): void {
    if (this.done) return;
    this.done = true;
    this.state = 'ended';
    if (this.connectedSent) this.event('completed', undefined, 200, 'Call ended', { reason });
    for (const t of [this.maxTimer, this.referRetryTimer, this.noSubscriptionTimer]) {
      if (t !== undefined) this.ctx.timers.clearTimeout(t);
    }
    this.maxTimer = undefined;
    this.maxQueue?.cancel(this.maxQueued);
    this.maxQueue = undefined;
    this.referRetryTimer = undefined;
    this.noSubscriptionTimer = undefined;
    this.initiatorLeg.dispose();
    this.destinationLeg?.dispose();
    this.initiatorLeg.hangup();
    this.destinationLeg?.hangup();
    for (const leg of this.extraLegs) {
      leg.dispose();
      leg.hangup();
    }
    this.oodClient?.dispose();
    for (const session of this.adopted) session.bye();
    this.ctx.finished(this);
  }

  private event(kind: CallEventKind, leg: LegName | undefined, code: number, text: string, extra?: Partial<CallEvent>): void {
    const final = kind === 'connected' || kind === 'failed' || kind === 'refused';
    if (final) {
      if (this.finalSent) return;
      this.finalSent = true;
    }
    const event: CallEvent = {
      callId: this.request.id, seq: ++this.seq, time: Date.now(), kind, leg, code, text, final, ...extra,
    };
    try {
      this.ctx.publish(event);
    } catch (err) {
      this.ctx.reportError(err, 'publish');
    }
  }

  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.reportError(err, `session.${where}`);
      this.fail(this.state === 'calling-initiator' ? 'initiator' : 'destination', 500, 'internal-error');
      this.endAll();
    }
  }
}
