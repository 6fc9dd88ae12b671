/**
 * An established INVITE dialog usage (RFC 3261 §12–§15): 2xx retransmission until ACK (UAS,
 * §13.3.1.4), ACK re-sending on 2xx retransmissions (UAC, §13.2.2.4), re-INVITE both ways with
 * glare handling (§14.1: 491 and the randomised back-off), BYE both ways (§15), and in-dialog
 * REFER/NOTIFY through the subscription usages. Knows nothing of SDP semantics: bodies are opaque.
 */
import {
  createResponse, parseMessage, SipRequest, type SipResponse, SipParseError,
} from '../message/index.js';
import type { TimerHandle } from '../timer.js';
import type { ClientTransactionUser, ServerTransaction } from '../transaction/index.js';
import { detachBuffer, detachForWait } from '../message/detach.js';
import { dialogFromResponse, type Dialog, type UacOrigin } from './dialog.js';
import type { DialogHost, DialogUsage } from './host.js';
import { ReferClient, type ReferClientHandler, type ReferOptions } from './refer-client.js';
import { ReferNotifier } from './refer-notifier.js';

export interface Body {
  body?: Buffer | string;
  contentType?: string;
  headers?: [string, string][];
}

export interface IncomingReinvite {
  readonly request: SipRequest;
  /** Answer it. A 2xx is retransmitted until the ACK arrives (handed to `onAck`). */
  respond(status: number, body?: Body): void;
}

export interface InviteSessionHandler {
  /** The peer ended the call with BYE (already answered 200). */
  onBye?(req: SipRequest): void;
  /** A re-INVITE from the peer. Without a handler it is refused with 488. */
  onReinvite?(reinvite: IncomingReinvite): void;
  /** ACK for our 2xx (initial INVITE or re-INVITE), with its body (late offer answer). */
  onAck?(ack: SipRequest): void;
  /** A REFER inside the dialog. Without a handler it is refused with 405. */
  onRefer?(req: SipRequest, tx: ServerTransaction, accept: (opts?: { referSub?: boolean }) => ReferNotifier): void;
  /** INFO, UPDATE, MESSAGE, OPTIONS…; without a handler: OPTIONS/INFO 200, others 405. */
  onRequest?(req: SipRequest, tx: ServerTransaction): void;
  /** The session ended: BYE either way, no ACK for our 2xx, or the transport failed. */
  onTerminated?(reason: SessionEndReason): void;
}

export type SessionEndReason = 'local-bye' | 'remote-bye' | 'ack-timeout' | 'transport-error' | 'timeout' | 'closed';

export interface ReinviteHandler {
  onAnswer(res: SipResponse, ack: (body?: Body) => void): void;
  onFailure(status: number, res?: SipResponse): void;
}

export class InviteSession implements DialogUsage {
  state: 'confirmed' | 'terminated' = 'confirmed';
  handler: InviteSessionHandler = {};
  /** The stack's own hook (not the application's): called once when the session ends. */
  onEnd: (() => void) | undefined;
  /** Last body each side sent in an offer/answer exchange (opaque here). */
  remoteBody: Buffer | undefined;
  /** The ACK of our last INVITE, for its 2xx retransmissions (until Timer M): its bytes only (keptAck). */
  private lastAck: Buffer | undefined;
  private lastAckSeq = -1;
  /** The CSeq of the last INVITE whose client transaction has ended: its ACK is not kept. */
  private ackWindowEnded = -1;
  /** `seq` is read once: the transaction compacts `res` (bytes only) as soon as it is sent. */
  private pending2xx: { res: SipResponse; seq: number; tx: ServerTransaction; timer: TimerHandle; interval: number; elapsed: number } | undefined;
  private inviteOut = false;
  private inviteIn: ServerTransaction | undefined;
  // Made on first use: most sessions never see a REFER, and an empty Map or Set costs ~300 bytes
  // per held leg (issue 6).
  private referClients: Map<string, ReferClient> | undefined;
  private notifiers: Set<ReferNotifier> | undefined;
  private retryTimer: TimerHandle | undefined;
  /**
   * Our re-INVITEs whose transactions are still alive (see ReinviteUser). Made on the first and
   * let go when the last ends: a held call must not keep an empty Set (~300 bytes) for its life.
   */
  private reinviteUsers: Set<ReinviteUser> | undefined;

  constructor(
    private readonly host: DialogHost,
    readonly dialog: Dialog,
  ) {
    host.registerDialog(dialog, this);
  }

