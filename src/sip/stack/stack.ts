/**
 * The SIP stack: binds a transport, the transaction layer and the dialog usages, and offers the
 * layers above a small API — send an INVITE / REFER / any request, answer, be told of new
 * requests by method. It knows nothing of click-to-call.
 *
 * Inbound: bytes → parse (400 for an answerable malformed request, else drop and count) →
 * §18.2.1 received/rport → transactions (retransmissions absorbed) → CANCEL (§9.2), in-dialog
 * (by dialog id, 481 when unknown), or the handler registered for the method (405/501 when none;
 * OPTIONS answered by default, §11.2).
 */
import { isIP } from 'node:net';
import {
  createResponse, parseMessage, SipParseError, type SipMessage, SipRequest, SipResponse, type SipUri, parseUri,
  parseNameAddr, BRANCH_COOKIE, ownVia, KNOWN_METHODS,
} from '../message/index.js';
import type { TimerHost } from '../timer.js';
import {
  TransactionLayer, type ClientTransactionUser, type Destination, type ServerTransaction, type TimerSettings,
  type ClientTransaction,
} from '../transaction/index.js';
import { Dialog, dialogKey, dialogFromRequest, dialogFromResponse } from '../dialog/dialog.js';
import { detachRepeated } from '../message/detach.js';
import type { DialogHost, DialogUsage } from '../dialog/host.js';
import { InviteClient, type InviteClientHandler } from '../dialog/invite-client.js';
import { answerLate2xx } from '../dialog/invite-session.js';
import { InviteServer } from '../dialog/invite-server.js';
import { ReferClient, type ReferClientHandler, type ReferOptions } from '../dialog/refer-client.js';
import { ReferNotifier } from '../dialog/refer-notifier.js';
import { IdGenerator } from '../ids.js';
import { DigestClient, parseChallenges } from '../digest/index.js';
import { stampTopVia, responseDestination } from './response-route.js';
import { udpDestination } from './udp-destinations.js';

export type TransportName = 'udp' | 'tcp' | 'tls';

/** The part of the transport layer the stack uses (the TransportLayer class fits it). */
export interface StackTransport {
  send(data: Buffer, target: Destination, cb?: (err?: Error) => void): void;
  local(transport: TransportName, family: 4 | 6): { address: string; port: number } | undefined;
}

export interface InboundBytes {
  data: Buffer;
  transport: TransportName;
  remote: { address: string; port: number };
  local: { address: string; port: number };
  connectionId?: number;
}

export type StackEvent =
  | { type: 'parse-error'; reason: string; answered: boolean; remote: string }
  | { type: 'retransmission'; detail: unknown }
  | { type: 'internal-error'; where: string; error: unknown }
  | { type: 'unmatched-response'; status: number; method: string };

/** Sees every message in and out (the call ladder, STACK-level logging). */
/** Sees every message in and out; `message` is the parsed or built message (absent for bytes that did not parse). */
export type MessageObserver = (
  direction: 'in' | 'out', data: Buffer, transport: TransportName, remote: { address: string; port: number }, message?: SipMessage,
) => void;

export interface SipStackOptions {
  transport: StackTransport;
  timers: TimerHost;
  timerSettings?: Partial<TimerSettings>;
  /** RFC 3263 server location for names; numeric hosts never reach it. */
  locate?: (uri: SipUri) => Promise<Destination[]>;
  /** Every out-of-dialog request is sent through this proxy via a pre-loaded Route (loose routing). */
  outboundProxy?: string;
  /** Address written in Via and Contact when a listener is bound to a wildcard address. */
  advertisedAddress?: string;
  /** User part of our Contact. */
  contactUser?: string;
  userAgent?: string;
  maxHeaders?: number;
  /** UDP requests larger than this go over TCP when we listen on TCP (§18.1.1: MTU − 200). */
  udpMaxRequestSize?: number;
  /** Methods in Allow (OPTIONS answer, 405s). */
  allow?: string[];
  /** Option tags in Supported; requests requiring others get 420 (§8.2.2.3). */
  supported?: string[];
  observer?: MessageObserver;
  onEvent?: (event: StackEvent) => void;
  /**
   * Credentials for a 401/407 challenge (RFC 3261 §22.2–22.3) in `realm`, for a request that went
   * to `dest`; undefined: the challenge is passed up as a failure.
   */
  credentialFor?: (realm: string, dest: Destination, req: SipRequest) => { username: string; password: string } | undefined;
}

const KNOWN_METHOD_SET = new Set(KNOWN_METHODS);

