/**
 * A scriptable SIP phone built on our own stack, for the behaviours a real phone (baresip) cannot
 * be made to show on demand: busy, no answer, REFER refused, accepted without NOTIFY, RFC 4488
 * `Refer-Sub: false`, an `Allow` without REFER, late offer… It listens on 127.0.0.1 (UDP and TCP,
 * ports chosen by the OS), records every message it receives and sends, answers each incoming
 * INVITE as its `behaviour` says, answers re-INVITEs with its own SDP (one media port per phone,
 * so a test can tell whose address a phone holds), and records the SDP of every offer/answer.
 *
 * The bottom of the file holds the scenario harness of the click-to-call end-to-end tests: the
 * server started through its CLI, an XML client, and the health checks run after each scenario.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { startSipEndpoint, type SipEndpoint } from '../../src/sip/stack/index.js';
import { realTimers } from '../../src/sip/timer.js';
import {
  createResponse, parseMessage, SipRequest, SipResponse, type SipMessage,
} from '../../src/sip/message/index.js';
import { InviteSession, type IncomingReinvite } from '../../src/sip/dialog/invite-session.js';
import { dialogFromRequest } from '../../src/sip/dialog/dialog.js';
import type { InviteClient } from '../../src/sip/dialog/invite-client.js';
import type { InviteServer } from '../../src/sip/dialog/invite-server.js';
import type { ReferNotifier } from '../../src/sip/dialog/refer-notifier.js';
import type { ServerTransaction } from '../../src/sip/transaction/index.js';
import { audioTarget } from '../../src/sdp/hold.js';
import { startServerProcess, XmlClient, type ServerProcess } from './server-process.js';

/** What the phone does with a REFER received inside a call. */
export type ReferBehaviour =
  /** 202, NOTIFY 100, INVITE the Refer-To target, NOTIFY 18x when it rings, NOTIFY 200 / ≥ 300 at the end. */
  | 'execute'
  /** Refuse the REFER with that status (no subscription). */
  | `reject:${number}`
  /** 202 and then silence: no NOTIFY ever. */
  | 'accept-no-notify'
  /** RFC 4488: 202 with `Refer-Sub: false`, call the target, and on success BYE the referrer's call. */
  | 'accept-refer-sub-false'
  /** 202, NOTIFY 100, then NOTIFY with that final status without calling anyone. */
  | `accept-then-fail:${number}`
  /** 202, then one NOTIFY `SIP/2.0 100 Trying` with `Subscription-State: terminated;reason=timeout`. */
  | 'accept-terminate-no-final';

export interface PhoneBehaviour {
  /** ms after the INVITE before 180 Ringing (undefined: no 180). */
  ring?: number;
  /** ms after the INVITE before the 2xx (undefined: never answers). */
  answer?: number;
  /** Final status instead of the 2xx (486, 603…), sent at `answer` ms, else right after the 180, else at once. */
  reject?: number;
  /** 'offer' (default): the 2xx carries SDP (an answer, or an offer when the INVITE had none); 'none': no SDP at all. */
  sdp?: 'offer' | 'none';
  /** The Allow header of the 2xx ('' = no Allow at all). Default: with REFER. */
  allow?: string;
  onRefer?: ReferBehaviour;
  /** Calls this phone places itself (executing a REFER, `call()`) go without SDP; the answer goes in the ACK. */
  lateOffer?: boolean;
  /** Answer twice: a second 2xx with another To tag right after the first, as a forking proxy relays two phones' answers. */
  fork?: boolean;
  /**
   * Ask for credentials first, as a PBX does (RFC 3261 §22.3): an INVITE without a
   * Proxy-Authorization (407) or Authorization (401) header is refused with a Digest challenge
   * of this realm; one that carries it goes on as the rest of the behaviour says.
   */
  challenge?: { realm: string; status?: 401 | 407 };
}