  // ── UAC side: ACK for the 2xx we received ──────────────────────────────────────

  /** Sends the ACK for a 2xx to our INVITE with CSeq `seq` (§13.2.2.4), optionally with the answer. */
  ack(seq: number, body?: Body): void {
    const ack = this.dialog.createRequest('ACK', seq);
    applyBody(ack, body);
    this.host.sendAck(ack);
    if (seq === this.ackWindowEnded) return; // acknowledged late: no 2xx retransmission can follow
    this.lastAck = keptAck(ack);
    this.lastAckSeq = seq;
  }

  /**
   * The INVITE with CSeq `seq` has no client transaction any more (Timer M: 64×T1 after its
   * first 2xx, RFC 6026 §8.4): the UAS has stopped retransmitting its 2xx (§13.3.1.4), so its
   * ACK need not be kept for them — a held call keeps no message.
   */
  forgetAck(seq: number): void {
    this.ackWindowEnded = seq;
    if (this.lastAckSeq === seq) this.lastAck = undefined;
  }

  /** A 2xx retransmission for an INVITE we already acknowledged: send the ACK again. */
  handleStray2xx(res: SipResponse): void {
    const last = this.lastAck;
    if (!last || res.cseq.seq !== this.lastAckSeq) return;
    resendAck(this.host, last);
  }

  /** The remote tag of the dialog (the To tag of the 2xx that made it). */
  get remoteTag(): string {
    return this.dialog.remoteTag;
  }

  /**
   * What this session still answers for once it has ended: the ACK of its INVITE, for a 2xx
   * retransmission until Timer M. The InviteClient keeps that instead of the whole session.
   */
  toEnded(): EndedSession {
    return new EndedSession(this.host, this.dialog.remoteTag, this.lastAck, this.lastAckSeq);
  }

  // ── UAS side: our 2xx, retransmitted until the ACK (§13.3.1.4) ─────────────────

  /** Sends a 2xx on `tx` and retransmits it (T1 doubling, capped at T2) until the ACK. */
  send2xx(tx: ServerTransaction, res: SipResponse): void {
    const seq = res.cseq.seq;
    this.host.respond(tx, res);
    const start = { res, seq, tx, timer: undefined as TimerHandle, interval: this.host.t1, elapsed: 0 };
    this.pending2xx = start;
    const deadline = 64 * this.host.t1;
    // Fix: the last wait is cut short so that the session ends at 64*T1, not at the next
    // retransmission slot after it (up to T2 late).
    const arm = (p: typeof start) => {
      const wait = Math.min(p.interval, deadline - p.elapsed);
      p.elapsed += wait;
      p.timer = this.host.timers.setTimeout(tick, wait);
    };
    const tick = () => {
      const p = this.pending2xx;
      if (!p || p !== start) return;
      if (p.elapsed >= deadline) {
        // §13.3.1.4: no ACK within 64*T1 — the dialog is confirmed but the session ends with BYE.
        // Fix: send the BYE without bye(), which ended the session as 'local-bye' first and made
        // end('ack-timeout') a no-op.
        this.pending2xx = undefined;
        this.request('BYE');
        this.end('ack-timeout');
        return;
      }
      if (tx.responseDest.transport === 'udp') this.host.respond(tx, p.res);
      p.interval = Math.min(p.interval * 2, this.host.t2);
      arm(p);
    };
    arm(start);
  }

  handleAck(ack: SipRequest): void {
    const p = this.pending2xx;
    if (p && ack.cseq.seq === p.seq) {
      this.host.timers.clearTimeout(p.timer);
      this.pending2xx = undefined;
      if (this.inviteIn === p.tx) this.inviteIn = undefined;
      if (ack.body.length > 0) this.remoteBody = detachBuffer(ack.body);
      this.callHandler('onAck', () => this.handler.onAck?.(ack));
    }
  }

  // ── requests we send ──────────────────────────────────────────────────────────

  /** A non-INVITE request in the dialog; `onFinal` gets the final response, or a status (408/503) on failure. */
  request(method: string, body?: Body, onFinal?: (status: number, res?: SipResponse) => void): SipRequest | undefined {
    if (this.state === 'terminated') return undefined;
    const req = this.dialog.createRequest(method);
    applyBody(req, body);
    this.host.sendRequest(req, {
      onResponse: (res) => {
        if (res.status < 200) return;
        // §12.2.1.2: a 481 or 408 to a request in the dialog means the dialog is gone.
        if (res.status === 481 || res.status === 408) this.end('timeout');
        this.callHandler('onFinal', () => onFinal?.(res.status, res));
      },
      onTimeout: () => {
        this.end('timeout'); // §8.1.3.1: a transaction timeout counts as a 408
        this.callHandler('onFinal', () => onFinal?.(408));
      },
      onTransportError: () => this.callHandler('onFinal', () => onFinal?.(503)),
    });
    return req;
  }