export type RequestHandler = (req: SipRequest, tx: ServerTransaction) => void;

interface PendingRefer {
  client: ReferClient;
  request: SipRequest;
}

export class SipStack implements DialogHost {
  readonly timers: TimerHost;
  readonly t1: number;
  readonly t2: number;
  readonly transactions: TransactionLayer;
  readonly ids: IdGenerator;
  private readonly transport: StackTransport;
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly dialogs = new Map<string, { dialog: Dialog; usage: DialogUsage }>();
  private readonly inviteServers = new Map<ServerTransaction, InviteServer>();
  /** Out-of-dialog REFERs we sent, until their subscription dialog exists (RFC 6665 §4.1.2.4). */
  private readonly pendingRefers = new Map<string, PendingRefer>();
  private readonly allow: string[];
  private readonly supported: string[];
  private readonly allowHeader: string;
  private readonly supportedHeader: string;
  private closed = false;
  private readonly digest = new DigestClient();
  readonly counters = { received: 0, sent: 0, parseErrors: 0, dropped: 0, internalErrors: 0 };

  constructor(private readonly opts: SipStackOptions) {
    this.timers = opts.timers;
    this.transport = opts.transport;
    this.t1 = opts.timerSettings?.t1 ?? 500;
    this.t2 = opts.timerSettings?.t2 ?? 4000;
    this.ids = new IdGenerator();
    this.allow = opts.allow ?? ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REFER', 'NOTIFY', 'INFO', 'UPDATE'];
    this.supported = opts.supported ?? ['norefersub'];
    // Joined once: every OPTIONS answer, 405 and INVITE carries them.
    this.allowHeader = this.allow.join(', ');
    this.supportedHeader = this.supported.join(', ');
    this.transactions = new TransactionLayer({
      wire: { send: (m, dest, cb) => this.wireSend(m, dest, cb), sendBytes: (data, dest, cb) => this.wireSendBytes(data, dest, cb) },
      timers: opts.timers,
      settings: opts.timerSettings,
      onAccepted2xx: (res, kept) => this.accepted2xx(res, kept),
      onEvent: (e: { type: string }) => {
        if (e.type === 'retransmission') this.emit({ type: 'retransmission', detail: e });
        else if (e.type === 'tu-error') this.reportError((e as { error?: unknown }).error, 'transaction-user');
      },
    });
  }

  // ── the API for the layers above ───────────────────────────────────────────────

  /** Registers the handler for new out-of-dialog requests of `method` ('*' for any). */
  onRequest(method: string, handler: RequestHandler): void {
    this.handlers.set(method.toUpperCase(), handler);
  }

  /** A new out-of-dialog request with fresh Call-ID, From tag and CSeq 1. */
  createRequest(method: string, uri: string, from: string, to: string, callId?: string): SipRequest {
    return new SipRequest(method, uri, [
      { name: 'Max-Forwards', key: 'max-forwards', value: '70' },
      { name: 'From', key: 'from', value: `${from};tag=${this.ids.tag()}` },
      { name: 'To', key: 'to', value: to },
      { name: 'Call-ID', key: 'call-id', value: callId ?? this.ids.callId() },
      { name: 'CSeq', key: 'cseq', value: `1 ${method}` },
    ]);
  }

  /** Sends an initial INVITE (§13.2); the handler hears progress, the answer or the failure. */
  invite(req: SipRequest, handler: InviteClientHandler): InviteClient {
    const contact = this.contactFor(req);
    req.set('Contact', contact);
    if (!req.has('allow')) req.add('Allow', this.allowHeader);
    if (!req.has('supported') && this.supported.length) req.add('Supported', this.supportedHeader);
    const client = new InviteClient(this, req, handler, contact);
    client.start();
    return client;
  }

  /** Wraps a new INVITE server transaction so that the application can ring, accept or reject it. */
  inviteServer(req: SipRequest, tx: ServerTransaction): InviteServer {
    const server = new InviteServer(this, req, tx, this.contactFor(req));
    // Held for CANCEL matching (§9.2) until the final response; the transaction may end first
    // (a transport error), hence both exits.
    this.inviteServers.set(tx, server);
    const prev = tx.user;
    tx.user = {
      ...prev,
      onTerminated: (t) => {
        this.inviteServers.delete(tx);
        prev?.onTerminated?.(t);
      },
    };
    server.onSettled = () => {
      this.inviteServers.delete(tx);
      tx.user = prev; // the wrapper (and this closure) are not held for the 64*T1 of Accepted
    };
    return server;
  }