export interface PhoneOptions {
  name: string;
  /** Transport written in the phone's URI (the phone listens on both). Default udp. */
  transport?: 'udp' | 'tcp';
  behaviour?: PhoneBehaviour;
  /** The phone's T1 in ms [20]: a request of its own gets no answer for 64×T1 before it gives up (Timer F). */
  t1?: number;
}

/** One message seen on the wire by the phone. */
export interface SeenMessage {
  at: number;
  direction: 'in' | 'out';
  /** The request's method, or the CSeq method of a response. */
  method: string;
  /** Responses only. */
  status?: number;
  message: SipMessage;
  body: string;
  /** The same request/response was seen before (UDP retransmission). */
  retransmission: boolean;
}

export type SdpOrigin = 'invite' | '2xx' | 'ack' | 'reinvite' | 'reinvite-2xx';

export interface PhoneCall {
  readonly id: number;
  readonly direction: 'in' | 'out';
  /** The initial INVITE (received or sent). */
  readonly invite: SipRequest;
  state: 'calling' | 'ringing' | 'established' | 'ended' | 'failed';
  /** Final status of an unanswered call (ours or the peer's), or 200. */
  status?: number;
  /** Who ended an established call. */
  endedBy?: 'local' | 'remote';
  /** A CANCEL ended it (incoming calls). */
  cancelled: boolean;
  session?: InviteSession;
  /** Every SDP body this phone received in this call, in order. */
  readonly sdpReceived: { via: SdpOrigin; body: string }[];
}

const PHONE_TIMERS = { t1: 20, t2: 80, t4: 100, timerD: 300 };
const DEFAULT_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY';

export class TestPhone {
  readonly name: string;
  readonly uri: string;
  readonly mediaPort: number;
  readonly mediaAddress = '127.0.0.1';
  behaviour: PhoneBehaviour;
  readonly seen: SeenMessage[] = [];
  readonly calls: PhoneCall[] = [];
  /** Exceptions the stack caught in our handlers: a test expects none. */
  readonly errors: unknown[] = [];
  private readonly keys = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sdpVersion = 1;
  private stopped = false;