  /**
   * A re-INVITE (§14.1). Glare: while one of ours or the peer's is pending, ours waits; a 491
   * answer retries after 2.1–4 s if we own the Call-ID (we were the UAC of the dialog), else
   * 0–2 s.
   */
  reinvite(body: Body | undefined, handler: ReinviteHandler): void {
    if (this.state === 'terminated') {
      handler.onFailure(481);
      return;
    }
    if (this.inviteOut || this.inviteIn) {
      this.scheduleRetry(body, handler, 100);
      return;
    }
    this.inviteOut = true;
    const req = this.dialog.createRequest('INVITE');
    applyBody(req, body);
    const user = new ReinviteUser(this, handler, body, req.cseq.seq);
    (this.reinviteUsers ??= new Set()).add(user);
    this.host.sendRequest(req, user);
  }

  /** ReinviteUser: a response to one of our re-INVITEs. */
  reinviteResponse(user: ReinviteUser, res: SipResponse): void {
    if (res.status < 200) return;
    const handler = user.handler;
    if (handler === undefined) {
      // Settled: what comes now is a retransmission of the 2xx (§13.2.2.4: ACK it again).
      if (res.status < 300) this.handleStray2xx(res);
      return;
    }
    const body = user.body;
    user.settle();
    this.inviteOut = false;
    if (res.status < 300) {
      this.dialog.refreshTarget(res);
      if (res.body.length > 0) this.remoteBody = detachBuffer(res.body);
      const ack = this.ackOnce(user.seq);
      this.callHandler('onAnswer', () => handler.onAnswer(res, ack));
    } else if (res.status === 491) {
      const owner = this.dialog.isUac;
      const delay = owner ? 2100 + Math.floor(Math.random() * 1900) : Math.floor(Math.random() * 2000);
      this.scheduleRetry(body, handler, delay);
    } else {
      // §14.1: a non-2xx leaves the session as it was; 481/408 mean the dialog is gone (§12.2.1.2).
      if (res.status === 481 || res.status === 408) this.end('timeout');
      this.callHandler('onFailure', () => handler.onFailure(res.status, res));
    }
    if (this.state === 'terminated') this.leaveEnded(user, this.toEnded());
  }

  /**
   * ReinviteUser: Timer B (408) or a failed send (503) before the final. §8.1.3.1: a transaction
   * timeout counts as a 408, which ends the dialog (§12.2.1.2) just like a 408 response.
   */
  reinviteFailed(user: ReinviteUser, status: 408 | 503): void {
    const handler = user.handler;
    if (handler === undefined) return; // after the final: nothing is reported twice
    user.settle();
    this.inviteOut = false;
    if (status === 408) this.end('timeout');
    this.callHandler('onFailure', () => handler.onFailure(status));
    if (this.state === 'terminated') this.leaveEnded(user, this.toEnded());
  }

  /** ReinviteUser: its transaction is gone (Timer M after a 2xx, or D/after the final). */
  reinviteDone(user: ReinviteUser): void {
    this.forgetAck(user.seq);
    this.dropReinviteUser(user);
  }

  /**
   * The ACK function handed to the application with a re-INVITE's 2xx (it may add the answer).
   * A method of its own: made inside reinviteResponse it would share that function's closure
   * context and keep the 2xx and the handler for as long as the application keeps it.
   */
  private ackOnce(seq: number): (body?: Body) => void {
    let acked = false;
    return (b?: Body) => {
      if (acked) return;
      acked = true;
      this.ack(seq, b);
    };
  }

  /** A settled re-INVITE of an ended session keeps only what re-ACKs its 2xx (EndedSession). */
  private leaveEnded(user: ReinviteUser, ended: EndedSession): void {
    user.owner = ended;
    this.dropReinviteUser(user);
  }

  private dropReinviteUser(user: ReinviteUser): void {
    const users = this.reinviteUsers;
    if (users === undefined) return;
    users.delete(user);
    if (users.size === 0) this.reinviteUsers = undefined;
  }