  /**
   * An out-of-dialog REFER (RFC 3515, e.g. Cisco "OOD-R"): the 2xx creates the subscription
   * dialog; a NOTIFY that overtakes the 202 creates it too (RFC 6665 §4.1.2.4).
   */
  refer(req: SipRequest, referTo: string, options: ReferOptions, handler: ReferClientHandler): ReferClient {
    req.set('Contact', this.contactFor(req));
    const key = req.callId + '\u0000' + (req.from.tag ?? '');
    const client = new ReferClient(this, undefined, req, options, {
      onResponse: (res) => {
        if (res.status < 300 && res.to.tag && !this.dialogs.has(dialogKey(req.callId, req.from.tag ?? '', res.to.tag))) {
          const dialog = dialogFromResponse(req, res, this.contactFor(req));
          this.registerSubscriptionDialog(dialog, client);
        }
        handler.onResponse?.(res);
      },
      onProgress: (f, n) => handler.onProgress?.(f, n),
      onEnd: (end) => {
        this.pendingRefers.delete(key);
        for (const [k, entry] of this.dialogs) {
          if (entry.usage instanceof SubscriptionUsage && entry.usage.client === client) {
            entry.dialog.state = 'terminated';
            this.dialogs.delete(k);
          }
        }
        handler.onEnd(end);
      },
    }, () => {});
    this.pendingRefers.set(key, { client, request: req });
    client.send(referTo);
    return client;
  }

  /**
   * Accepts an out-of-dialog REFER we received: creates the UAS subscription dialog and the
   * notifier that reports progress in NOTIFYs. Call `accept()` or `reject()` on it.
   */
  referNotifier(req: SipRequest, tx: ServerTransaction): ReferNotifier {
    const dialog = dialogFromRequest(req, this.newTag(), this.contactFor(req), 'confirmed');
    const notifier = new ReferNotifier(this, dialog, req, tx, req.referSub !== false, () => {
      this.unregisterDialog(dialog);
    });
    this.registerDialog(dialog, {
      handleRequest: (r, t) => {
        // The referrer may end the subscription early or poke it; answer politely.
        this.respond(t, createResponse(r, r.method === 'SUBSCRIBE' || r.method === 'OPTIONS' ? 200 : 481));
      },
    });
    return notifier;
  }

  /** Any other request out of dialog (OPTIONS, MESSAGE …). `onFinal` gets a status and the response. */
  request(req: SipRequest, onFinal: (status: number, res?: SipResponse) => void): void {
    this.sendRequest(req, {
      onResponse: (res) => {
        if (res.status >= 200) onFinal(res.status, res);
      },
      onTimeout: () => onFinal(408),
      onTransportError: () => onFinal(503),
    });
  }

  /** Live objects, so tests can assert that a finished call leaves nothing behind. */
  counts(): { transactions: number; dialogs: number; inviteServers: number; pendingRefers: number } {
    return {
      transactions: this.transactions.size,
      dialogs: this.dialogs.size,
      inviteServers: this.inviteServers.size,
      pendingRefers: this.pendingRefers.size,
    };
  }

  /** Requests we sent still waiting for their final response (a stopping server waits for them). */
  awaitingAnswers(): number {
    return this.transactions.awaitingAnswers;
  }

  close(): void {
    this.closed = true;
    this.transactions.close();
    this.dialogs.clear();
    this.inviteServers.clear();
    this.pendingRefers.clear();
  }

  // ── inbound ─────────────────────────────────────────────────────────────────

  /** Feed every message the transport delivers here. Never throws. */
  receive(inbound: InboundBytes): void {
    try {
      this.counters.received++;
      let msg: SipMessage;
      try {
        msg = parseMessage(inbound.data, { maxHeaders: this.opts.maxHeaders, stream: inbound.transport !== 'udp' });
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
        this.opts.observer?.('in', inbound.data, inbound.transport, inbound.remote);
        this.badMessage(err, inbound);
        return;
      }
      this.opts.observer?.('in', inbound.data, inbound.transport, inbound.remote, msg);
      msg.source = {
        transport: inbound.transport,
        address: inbound.remote.address,
        port: inbound.remote.port,
        localAddress: inbound.local.address,
        localPort: inbound.local.port,
        connectionId: inbound.connectionId,
      };
      if (msg instanceof SipRequest) this.receiveRequest(msg);
      else this.receiveResponse(msg as SipResponse);
    } catch (err) {
      if (err instanceof SipParseError) {
        this.counters.dropped++;
        this.emit({ type: 'parse-error', reason: err.reason, answered: false, remote: inbound.remote.address });
        return;
      }
      this.reportError(err, 'receive');
    }
  }