  private constructor(
    opts: PhoneOptions,
    readonly endpoint: SipEndpoint,
    private readonly media: Socket,
  ) {
    this.name = opts.name;
    this.behaviour = opts.behaviour ?? {};
    const transport = opts.transport ?? 'udp';
    const port = endpoint.bound.find((b) => b.transport === transport)!.port;
    this.uri = `sip:${opts.name}@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    this.mediaPort = media.address().port;
    endpoint.stack.onRequest('INVITE', (req, tx) => this.incomingInvite(req, tx));
  }

  static async start(opts: PhoneOptions): Promise<TestPhone> {
    // A real UDP port reserved per phone: its number is this phone's media port, unique on the host.
    const media = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      media.once('error', reject);
      media.bind(0, '127.0.0.1', () => resolve());
    });
    let phone: TestPhone | undefined;
    const errors: unknown[] = [];
    const endpoint = await startSipEndpoint({
      listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }],
      timers: realTimers,
      timerSettings: opts.t1 === undefined ? PHONE_TIMERS : { ...PHONE_TIMERS, t1: opts.t1, t2: Math.max(PHONE_TIMERS.t2, opts.t1) },
      contactUser: opts.name,
      userAgent: `TestPhone-${opts.name}`,
      observer: (direction, data) => phone?.record(direction, data),
      onEvent: (e) => {
        if (e.type === 'internal-error') (phone?.errors ?? errors).push(e.error);
      },
    });
    phone = new TestPhone(opts, endpoint, media);
    phone.errors.push(...errors);
    return phone;
  }

  // ── what the phone saw ───────────────────────────────────────────────────────

  /** Requests of `method` the phone received (retransmissions left out). */
  received(method: string): SipRequest[] {
    return this.seen
      .filter((s) => s.direction === 'in' && s.status === undefined && s.method === method && !s.retransmission)
      .map((s) => s.message as SipRequest);
  }

  /** Responses the phone received to its requests of `method`. */
  responses(method: string): SipResponse[] {
    return this.seen
      .filter((s) => s.direction === 'in' && s.status !== undefined && s.method === method && !s.retransmission)
      .map((s) => s.message as SipResponse);
  }

  /** Messages the phone sent (requests by method, or responses by CSeq method when `responses`). */
  sent(method: string, responses = false): SipMessage[] {
    return this.seen
      .filter((s) => s.direction === 'out' && (s.status !== undefined) === responses && s.method === method && !s.retransmission)
      .map((s) => s.message);
  }

  /** The SDP this phone received last in `call` (or in its latest call). */
  lastSdpReceived(call: PhoneCall | undefined = this.calls.at(-1)): string | undefined {
    return call?.sdpReceived.at(-1)?.body;
  }

  /** Where the last SDP received says to send media: the peer's address as this phone holds it. */
  holdsMediaOf(call?: PhoneCall): { address: string; port: number } | undefined {
    return audioTarget(this.lastSdpReceived(call));
  }

  /** Calls that are still up or still being set up. */
  liveCalls(): PhoneCall[] {
    return this.calls.filter((c) => c.state === 'calling' || c.state === 'ringing' || c.state === 'established');
  }

  /** Nothing left: no call, dialog, INVITE server or transaction in the stack. */
  isIdle(): boolean {
    const c = this.endpoint.stack.counts();
    return this.liveCalls().length === 0 && c.dialogs === 0 && c.inviteServers === 0 && c.transactions === 0;
  }

  waitFor(predicate: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
    return waitFor(predicate, ms, `${this.name}: ${what}`);
  }

  // ── in-call controls ─────────────────────────────────────────────────────────

  /** Ends every call: BYE when established (resolves with the BYE's statuses), CANCEL when calling out. */
  async hangup(): Promise<number[]> {
    const done: Promise<number>[] = [];
    for (const call of this.liveCalls()) {
      if (call.state === 'established' && call.session) {
        call.state = 'ended';
        call.endedBy = 'local';
        const session = call.session;
        done.push(new Promise((resolve) => session.bye(resolve)));
      } else if (call.direction === 'out') {
        this.clients.get(call)?.cancel();
      } else {
        this.servers.get(call)?.reject(480);
        call.state = 'failed';
        call.status = 480;
      }
    }
    return Promise.all(done);
  }

  /**
   * Sends a re-INVITE with our SDP in `direction` (hold: 'sendonly') in `call` (default: the
   * latest established one); resolves with the final status and the answer's SDP.
   */
  reinvite(direction = 'sendonly', call = this.calls.filter((c) => c.state === 'established').at(-1)): Promise<{ status: number; answer?: string }> {
    const session = call?.session;
    if (!call || !session) return Promise.reject(new Error(`${this.name}: no established call to re-INVITE in`));
    return new Promise((resolve) => session.reinvite({ body: this.offer(direction), contentType: 'application/sdp' }, {
      onAnswer: (res, ack) => {
        ack();
        if (res.body.length > 0) call.sdpReceived.push({ via: 'reinvite-2xx', body: res.body.toString() });
        resolve({ status: res.status, answer: res.body.toString() });
      },
      onFailure: (status) => resolve({ status }),
    }));
  }

  /**
   * Places a call (From = this phone). Resolves with the final status: 200 when answered (the
   * call is then established), else the failure status.
   */
  call(target: string, onProgress?: (res: SipResponse) => void): Promise<{ status: number; call: PhoneCall }> {
    return new Promise((resolve) => {
      const call = this.dial(target, {
        progress: (res) => onProgress?.(res),
        answered: () => resolve({ status: 200, call }),
        failed: (status) => resolve({ status, call }),
      });
    });
  }

  /** Any out-of-dialog request (OPTIONS …); resolves with the final status and response. */
  request(method: string, target: string): Promise<{ status: number; response?: SipResponse }> {
    const stack = this.endpoint.stack;
    const req = stack.createRequest(method, target, `<sip:${this.name}@127.0.0.1>`, `<${target}>`);
    return new Promise((resolve) => stack.request(req, (status, response) => resolve({ status, response })));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.endpoint.close();
    await new Promise<void>((resolve) => this.media.close(() => resolve()));
  }

  // ── incoming calls ───────────────────────────────────────────────────────────

  private readonly servers = new Map<PhoneCall, InviteServer>();
  private readonly clients = new Map<PhoneCall, InviteClient>();

  private incomingInvite(req: SipRequest, tx: ServerTransaction): void {
    const b = this.behaviour;
    const server = this.endpoint.stack.inviteServer(req, tx);
    const call = this.newCall('in', req);
    this.servers.set(call, server);
    if (req.body.length > 0) call.sdpReceived.push({ via: 'invite', body: req.body.toString() });
    server.onCancel = () => {
      call.cancelled = true;
      call.state = 'failed';
      call.status = 487;
      this.servers.delete(call);
    };
    if (b.challenge && !req.has(b.challenge.status === 401 ? 'authorization' : 'proxy-authorization')) {
      const status = b.challenge.status ?? 407;
      const header = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      server.reject(status, undefined, [[header, `Digest realm="${b.challenge.realm}", nonce="${randomBytes(8).toString('hex')}", algorithm=MD5, qop="auth"`]]);
      call.state = 'failed';
      call.status = status;
      this.servers.delete(call);
      return;
    }
    if (b.ring !== undefined) {
      this.after(b.ring, () => {
        if (call.state !== 'calling') return;
        call.state = 'ringing';
        server.progress(180);
      });
    }
    if (b.reject !== undefined) {
      const at = b.answer ?? (b.ring !== undefined ? b.ring + 20 : 0);
      const status = b.reject;
      this.after(at, () => {
        if (call.state !== 'calling' && call.state !== 'ringing') return;
        server.reject(status);
        call.state = 'failed';
        call.status = status;
        this.servers.delete(call);
      });
      return;
    }
    if (b.answer === undefined) return;
    this.after(b.answer, () => {
      if (call.state !== 'calling' && call.state !== 'ringing') return;
      const offered = req.body.length > 0;
      const headers: [string, string][] = [];
      const allow = b.allow ?? DEFAULT_ALLOW;
      if (allow !== '') headers.push(['Allow', allow]);
      const body = b.sdp === 'none' ? undefined : offered ? this.answerFor(req.body.toString()) : this.offer();
      const session = server.accept({ body, contentType: body === undefined ? undefined : 'application/sdp', headers });
      this.servers.delete(call);
      if (!session) return;
      this.established(call, session, 200);
      if (b.fork) this.forkedAnswer(req, tx, body);
    });
  }

  /** A second 2xx to the same INVITE with a new To tag: a second early dialog confirmed (§13.2.2.4). */
  private forkedAnswer(req: SipRequest, tx: ServerTransaction, body: string | undefined): void {
    const stack = this.endpoint.stack;
    const tag = stack.newTag();
    const contact = stack.localContact(req.source?.transport ?? 'udp', 4);
    const session = new InviteSession(stack, dialogFromRequest(req, tag, contact, 'confirmed'));
    const res = createResponse(req, 200, undefined, tag);
    res.set('Contact', contact);
    if (body !== undefined) res.setBody(body, 'application/sdp');
    const call = this.newCall('in', req);
    this.established(call, session, 200);
    session.send2xx(tx, res);
  }

  // ── outgoing calls ───────────────────────────────────────────────────────────

  private dial(target: string, on: {
    progress(res: SipResponse): void;
    answered(res: SipResponse): void;
    failed(status: number, res?: SipResponse): void;
  }): PhoneCall {
    const stack = this.endpoint.stack;
    const invite = stack.createRequest('INVITE', target, `"${this.name}" <${this.uri}>`, `<${target}>`);
    if (!this.behaviour.lateOffer) invite.setBody(this.offer(), 'application/sdp');
    const call = this.newCall('out', invite);
    const client = stack.invite(invite, {
      onProgress: (res) => {
        if (call.state === 'calling') call.state = 'ringing';
        on.progress(res);
      },
      onAnswer: (res, session, seq) => {
        this.clients.delete(call);
        if (res.body.length > 0) call.sdpReceived.push({ via: '2xx', body: res.body.toString() });
        // Late offer: the 2xx holds the peer's offer and our answer goes in the ACK (RFC 3264 §5).
        if (invite.body.length === 0 && res.body.length > 0) {
          session.ack(seq, { body: this.answerFor(res.body.toString()), contentType: 'application/sdp' });
        } else {
          session.ack(seq);
        }
        this.established(call, session, 200);
        on.answered(res);
      },
      onFailure: (status, res) => {
        this.clients.delete(call);
        call.state = 'failed';
        call.status = status;
        on.failed(status, res);
      },
    });
    this.clients.set(call, client);
    return call;
  }

  // ── established calls ────────────────────────────────────────────────────────

  private established(call: PhoneCall, session: InviteSession, status: number): void {
    call.state = 'established';
    call.status = status;
    call.session = session;
    session.handler = {
      onAck: (ack) => {
        if (ack.body.length > 0) call.sdpReceived.push({ via: 'ack', body: ack.body.toString() });
      },
      onBye: () => {
        if (call.state === 'established') {
          call.state = 'ended';
          call.endedBy = 'remote';
        }
      },
      onTerminated: (reason) => {
        if (call.state === 'established') {
          call.state = 'ended';
          call.endedBy = reason === 'remote-bye' ? 'remote' : 'local';
        }
      },
      onReinvite: (r) => this.answerReinvite(call, r),
      onRefer: (req, tx, accept) => this.refer(call, session, req, tx, accept),
    };
  }

  /** A re-INVITE: answer an offer with our SDP, or offer ours when it has none (the answer comes in the ACK). */
  private answerReinvite(call: PhoneCall, r: IncomingReinvite): void {
    const offer = r.request.body;
    if (offer.length > 0) {
      call.sdpReceived.push({ via: 'reinvite', body: offer.toString() });
      r.respond(200, { body: this.answerFor(offer.toString()), contentType: 'application/sdp' });
    } else {
      r.respond(200, { body: this.offer(), contentType: 'application/sdp' });
    }
  }

  private refer(
    call: PhoneCall,
    session: InviteSession,
    req: SipRequest,
    tx: ServerTransaction,
    accept: (opts?: { referSub?: boolean }) => ReferNotifier,
  ): void {
    const how = this.behaviour.onRefer ?? 'execute';
    const target = req.referTo?.uri;
    const stack = this.endpoint.stack;
    if (how.startsWith('reject:')) {
      accept().reject(Number(how.slice('reject:'.length)));
      return;
    }
    if (how === 'accept-no-notify' || how === 'accept-terminate-no-final') {
      const res = createResponse(req, 202, undefined, session.dialog.localTag);
      res.set('Contact', session.dialog.localContact);
      stack.respond(tx, res);
      if (how === 'accept-terminate-no-final') {
        this.after(20, () => session.request('NOTIFY', {
          body: 'SIP/2.0 100 Trying\r\n',
          contentType: 'message/sipfrag;version=2.0',
          headers: [['Event', `refer;id=${req.cseq.seq}`], ['Subscription-State', 'terminated;reason=timeout']],
        }));
      }
      return;
    }
    if (how.startsWith('accept-then-fail:')) {
      const status = Number(how.slice('accept-then-fail:'.length));
      const n = accept();
      n.accept();
      this.after(20, () => n.notify(status, 'Failed'));
      return;
    }
    if (!target) {
      accept().reject(400, 'Missing Refer-To');
      return;
    }
    if (how === 'accept-refer-sub-false') {
      const n = accept({ referSub: false });
      n.accept();
      // RFC 4488: nobody hears how it went; leaving the referrer's call is the success signal.
      this.dial(target, {
        progress: () => {},
        answered: () => {
          if (call.state === 'established') {
            call.state = 'ended';
            call.endedBy = 'local';
            session.bye();
          }
        },
        failed: () => {},
      });
      return;
    }
    // 'execute': like a real phone (RFC 3515 §2.4.5): progress of our INVITE in sipfrag NOTIFYs.
    const n = accept();
    n.accept();
    let rang = false;
    this.dial(target, {
      progress: (res) => {
        if (res.status >= 180 && !rang) {
          rang = true;
          n.notify(res.status, res.reason);
        }
      },
      answered: (res) => n.notify(200, res.reason || 'OK'),
      failed: (status, res) => n.notify(status, res?.reason || 'Failed'),
    });
  }

  // ── SDP ──────────────────────────────────────────────────────────────────────

  /** Our own offer: one audio stream at this phone's media address and port. */
  offer(direction = 'sendrecv'): string {
    const v = this.sdpVersion++;
    return [
      'v=0',
      `o=${this.name} 1000 ${v} IN IP4 ${this.mediaAddress}`,
      `s=${this.name}`,
      `c=IN IP4 ${this.mediaAddress}`,
      't=0 0',
      `m=audio ${this.mediaPort} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      `a=${direction}`,
      '',
    ].join('\r\n');
  }

  /** Our answer to `offer` (RFC 3264 §6.1: inactive stays inactive, sendonly becomes recvonly). */
  answerFor(offer: string): string {
    let direction = 'sendrecv';
    if (/^a=inactive\r?$/m.test(offer)) direction = 'inactive';
    else if (/^a=sendonly\r?$/m.test(offer)) direction = 'recvonly';
    else if (/^a=recvonly\r?$/m.test(offer)) direction = 'sendonly';
    return this.offer(direction);
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────

  private newCall(direction: 'in' | 'out', invite: SipRequest): PhoneCall {
    const call: PhoneCall = { id: this.calls.length + 1, direction, invite, state: 'calling', cancelled: false, sdpReceived: [] };
    this.calls.push(call);
    return call;
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      try {
        fn();
      } catch (err) {
        this.errors.push(err);
      }
    }, ms);
    this.timers.add(t);
  }

  private record(direction: 'in' | 'out', data: Buffer): void {
    let message: SipMessage;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    const isResponse = message instanceof SipResponse;
    let key: string;
    let method: string;
    try {
      method = isResponse ? message.cseq.method : (message as SipRequest).method;
      const branch = message.topVia.params.get('branch') ?? '';
      key = `${direction}|${isResponse ? (message as SipResponse).status : method}|${branch}|${message.cseq.seq}|${message.to.tag ?? ''}`;
    } catch {
      return;
    }
    const retransmission = this.keys.has(key);
    this.keys.add(key);
    this.seen.push({
      at: Date.now(), direction, method, status: isResponse ? (message as SipResponse).status : undefined,
      message, body: message.body.toString(), retransmission,
    });
  }
}