  private scheduleRetry(body: Body | undefined, handler: ReinviteHandler, delay: number): void {
    if (this.retryTimer !== undefined) this.host.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.host.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.reinvite(body, handler);
    }, delay);
  }

  /** Ends the session with BYE (§15.1.1). Safe to call more than once. */
  bye(onFinal?: (status: number) => void): void {
    if (this.state === 'terminated') return;
    this.request('BYE', undefined, (status) => onFinal?.(status));
    this.end('local-bye');
  }

  /** REFER in this dialog (RFC 3515); NOTIFYs come back here and go to the returned client. */
  refer(referTo: string, options: ReferOptions, handler: ReferClientHandler): ReferClient | undefined {
    if (this.state === 'terminated') return undefined;
    const req = this.dialog.createRequest('REFER');
    const clients = (this.referClients ??= new Map());
    const client = new ReferClient(this.host, this.dialog, req, options, handler, () => {
      clients.delete(client.eventId);
      if (clients.get('') === client) clients.delete('');
      // RFC 6665 §4.5.2: the dialog lives as long as one of its usages; after a BYE the
      // subscription kept it, and its end releases it.
      if (this.state === 'terminated' && clients.size === 0) this.host.unregisterDialog(this.dialog);
    });
    // RFC 3515 §2.4.6: the NOTIFYs carry Event: refer;id=<CSeq of the REFER>; a first REFER's may omit it.
    clients.set(client.eventId, client);
    if (clients.size === 1) clients.set('', client);
    client.send(referTo);
    return client;
  }

  // ── requests we receive ───────────────────────────────────────────────────────

  handleRequest(req: SipRequest, tx: ServerTransaction): void {
    if (this.state === 'terminated' && req.method !== 'NOTIFY') {
      // Only a surviving subscription keeps an ended session's dialog: nothing else is served.
      this.host.respond(tx, createResponse(req, 481));
      return;
    }
    if (!this.dialog.acceptRemoteSeq(req)) {
      this.host.respond(tx, createResponse(req, 500, 'Server Internal Error (CSeq out of order)'));
      return;
    }
    switch (req.method) {
      case 'BYE':
        this.host.respond(tx, createResponse(req, 200));
        this.end('remote-bye');
        this.callHandler('onBye', () => this.handler.onBye?.(req));
        return;
      case 'INVITE':
        this.incomingReinvite(req, tx);
        return;
      case 'NOTIFY':
        this.incomingNotify(req, tx);
        return;
      case 'REFER':
        if (!this.handler.onRefer) {
          this.host.respond(tx, createResponse(req, 405));
          return;
        }
        this.callHandler('onRefer', () =>
          this.handler.onRefer!(req, tx, (opts) => {
            const n = new ReferNotifier(this.host, this.dialog, req, tx, opts?.referSub ?? req.referSub !== false, () => this.notifiers?.delete(n));
            (this.notifiers ??= new Set()).add(n);
            return n;
          }),
        );
        return;
      default:
        if (this.handler.onRequest) {
          this.callHandler('onRequest', () => this.handler.onRequest!(req, tx));
        } else {
          const ok = req.method === 'OPTIONS' || req.method === 'INFO' || req.method === 'UPDATE' && req.body.length === 0;
          this.host.respond(tx, createResponse(req, ok ? 200 : 405));
        }
    }
  }

  private incomingReinvite(req: SipRequest, tx: ServerTransaction): void {
    // §14.2: an INVITE while ours is pending → 491; while the peer's previous is pending → 500 + Retry-After.
    if (this.inviteOut) {
      this.host.respond(tx, createResponse(req, 491));
      return;
    }
    if (this.inviteIn) {
      const res = createResponse(req, 500, 'Server Internal Error');
      res.set('Retry-After', String(Math.floor(Math.random() * 10)));
      this.host.respond(tx, res);
      return;
    }
    this.inviteIn = tx;
    this.dialog.refreshTarget(req);
    if (req.body.length > 0) this.remoteBody = detachBuffer(req.body);
    const reinvite: IncomingReinvite = {
      request: req,
      respond: (status, body) => {
        if (tx.lastStatus >= 200) return;
        const res = createResponse(req, status, undefined, this.dialog.localTag);
        for (const [k, v] of body?.headers ?? []) res.add(k, v);
        if (body?.body !== undefined) res.setBody(body.body, body.contentType ?? 'application/sdp');
        if (status >= 200 && status < 300) {
          res.set('Contact', this.dialog.localContact);
          this.send2xx(tx, res);
        } else {
          this.host.respond(tx, res);
          if (status >= 200) this.inviteIn = undefined;
        }
      },
    };
    if (!this.handler.onReinvite) {
      reinvite.respond(488);
      return;
    }
    this.callHandler('onReinvite', () => this.handler.onReinvite!(reinvite));
  }

  private incomingNotify(req: SipRequest, tx: ServerTransaction): void {
    let id = '';
    try {
      const ev = req.event;
      if (!ev || ev.type !== 'refer') {
        this.host.respond(tx, createResponse(req, 489));
        return;
      }
      id = ev.id ?? '';
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.host.respond(tx, createResponse(req, 400, 'Bad Event header'));
      return;
    }
    const client = this.referClients?.get(id) ?? (id ? undefined : this.referClients?.get(''));
    if (!client) {
      // RFC 6665 §4.1.3: a NOTIFY for no subscription of ours → 481.
      this.host.respond(tx, createResponse(req, 481));
      return;
    }
    client.handleNotify(req, tx);
  }

  // ── ending ───────────────────────────────────────────────────────────────────

  /** Ends the usage locally (no BYE): timers cleared, dialog unregistered, handler told once. */
  end(reason: SessionEndReason): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.dialog.state = 'terminated';
    if (this.pending2xx) {
      this.host.timers.clearTimeout(this.pending2xx.timer);
      this.pending2xx = undefined;
    }
    if (this.retryTimer !== undefined) {
      this.host.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const notifiers = this.notifiers;
    this.notifiers = undefined;
    if (notifiers) for (const n of notifiers) n.dispose();
    if (reason === 'remote-bye' && this.referClients !== undefined && this.referClients.size > 0) {
      // The peer hung up while a REFER subscription runs (RFC 6665 §4.5.2): its NOTIFYs still
      // come in this dialog, so the dialog stays until the subscription ends.
    } else {
      if (this.referClients) for (const c of new Set(this.referClients.values())) c.dispose();
      this.referClients?.clear();
      this.host.unregisterDialog(this.dialog);
    }
    // A re-INVITE's transaction waits 64*T1 after its 2xx and keeps its user: a settled one now
    // keeps the ended session's ACK only, not this session, its dialog and the call behind it.
    const users = this.reinviteUsers;
    if (users !== undefined && users.size > 0) {
      let ended: EndedSession | undefined;
      for (const user of users) if (user.handler === undefined) this.leaveEnded(user, (ended ??= this.toEnded()));
    }
    const onEnd = this.onEnd;
    this.onEnd = undefined;
    if (onEnd) this.callHandler('onEnd', onEnd);
    this.callHandler('onTerminated', () => this.handler.onTerminated?.(reason));
  }

  private callHandler(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.reportError(err, `invite-session.${where}`);
    }
  }
}