  private badMessage(err: SipParseError, inbound: InboundBytes): void {
    this.counters.parseErrors++;
    const msg = err.partial;
    let answered = false;
    if (err.answerable && msg instanceof SipRequest && msg.method !== 'ACK') {
      // §8.2 / §21.4.1: answer what can be answered, with a reason phrase naming the defect.
      const res = createResponse(msg, err.status, sanitizeReason(err.reason));
      msg.source = {
        transport: inbound.transport, address: inbound.remote.address, port: inbound.remote.port,
        localAddress: inbound.local.address, localPort: inbound.local.port, connectionId: inbound.connectionId,
      };
      try {
        stampTopVia(msg, msg.source);
        this.wireSend(res, responseDestination(msg, msg.source));
        answered = true;
      } catch {
        answered = false;
      }
    }
    if (!answered) this.counters.dropped++;
    this.emit({ type: 'parse-error', reason: err.reason, answered, remote: inbound.remote.address });
  }

  private receiveRequest(req: SipRequest): void {
    stampTopVia(req, req.source!);
    const dest = responseDestination(req, req.source!);
    const r = this.transactions.receiveRequest(req, dest);
    switch (r.kind) {
      case 'retransmission':
      case 'ack-absorbed':
        return;
      case 'ack': {
        const entry = this.findDialog(req);
        entry?.usage.handleAck?.(req);
        return;
      }
      case 'new':
        try {
          this.dispatch(req, r.tx);
        } catch (err) {
          // A header read lazily on the way (To, Require, Max-Forwards …) was malformed, or a
          // handler failed: the transaction exists, so it gets an answer rather than hanging.
          if (r.tx.lastStatus < 200) {
            const bad = err instanceof SipParseError;
            if (!bad) this.reportError(err, `dispatch ${req.method}`);
            if (req.method !== 'ACK') this.respond(r.tx, createResponse(req, bad ? 400 : 500, bad ? sanitizeReason(err.reason) : undefined));
          }
        }
        return;
      default:
        // Via/CSeq/From/To unreadable at the transaction layer: the parser lets few through.
        this.counters.dropped++;
    }
  }