export async function waitFor(predicate: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ── scenario harness of the click-to-call end-to-end tests ──────────────────────

export interface Scenario {
  server: ServerProcess;
  xml: XmlClient;
  phone(name: string, behaviour: PhoneBehaviour, transport?: 'udp' | 'tcp', more?: Pick<PhoneOptions, 't1'>): Promise<TestPhone>;
  /** Sends one `<ClickToCall>` request over XML. */
  request(initiator: TestPhone | string, destination: TestPhone | string, opts?: { anchor?: boolean; mode?: string }): void;
  /** Waits for the XML stream's final result and returns every `Code Leg text` so far. */
  results(ms?: number): Promise<string[]>;
  /** `Code Leg text` of every `<Result>` in the stream now. */
  resultsNow(): string[];
}

/** Every `<Result>` in an XML answer stream as `Code Leg text` (Leg `-` when absent). */
export function xmlResults(stream: string): string[] {
  return [...stream.matchAll(/<Result Code="(\d+)"(?: Leg="(\w+)")?>([^<]*)<\/Result>/g)].map((m) => `${m[1]} ${m[2] ?? '-'} ${m[3]}`);
}

const FINAL_RESULT = /Code="200" Leg="Destination"|Code="[3-6]\d\d"/;

/**
 * Runs `body` against a fresh server (config `settings` on top of a translation rule that takes
 * `sip:` URIs as they are), then checks that the scenario left everything clean: every phone's
 * calls ended with no stack object left, no internal error in the server's log, and exit code 0
 * on SIGTERM. Cleans up whatever happens.
 */
export async function scenario(settings: string[], body: (s: Scenario) => Promise<void>): Promise<void> {
  const server = await startServerProcess(
    // Short SIP timers, as the phones use: transactions that linger after a call (Timers J, K, M)
    // end within ~1.3 s, so that the server stops quickly. Later lines win over earlier ones.
    ['SipT1 = 20', 'SipT4 = 100', 'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1', ...settings],
    { http: false },
  );
  const phones: TestPhone[] = [];
  let xml: XmlClient | undefined;
  try {
    xml = await XmlClient.connect(server.xmlPort);
    const x = xml;
    await body({
      server,
      xml: x,
      async phone(name, behaviour, transport, more) {
        const p = await TestPhone.start({ name, behaviour, transport, ...more });
        phones.push(p);
        return p;
      },
      request(initiator, destination, opts = {}) {
        const uri = (p: TestPhone | string) => (typeof p === 'string' ? p : p.uri);
        const extra = [
          opts.anchor !== undefined ? `<AnchorCall>${opts.anchor}</AnchorCall>\r\n` : '',
          opts.mode !== undefined ? `<Mode>${opts.mode}</Mode>\r\n` : '',
        ].join('');
        x.send(`<ClickToCall>\r\n<Request>\r\n<Initiator>${uri(initiator)}</Initiator>\r\n<Destination>${uri(destination)}</Destination>\r\n${extra}</Request>\r\n</ClickToCall>\r\n`);
      },
      async results(ms = 8000) {
        return xmlResults(await x.waitFor(FINAL_RESULT, ms));
      },
      resultsNow: () => xmlResults(x.text()),
    });
    // Health: every call ended, no internal error in the server or the phones; then, while the
    // server stops, the phones' last transactions run out (nothing may be left in them).
    await waitFor(() => phones.every((p) => p.liveCalls().length === 0), 4000, 'every phone call to end');
    // The console carries the same JSON lines as the log file, without the file's flush delay.
    const log = server.output();
    if (/"msg":"internal error"/.test(log)) throw new Error(`server logged an internal error:\n${log.split('\n').filter((l) => l.includes('internal error')).join('\n')}`);
    const [code] = await Promise.all([
      server.stop(),
      waitFor(() => phones.every((p) => p.isIdle()), 4000, 'every phone stack to be idle'),
    ]);
    for (const p of phones) if (p.errors.length) throw new Error(`${p.name}: internal errors ${p.errors.map(String).join('; ')}`);
    if (code !== 0) throw new Error(`server exited with ${code} on SIGTERM:\n${server.output()}`);
  } finally {
    xml?.close();
    for (const p of phones) await p.hangup().catch(() => {});
    await server.stop();
    for (const p of phones) await p.stop();
  }
}