export function applyBody(msg: SipRequest | SipResponse, body?: Body): void {
  if (!body) return;
  for (const [k, v] of body.headers ?? []) msg.add(k, v);
  if (body.body !== undefined) msg.setBody(body.body, body.contentType ?? 'application/sdp');
}

/**
 * An ACK kept for 2xx retransmissions (rare; up to 64*T1, §13.2.2.4) as its bytes in a wait
 * slab: not a message object, its Request-URI and body views (~300 bytes more each, up to three
 * per anchored call, issue 6). Read again only if a 2xx copy or a fork comes.
 */
function keptAck(ack: SipRequest): Buffer {
  return detachForWait(ack.serialize());
}

/** A kept ACK read again: our own bytes, so they parse. */
function readKeptAck(kept: Buffer): SipRequest {
  const ack = parseMessage(kept, { stream: true });
  if (!(ack instanceof SipRequest)) throw new Error('a kept ACK reads as a response');
  return ack;
}

/**
 * Re-sends a kept ACK. Fix: the host stamps a Via on every ACK it sends; re-sending the same
 * ACK stacked one Via per 2xx retransmission. A copy without the Vias earlier sends added.
 */
function resendAck(host: DialogHost, kept: Buffer): void {
  const last = readKeptAck(kept);
  host.sendAck(new SipRequest(last.method, last.uri, last.headers.filter((h) => h.key !== 'via'), last.body));
}