  private dispatch(req: SipRequest, tx: ServerTransaction): void {
    if (this.closed) {
      this.respond(tx, createResponse(req, 503));
      return;
    }
    const method = req.method;
    // §8.2.1 … §8.2.2: scheme, extensions; Max-Forwards 0 at a UAS → 483 except OPTIONS (§11).
    const scheme = req.uri.slice(0, req.uri.indexOf(':')).toLowerCase();
    if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
      this.respond(tx, createResponse(req, 416));
      return;
    }
    const unsupported = method === 'CANCEL' ? [] : req.require.filter((t) => !this.supported.includes(t));
    if (unsupported.length > 0) {
      const res = createResponse(req, 420);
      res.set('Unsupported', unsupported.join(', '));
      this.respond(tx, res);
      return;
    }
    if (method === 'CANCEL') {
      const invite = this.transactions.findInviteServerTransaction(req);
      if (!invite) {
        this.respond(tx, createResponse(req, 481));
        return;
      }
      this.respond(tx, createResponse(req, 200));
      const server = this.inviteServers.get(invite);
      if (server) server.cancelled();
      else if (invite.lastStatus < 200) invite.respond(createResponse(invite.request, 487, undefined, this.newTag()));
      return;
    }
    const toTag = req.to.tag;
    if (toTag !== undefined) {
      const entry = this.findDialog(req);
      if (entry) {
        entry.usage.handleRequest(req, tx);
        return;
      }
      // RFC 6665 §4.1.2.4: a NOTIFY may overtake the 2xx to our out-of-dialog REFER.
      if (method === 'NOTIFY') {
        const pending = this.pendingRefers.get(req.callId + '\u0000' + toTag);
        if (pending) {
          const dialog = new Dialog({
            callId: req.callId, localTag: toTag, remoteTag: req.from.tag ?? '',
            localUri: stripTag(pending.request.get('from') ?? ''), remoteUri: stripTag(req.get('from') ?? ''),
            localSeq: pending.request.cseq.seq, remoteSeq: undefined,
            remoteTarget: req.contact?.uri ?? pending.request.uri, routeSet: req.getAll('record-route'),
            secure: false, localContact: this.contactFor(req), state: 'confirmed', isUac: true,
          });
          const usage = this.registerSubscriptionDialog(dialog, pending.client);
          usage.handleRequest(req, tx);
          return;
        }
      }
      this.respond(tx, createResponse(req, 481));
      return;
    }
    if (req.maxForwards === 0 && method !== 'OPTIONS') {
      this.respond(tx, createResponse(req, 483));
      return;
    }
    const handler = this.handlers.get(method) ?? this.handlers.get('*');
    if (handler) {
      try {
        handler(req, tx);
      } catch (err) {
        this.reportError(err, `handler ${method}`);
        if (tx.lastStatus < 200) this.respond(tx, createResponse(req, 500));
      }
      return;
    }
    if (method === 'OPTIONS') {
      this.respond(tx, this.optionsResponse(req));
      return;
    }
    // §8.2.1: a method we know but do not serve → 405; one we do not know → 501 (§21.5.2).
    const res = createResponse(req, KNOWN_METHOD_SET.has(method) ? 405 : 501, undefined, this.newTag());
    res.set('Allow', this.allowHeader);
    this.respond(tx, res);
  }

  /** §11.2: 200 with what we support. */
  optionsResponse(req: SipRequest): SipResponse {
    const res = createResponse(req, 200, undefined, this.newTag());
    res.set('Allow', this.allowHeader);
    res.set('Accept', 'application/sdp, message/sipfrag');
    res.set('Accept-Encoding', 'identity');
    res.set('Accept-Language', 'en');
    if (this.supported.length) res.set('Supported', this.supportedHeader);
    return res;
  }

  private receiveResponse(res: SipResponse): void {
    // Parse CSeq/To up front: a response we cannot read is dropped here, not in a usage.
    const tx = this.transactions.receiveResponse(res);
    if (tx) return;
    if (res.cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) {
      // A 2xx after the INVITE transaction ended (§13.2.2.4): its dialog re-sends the ACK.
      const key = dialogKey(res.callId, res.from.tag ?? '', res.to.tag ?? '');
      const entry = this.dialogs.get(key);
      if (entry?.usage.handleStray2xx) {
        entry.usage.handleStray2xx(res);
        return;
      }
    }
    this.counters.dropped++;
    this.emit({ type: 'unmatched-response', status: res.status, method: res.cseq.method });
  }

  /**
   * A 2xx for an INVITE client transaction that waits out Timer M as a record (RFC 6026 §7.2):
   * a dialog still alive for it ACKs it again; else answerLate2xx, from the ACK's bytes.
   */
  private accepted2xx(res: SipResponse, kept: Buffer): void {
    const entry = this.dialogs.get(dialogKey(res.callId, res.from.tag ?? '', res.to.tag ?? ''));
    if (entry?.usage.handleStray2xx) {
      entry.usage.handleStray2xx(res);
      return;
    }
    answerLate2xx(this, res, kept, (ack) => this.contactFor(ack));
  }

  private findDialog(req: SipRequest): { dialog: Dialog; usage: DialogUsage } | undefined {
    return this.dialogs.get(dialogKey(req.callId, req.to.tag ?? '', req.from.tag ?? ''));
  }

  private registerSubscriptionDialog(dialog: Dialog, client: ReferClient): SubscriptionUsage {
    const usage = new SubscriptionUsage(this, client);
    this.registerDialog(dialog, usage);
    this.pendingRefers.delete(dialog.callId + '\u0000' + dialog.localTag);
    return usage;
  }

  // ── DialogHost ───────────────────────────────────────────────────────────────

  newTag(): string {
    return this.ids.tag();
  }

  registerDialog(dialog: Dialog, usage: DialogUsage): void {
    this.dialogs.set(dialog.key, { dialog, usage });
  }

  unregisterDialog(dialog: Dialog): void {
    const entry = this.dialogs.get(dialog.key);
    if (entry && entry.dialog === dialog) this.dialogs.delete(dialog.key);
  }

  localContact(transport: string, family: 4 | 6): string {
    const t = transport as TransportName;
    const local = this.transport.local(t, family) ?? this.transport.local(t, family === 4 ? 6 : 4);
    const host = this.hostFor(local?.address ?? '127.0.0.1');
    const user = this.opts.contactUser ? `${this.opts.contactUser}@` : '';
    const scheme = t === 'tls' ? 'sips' : 'sip';
    const param = t === 'udp' || t === 'tls' ? '' : `;transport=${t}`;
    // One shared string per distinct Contact: every dialog and INVITE client keeps it.
    return detachRepeated(`<${scheme}:${user}${host}:${local?.port ?? 5060}${param}>`);
  }

  respond(tx: ServerTransaction, res: SipResponse): void {
    if (this.opts.userAgent && !res.has('server')) res.set('Server', this.opts.userAgent);
    tx.respond(res);
  }

  sendCancel(cancel: SipRequest, invite: ClientTransaction): void {
    const ignore = () => {};
    this.transactions.sendRequest(cancel, invite.dest, { onResponse: ignore, onTimeout: ignore, onTransportError: ignore });
  }

  sendAck(ack: SipRequest): void {
    this.resolveAndSend(ack, (dest) => {
      this.addVia(ack, dest);
      this.wireSend(ack, dest);
    }, () => {});
  }

  sendRequest(req: SipRequest, user: ClientTransactionUser): void {
    const origin = user;
    if (this.closed) {
      user.onTransportError(new Error('stack closed'), undefined as unknown as ClientTransaction);
      return;
    }
    // add(), not set(): the header is known to be absent, so no copy of the header list.
    if (!req.has('max-forwards')) req.add('Max-Forwards', '70');
    if (this.opts.userAgent && !req.has('user-agent')) req.add('User-Agent', this.opts.userAgent);
    const isInDialog = req.to.tag !== undefined;
    if (!isInDialog && this.opts.outboundProxy && !req.has('route')) {
      const proxy = this.opts.outboundProxy;
      req.set('Route', proxy.includes(';lr') ? `<${proxy}>` : `<${proxy};lr>`);
    }
    this.resolveAndSend(req, (target, more) => {
      this.addVia(req, target);
      const dest = this.sizedDestination(target, req);
      user = this.withAuthentication(req, dest, user);
      const failover: ClientTransactionUser = more.length === 0 ? user : {
        // RFC 3263 §4.3: on timeout, transport error or 503, try the next target with a new branch.
        onResponse: (res, tx) => {
          if (res.status === 503 && more.length > 0) {
            this.retry(req, more, user);
            return;
          }
          user.onResponse(res, tx);
        },
        onTimeout: () => this.retry(req, more, user),
        onTransportError: () => this.retry(req, more, user),
        onTerminated: forwardTerminated(user),
      };
      this.transactions.sendRequest(req, dest, failover);
      origin.onSent?.();
    }, (err) => user.onTransportError(err, undefined as unknown as ClientTransaction));
  }

  /**
   * RFC 3261 §22.2/§22.3: a 401/407 is answered by sending the request again with credentials —
   * same Call-ID, CSeq + 1, a new branch — once per realm, again only when the server says the
   * nonce was stale.
   */
  private withAuthentication(req: SipRequest, dest: Destination, user: ClientTransactionUser): ClientTransactionUser {
    const lookup = this.opts.credentialFor;
    if (!lookup || req.method === 'CANCEL' || req.method === 'ACK') return user;
    return new AuthenticatingUser(this.challenges, req, dest, user);
  }

  /** What every AuthenticatingUser of this stack calls back (one object per stack, not per request). */
  private readonly challenges: ChallengeHost = {
    answer: (req, res, dest, tried) => this.answerChallenge(req, res, dest, tried, this.opts.credentialFor!),
    resend: (req, dest, user) => {
      this.transactions.sendRequest(req, dest, user);
    },
  };

  private answerChallenge(
    req: SipRequest, res: SipResponse, dest: Destination, tried: Set<string>,
    lookup: NonNullable<SipStackOptions['credentialFor']>,
  ): boolean {
    const proxy = res.status === 407;
    const parsed = parseChallenges(res.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate'));
    if (!parsed.ok) return false;
    for (const challenge of parsed.value) {
      if (challenge.scheme.toLowerCase() !== 'digest') continue;
      const realm = challenge.params.realm;
      if (realm === undefined) continue;
      const stale = (challenge.params.stale ?? '').toLowerCase() === 'true';
      if (tried.has(realm) && !stale) continue;
      const cred = lookup(realm, dest, req);
      if (!cred) continue;
      const auth = this.digest.authorize(challenge, cred, { method: req.method, uri: req.uri, body: req.body }, { realm });
      if (!auth.ok) continue;
      tried.add(realm);
      req.set(proxy ? 'Proxy-Authorization' : 'Authorization', auth.value.header);
      // Same Call-ID, next CSeq (§22.2), new branch; keep an in-dialog sequence in step.
      const seq = req.cseq.seq + 1;
      req.set('CSeq', `${seq} ${req.method}`);
      if (req.to.tag !== undefined) {
        const entry = this.dialogs.get(dialogKey(req.callId, req.from.tag ?? '', req.to.tag));
        if (entry && entry.dialog.localSeq < seq) entry.dialog.localSeq = seq;
      }
      req.removeFirst('via');
      this.addVia(req, dest);
      return true;
    }
    return false;
  }

  private retry(req: SipRequest, targets: Destination[], user: ClientTransactionUser): void {
    const [next, ...rest] = targets;
    if (!next) return;
    req.removeFirst('via');
    this.addVia(req, next);
    const u: ClientTransactionUser = rest.length === 0 ? user : {
      onResponse: (res, tx) => (res.status === 503 ? this.retry(req, rest, user) : user.onResponse(res, tx)),
      onTimeout: () => this.retry(req, rest, user),
      onTransportError: () => this.retry(req, rest, user),
      onTerminated: forwardTerminated(user),
    };
    this.transactions.sendRequest(req, next, u);
  }

  reportError(err: unknown, where: string): void {
    this.counters.internalErrors++;
    this.emit({ type: 'internal-error', where, error: err });
  }

  // ── outbound plumbing ─────────────────────────────────────────────────────────

  /** Chooses the destination(s) for a request: first Route (loose routing) or the Request-URI. */
  private resolveAndSend(
    req: SipRequest,
    send: (dest: Destination, more: Destination[]) => void,
    fail: (err: Error) => void,
  ): void {
    let uri: SipUri;
    try {
      const route = req.get('route');
      uri = route !== undefined ? parseNameAddr(route).parsedUri : req.requestUri;
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const direct = this.numericDestination(uri, req);
    if (direct) {
      send(direct, []);
      return;
    }
    if (!this.opts.locate || !uri.isSip) {
      fail(new Error(`cannot resolve ${uri.host || uri.toString()}`));
      return;
    }
    this.opts.locate(uri).then(
      (targets) => {
        const [first, ...rest] = targets;
        if (!first) fail(new Error(`no target for ${uri.host}`));
        else send(first, rest);
      },
      (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
    ).catch((err: unknown) => this.reportError(err, 'resolve'));
  }

  private numericDestination(uri: SipUri, req: SipRequest): Destination | undefined {
    const host = uri.params.get('maddr') ?? uri.host;
    if (!host || isIP(host) === 0) return undefined;
    let transport: TransportName = uri.secure ? 'tls' : ((uri.transport as TransportName | undefined) ?? 'udp');
    if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') transport = 'udp';
    const port = uri.port ?? (transport === 'tls' ? 5061 : 5060);
    return transport === 'udp' ? udpDestination(host, port) : { transport, address: host, port };
  }

  /**
   * §18.1.1: a request within 200 bytes of the path MTU goes over a congestion-controlled
   * transport. Measured with its Via in place: the bytes serialize() builds here are the ones
   * sent, unless the request moves to TCP and gets a TCP Via instead.
   */
  private sizedDestination(dest: Destination, req: SipRequest): Destination {
    if (dest.transport !== 'udp') return dest;
    if (req.method === 'ACK' || req.method === 'CANCEL') return dest;
    const limit = this.opts.udpMaxRequestSize ?? 1300;
    if (req.byteLength() > limit && this.transport.local('tcp', isIP(dest.address) === 6 ? 6 : 4)) {
      const tcp: Destination = { ...dest, transport: 'tcp' };
      req.removeFirst('via');
      this.addVia(req, tcp);
      return tcp;
    }
    return dest;
  }

  private addVia(req: SipRequest, dest: Destination): void {
    const family = isIP(dest.address) === 6 ? 6 : 4;
    const local = this.transport.local(dest.transport, family) ?? { address: '127.0.0.1', port: 5060 };
    // §8.1.1.7: a fresh branch with the magic cookie; RFC 3581: ask for rport.
    const { via, text } = ownVia(dest.transport.toUpperCase(), this.advertisedFor(local.address), local.port, this.ids.branch());
    req.prependTopVia(via, text);
  }

  /** The address we put in Contact and Via for a socket bound to `address` (brackets: hostFor). */
  private advertisedFor(address: string): string {
    if (address === '0.0.0.0' || address === '::') return this.opts.advertisedAddress ?? (address === '::' ? '::1' : '127.0.0.1');
    return address;
  }

  private hostFor(address: string): string {
    const a = this.advertisedFor(address);
    return a.includes(':') ? `[${a}]` : a;
  }

  private contactFor(msg: SipRequest): string {
    let transport: TransportName = 'udp';
    let family: 4 | 6 = 4;
    if (msg.source) {
      transport = msg.source.transport as TransportName;
      family = isIP(msg.source.address) === 6 ? 6 : 4;
    } else {
      try {
        const uri = msg.requestUri;
        transport = uri.secure ? 'tls' : ((uri.transport as TransportName | undefined) ?? 'udp');
        if (isIP(uri.host) === 6) family = 6;
      } catch {
        /* keep defaults */
      }
    }
    return this.localContact(transport, family);
  }

  private wireSend(m: SipMessage, dest: Destination, cb?: (err?: Error) => void): void {
    const data = m.serialize();
    this.counters.sent++;
    this.opts.observer?.('out', data, dest.transport, dest, m);
    this.transport.send(data, dest, cb);
  }

  /** A message kept as bytes only (a waiting transaction's last response): no parsed form to show. */
  private wireSendBytes(data: Buffer, dest: Destination, cb?: (err?: Error) => void): void {
    this.counters.sent++;
    this.opts.observer?.('out', data, dest.transport, dest);
    this.transport.send(data, dest, cb);
  }

  private emit(e: StackEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      /* an observer must not break the stack */
    }
  }
}

/** The dialog usage of an out-of-dialog REFER we sent: routes its NOTIFYs to the client. */
class SubscriptionUsage implements DialogUsage {
  constructor(
    private readonly host: SipStack,
    readonly client: ReferClient,
  ) {}

  handleRequest(req: SipRequest, tx: ServerTransaction): void {
    if (req.method === 'NOTIFY') this.client.handleNotify(req, tx);
    else this.host.respond(tx, createResponse(req, req.method === 'BYE' ? 481 : 405));
  }
}

function stripTag(value: string): string {
  try {
    const a = parseNameAddr(value);
    a.params.delete('tag');
    return a.toString();
  } catch {
    return value;
  }
}

/** A reason phrase may not hold CR/LF (§25.1 Reason-Phrase); keep it short. */
function sanitizeReason(reason: string): string {
  return reason.replace(/[\r\n\u0000-\u001f]/g, ' ').slice(0, 120);
}

export { BRANCH_COOKIE, parseUri };

interface ChallengeHost {
  /** Adds credentials for the challenge in `res` (a realm once, again when stale); false: none. */
  answer(req: SipRequest, res: SipResponse, dest: Destination, tried: Set<string>): boolean;
  /** Sends the request again, in a new client transaction with this user. */
  resend(req: SipRequest, dest: Destination, user: ClientTransactionUser): void;
}

/**
 * A client transaction's user that answers 401/407 (RFC 3261 §22.2, §22.3) by sending the
 * request again with credentials, and passes everything else on. An object, not closures over
 * the request: an INVITE transaction keeps its user through Accepted (Timer M, 64*T1), and the
 * closures kept the whole request for it. The request is let go at the first final response
 * that is not answered with credentials.
 */
class AuthenticatingUser implements ClientTransactionUser {
  private req: SipRequest | undefined;
  /** Realms already answered (made on the first challenge). */
  private tried: Set<string> | undefined = undefined;
  readonly onTerminated: ClientTransactionUser['onTerminated'];

  constructor(
    private readonly host: ChallengeHost,
    req: SipRequest,
    private readonly dest: Destination,
    readonly user: ClientTransactionUser,
  ) {
    this.req = req;
    // A shared function, not a closure per request (forwardTerminated's): this one is kept as
    // long as the transaction waits.
    this.onTerminated = user.onTerminated === undefined ? undefined : forwardTerminatedToUser;
  }

  onResponse(res: SipResponse, tx: ClientTransaction): void {
    const req = this.req;
    if (req !== undefined && (res.status === 401 || res.status === 407) && this.host.answer(req, res, this.dest, (this.tried ??= new Set()))) {
      this.host.resend(req, this.dest, this);
      return;
    }
    if (res.status >= 200) {
      this.req = undefined;
      this.tried = undefined;
    }
    this.user.onResponse(res, tx);
  }

  onTimeout(tx: ClientTransaction): void {
    this.user.onTimeout(tx);
  }

  onTransportError(err: Error, tx: ClientTransaction): void {
    this.user.onTransportError(err, tx);
  }
}

/** AuthenticatingUser's onTerminated, when its user has one: called with the wrapper as `this`. */
function forwardTerminatedToUser(this: AuthenticatingUser, tx: ClientTransaction): void {
  this.user.onTerminated?.(tx);
}

/**
 * A wrapper's onTerminated: present only when the wrapped user has one. A client transaction
 * lets go of a user without onTerminated when it completes (Timer K): a wrapper that always
 * had one kept the application's objects for the rest of the wait.
 */
function forwardTerminated(user: ClientTransactionUser): ClientTransactionUser['onTerminated'] {
  const done = user.onTerminated;
  return done === undefined ? undefined : (tx) => done.call(user, tx);
}
