// A DialogHost for unit tests of the dialog usages: it records every request, ACK, CANCEL and
// response the usages hand it, lets the test play the peer (feed responses to the transaction user
// a request was sent with, deliver in-dialog requests and ACKs to the registered usage), and runs
// all timers on a FakeClock. Like the real stack it stamps a fresh top Via on every request it
// sends (§8.1.1.7) and stores the response on the server transaction (lastResponse).
import {
  createResponse, parseMessage, SipRequest, type SipResponse,
} from '../../src/sip/message/index.js';
import { dialogKey, type Dialog } from '../../src/sip/dialog/dialog.js';
import type { DialogHost, DialogUsage } from '../../src/sip/dialog/host.js';
import type {
  ClientTransaction, ClientTransactionUser, Destination, ServerTransaction, TransportName,
} from '../../src/sip/transaction/index.js';
import { FakeClock } from './fake-clock.js';

export const OUR_CONTACT = '<sip:us@192.0.2.1:5060>';

/** The parts of a client transaction the usages touch. */
export interface FakeClientTx {
  readonly request: SipRequest;
  readonly dest: Destination;
  terminated: boolean;
  terminate(): void;
}

/** The parts of a server transaction the usages touch, plus what was answered on it. */
export interface FakeServerTx {
  readonly request: SipRequest;
  readonly responseDest: Destination;
  lastResponse: SipResponse | undefined;
  lastStatus: number;
  readonly responses: SipResponse[];
}

export interface SentRequest {
  request: SipRequest;
  user: ClientTransactionUser;
  tx: FakeClientTx;
  at: number;
}

export interface ReplyOptions {
  /** To tag for a response to a request without one; default `peer-tag`. */
  toTag?: string;
  reason?: string;
  headers?: [string, string][];
  body?: string;
  contentType?: string;
}

export class FakeDialogHost implements DialogHost {
  readonly clock: FakeClock;
  readonly timers: FakeClock;
  readonly t1: number;
  readonly t2: number;
  readonly requests: SentRequest[] = [];
  readonly acks: { ack: SipRequest; at: number }[] = [];
  readonly cancels: { cancel: SipRequest; invite: FakeClientTx }[] = [];
  /** Every response the usages sent, in order, with its transaction. */
  readonly responses: { tx: FakeServerTx; res: SipResponse; at: number }[] = [];
  readonly dialogs = new Map<string, { dialog: Dialog; usage: DialogUsage }>();
  readonly errors: { err: unknown; where: string }[] = [];
  private tags = 0;
  private branches = 0;

  constructor(opts: { t1?: number; t2?: number; clock?: FakeClock } = {}) {
    this.clock = opts.clock ?? new FakeClock();
    this.timers = this.clock;
    this.t1 = opts.t1 ?? 500;
    this.t2 = opts.t2 ?? 4000;
  }

  // ── DialogHost ─────────────────────────────────────────────────────────────────

  newTag(): string {
    return `our-tag-${++this.tags}`;
  }

  localContact(_transport: string, _family: 4 | 6): string {
    return OUR_CONTACT;
  }

  sendRequest(req: SipRequest, user: ClientTransactionUser): void {
    this.stampVia(req);
    const tx: FakeClientTx = {
      request: req,
      dest: { transport: 'udp', address: '192.0.2.2', port: 5060 },
      terminated: false,
      terminate() {
        this.terminated = true;
      },
    };
    this.requests.push({ request: req, user, tx, at: this.clock.now() });
  }

  sendCancel(cancel: SipRequest, invite: ClientTransaction): void {
    this.cancels.push({ cancel, invite: invite as unknown as FakeClientTx });
  }

  sendAck(ack: SipRequest): void {
    // The real stack prepends a Via with a new branch on every call (stack.ts sendAck).
    this.stampVia(ack);
    this.acks.push({ ack, at: this.clock.now() });
  }

  respond(tx: ServerTransaction, res: SipResponse): void {
    const fake = tx as unknown as FakeServerTx;
    fake.lastResponse = res;
    fake.lastStatus = res.status;
    fake.responses.push(res);
    this.responses.push({ tx: fake, res, at: this.clock.now() });
  }

  registerDialog(dialog: Dialog, usage: DialogUsage): void {
    this.dialogs.set(dialog.key, { dialog, usage });
  }

  unregisterDialog(dialog: Dialog): void {
    const entry = this.dialogs.get(dialog.key);
    if (entry && entry.dialog === dialog) this.dialogs.delete(dialog.key);
  }

  reportError(err: unknown, where: string): void {
    this.errors.push({ err, where });
  }

  // ── playing the peer ───────────────────────────────────────────────────────────

  /** Requests sent with `method` (all when omitted), oldest first. */
  sent(method?: string): SentRequest[] {
    return this.requests.filter((s) => method === undefined || s.request.method === method);
  }

  /** The one most recent request of `method`; fails the test when there is none. */
  last(method: string): SentRequest {
    const all = this.sent(method);
    const s = all[all.length - 1];
    if (!s) throw new Error(`no ${method} was sent`);
    return s;
  }