/** An ended session as its InviteClient keeps it until Timer M: its remote tag and its ACK (§13.2.2.4). */
export class EndedSession {
  constructor(
    private readonly host: DialogHost,
    readonly remoteTag: string,
    /** The ACK's bytes (keptAck), until Timer M. */
    private ack: Buffer | undefined,
    private readonly ackSeq: number,
  ) {}

  handleStray2xx(res: SipResponse): void {
    if (this.ack && res.cseq.seq === this.ackSeq) resendAck(this.host, this.ack);
  }

  forgetAck(seq: number): void {
    if (seq === this.ackSeq) this.ack = undefined;
  }

  /** The kept ACK's bytes (what InviteClient leaves in its transaction's record: retireAccepted). */
  get ackBytes(): Buffer | undefined {
    return this.ack;
  }

  /** For a fork's dialog (InviteClient.forkOrigin): the ACK carries our Call-ID, From and CSeq. */
  forkOrigin(seq: number): UacOrigin | undefined {
    const kept = this.ack;
    if (kept === undefined) return undefined;
    try {
      const ack = readKeptAck(kept);
      const from = ack.from;
      return { callId: ack.callId, localTag: from.tag ?? '', localUri: from.toStringWithoutTag(), localSeq: seq, requestUri: ack.uri };
    } catch {
      return undefined; // our own ACK: it parses
    }
  }
}

/**
 * A 2xx for an initial INVITE whose client transaction waits out Timer M as a record, its
 * InviteClient let go (it retired the transaction when its session ended, leaving the ACK's
 * bytes, `kept`; none if that session was never acknowledged): what the InviteClient would do,
 * from those bytes. A copy of the ended session's 2xx gets its ACK again (§13.2.2.4); a fork's
 * 2xx is acknowledged, then its dialog ended with BYE ("If, after acknowledging any 2xx response
 * to an INVITE, the UAC does not want to continue with that dialog, then the UAC MUST terminate
 * the dialog by sending a BYE request", §13.2.2.4). The caller first gives a 2xx of a dialog that
 * still lives (a fork being ended) to that dialog, which ACKs it again. `contactFor` is our
 * Contact for a dialog of that ACK's Request-URI.
 */
export function answerLate2xx(host: DialogHost, res: SipResponse, kept: Buffer, contactFor: (ack: SipRequest) => string): void {
  if (kept.length === 0) return;
  const ack = readKeptAck(kept);
  const seq = ack.cseq.seq;
  // The ended session as its InviteClient kept it: it re-ACKs its own 2xx, and tells a fork's
  // dialog what it takes from our INVITE.
  const ended = new EndedSession(host, ack.to.tag ?? '', kept, seq);
  if ((res.to.tag ?? '') === ended.remoteTag) {
    ended.handleStray2xx(res);
    return;
  }
  const origin = res.cseq.seq === seq ? ended.forkOrigin(seq) : undefined;
  if (origin === undefined) return;
  const session = new InviteSession(host, dialogFromResponse(origin, res, contactFor(ack)));
  session.ack(seq);
  session.bye();
}

/**
 * The client-transaction user of one re-INVITE (§14.1). Its transaction keeps it for 64*T1 after
 * the 2xx (Timer M, RFC 6026 §8.4), to ACK the 2xx's retransmissions again — so it holds nothing
 * else that long: the application's handler and the offer go at the final response, and once the
 * session has ended it keeps the ended session's ACK (EndedSession), not the dialog and the call
 * behind it (issue 6: that was ~20 KB per anchored call for 32 s).
 */
class ReinviteUser implements ClientTransactionUser {
  constructor(
    public owner: InviteSession | EndedSession,
    /** Until the final response (or a failure): the application's handler and the offer, for a 491 retry. */
    public handler: ReinviteHandler | undefined,
    public body: Body | undefined,
    readonly seq: number,
  ) {}

  settle(): void {
    this.handler = undefined;
    this.body = undefined;
  }

  onResponse(res: SipResponse): void {
    const owner = this.owner;
    if (owner instanceof InviteSession) owner.reinviteResponse(this, res);
    else if (res.status >= 200 && res.status < 300) owner.handleStray2xx(res);
  }

  onTimeout(): void {
    if (this.owner instanceof InviteSession) this.owner.reinviteFailed(this, 408);
  }

  onTransportError(): void {
    if (this.owner instanceof InviteSession) this.owner.reinviteFailed(this, 503);
  }

  onTerminated(): void {
    const owner = this.owner;
    if (owner instanceof InviteSession) owner.reinviteDone(this);
    else owner.forgetAck(this.seq);
  }
}