  /** Builds the peer's response to a request we sent and hands it to that request's transaction user. */
  reply(sent: SentRequest, status: number, opts: ReplyOptions = {}): SipResponse {
    const res = createResponse(sent.request, status, opts.reason, opts.toTag ?? 'peer-tag');
    for (const [k, v] of opts.headers ?? []) res.add(k, v);
    if (opts.body !== undefined) res.setBody(opts.body, opts.contentType ?? 'application/sdp');
    sent.user.onResponse(res, sent.tx as unknown as ClientTransaction);
    return res;
  }

  /** Hands an already built response (e.g. a retransmission) to the transaction user. */
  feed(sent: SentRequest, res: SipResponse): void {
    sent.user.onResponse(res, sent.tx as unknown as ClientTransaction);
  }

  timeout(sent: SentRequest): void {
    sent.user.onTimeout(sent.tx as unknown as ClientTransaction);
  }

  transportError(sent: SentRequest): void {
    sent.user.onTransportError(new Error('fake transport error'), sent.tx as unknown as ClientTransaction);
  }

  /** A server transaction for a request the peer sent. */
  serverTx(req: SipRequest, transport: TransportName = 'udp'): FakeServerTx & ServerTransaction {
    const tx: FakeServerTx = {
      request: req,
      responseDest: { transport, address: '192.0.2.2', port: 5060 },
      lastResponse: undefined,
      lastStatus: 0,
      responses: [],
    };
    return tx as FakeServerTx & ServerTransaction;
  }

  /**
   * Delivers an in-dialog request to the usage registered for its dialog, as the stack does
   * (§12.2.2: dialog found by Call-ID, To tag = our tag, From tag = theirs). Returns the server
   * transaction, or undefined when no dialog matched (the stack would answer 481).
   */
  deliver(req: SipRequest, transport: TransportName = 'udp'): FakeServerTx | undefined {
    const entry = this.dialogs.get(dialogKey(req.callId, req.to.tag ?? '', req.from.tag ?? ''));
    if (!entry) return undefined;
    const tx = this.serverTx(req, transport);
    entry.usage.handleRequest(req, tx);
    return tx;
  }

  /** Delivers an ACK for a 2xx to its dialog's usage. False when no dialog matched. */
  deliverAck(ack: SipRequest): boolean {
    const entry = this.dialogs.get(dialogKey(ack.callId, ack.to.tag ?? '', ack.from.tag ?? ''));
    if (!entry) return false;
    entry.usage.handleAck?.(ack);
    return true;
  }

  private stampVia(req: SipRequest): void {
    req.prepend('Via', `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-fake-${++this.branches};rport`);
  }
}

/** A message as it would arrive from the wire: serialized, then parsed again. */
export function wire<T extends SipRequest | SipResponse>(msg: T): T {
  return parseMessage(msg.serialize()) as T;
}

/** Parses a request written as lines (CRLF added, Content-Length computed from the body). */
export function parseRequest(lines: string[], body = ''): SipRequest {
  const text = lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body;
  const msg = parseMessage(Buffer.from(text));
  if (!(msg instanceof SipRequest)) throw new Error('fixture: not a request');
  return msg;
}

// ── ready-made calls: one side is us (the usages under test), the other a Dialog that plays the peer ──

export const PEER_CONTACT = '<sip:peer@192.0.2.2:5070>';
export const SDP_OFFER = 'v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
export const SDP_ANSWER = SDP_OFFER.replace('40000', '40002');

/** An INVITE as we would build it before the stack adds the Via (the host stamps one). */
export function outgoingInvite(cseq = 1): SipRequest {
  const req = parseRequest([
    'INVITE sip:peer@example.com SIP/2.0',
    'Via: SIP/2.0/UDP placeholder.invalid;branch=z9hG4bK-placeholder',
    'Max-Forwards: 70',
    'From: <sip:us@example.com>;tag=our-from-tag',
    'To: <sip:peer@example.com>',
    'Call-ID: uac-call@example.com',
    `CSeq: ${cseq} INVITE`,
    `Contact: ${OUR_CONTACT}`,
  ]);
  return req.remove('via');
}

/** An INVITE from the peer, as the stack hands it to us. */
export function incomingInvite(opts: { body?: string; recordRoute?: string[]; cseq?: number } = {}): SipRequest {
  return parseRequest([
    'INVITE sip:us@192.0.2.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bK-peer-invite',
    'Max-Forwards: 70',
    ...(opts.recordRoute ?? []).map((r) => `Record-Route: ${r}`),
    'From: <sip:peer@example.com>;tag=peer-from-tag',
    'To: <sip:us@example.com>',
    'Call-ID: uas-call@example.com',
    `CSeq: ${opts.cseq ?? 10} INVITE`,
    `Contact: ${PEER_CONTACT}`,
    ...(opts.body ? ['Content-Type: application/sdp'] : []),
  ], opts.body ?? '');
}

/**
 * Stamps a Via on a request the peer builds (as its stack would) so that responses to it copy one.
 * Returns the request for chaining.
 */
export function fromPeer(req: SipRequest): SipRequest {
  return req.prepend('Via', 'SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bK-peer-' + req.method + '-' + req.cseq.seq);
}
