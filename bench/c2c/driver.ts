/**
 * The click-to-call driver: places sessions over one interface (XML over TCP, REST, or the
 * legacy HTTP GET) either closed-loop (a window of sessions awaiting their final event: each
 * final starts the next) or at a fixed rate, for a duration; then waits a bounded time for the
 * finals still due. It records, per session, when the request left and when its final event
 * came back (XML: the final <Result>; REST and GET: the final event on the SSE stream).
 */
import { request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { epochMs } from './clock.js';

export type Via = 'xml' | 'rest' | 'get';
export type CallMode = 'refer' | 'anchored';

export interface SessionPlan {
  initiator: string;
  destination: string;
  mode: CallMode;
}

export type Load = { kind: 'window'; window: number } | { kind: 'rate'; perSec: number };

export interface DriverOptions {
  via: Via;
  xmlPort: number;
  httpPort: number;
  apiKey: string;
  load: Load;
  durationMs: number;
  /** After the duration: how long to wait for the finals still due. */
  drainMs: number;
  /** Session n (0-based) asks for this call. Its initiator user must be `i<n>`: answers are matched by it. */
  plan: (n: number) => SessionPlan;
  /** XML connections (requests round-robin over them, pipelined). */
  xmlConnections: number;
  /** Sessions numbered from here (so that consecutive runs on one farm never reuse a user). */
  firstIndex: number;
  /** Stop sending after this many sessions (the duration still bounds the run). */
  maxSessions?: number;
}

export interface SessionRecord {
  /** Epoch ms (µs resolution) the request was written. */
  sentAt: number;
  finalAt?: number;
  finalCode?: number;
  finalLeg?: string;
  /** The request itself failed (HTTP status, connection error). */
  error?: string;
  /** REST: the call's id (from the 201), e.g. to hang it up later. */
  callId?: string;
}

export interface DriverResult {
  firstIndex: number;
  records: SessionRecord[];
  /** From the first request to the last final received (ms). */
  elapsedMs: number;
  /** From the first to the last request (ms). */
  sendingMs: number;
}

const XML_ROOT_END = '</ClickToCall>';

export async function drive(o: DriverOptions): Promise<DriverResult> {
  const records: SessionRecord[] = [];
  let finals = 0;
  let lastFinalAt = 0;
  let stopped = false;
  let onFinal: () => void = () => {};

  const final = (n: number, code: number, leg: string | undefined) => {
    const r = records[n - o.firstIndex];
    if (!r || r.finalAt !== undefined) return;
    r.finalAt = epochMs();
    r.finalCode = code;
    r.finalLeg = leg;
    finals++;
    lastFinalAt = r.finalAt;
    onFinal();
  };
  const requestFailed = (n: number, error: string) => {
    const r = records[n - o.firstIndex];
    if (!r || r.finalAt !== undefined) return;
    r.error = error;
    r.finalAt = epochMs();
    finals++;
    lastFinalAt = r.finalAt;
    onFinal();
  };

  const callIdOf = (n: number, id: string) => {
    const r = records[n - o.firstIndex];
    if (r) r.callId = id;
  };
  const sender = o.via === 'xml' ? await xmlSender(o, final) : await httpSender(o, final, requestFailed, callIdOf);
  const maxSessions = o.maxSessions ?? Number.POSITIVE_INFINITY;
  const sendOne = () => {
    const n = o.firstIndex + records.length;
    records.push({ sentAt: epochMs() });
    sender.send(n, o.plan(n));
  };

  const start = epochMs();
  const deadline = start + o.durationMs;
  const handles: Array<ReturnType<typeof setTimeout>> = [];
  let ticker: ReturnType<typeof setInterval> | undefined;
  const clearTimers = () => {
    for (const h of handles) clearTimeout(h);
    clearInterval(ticker);
  };
  try {
    await new Promise<void>((resolve) => {
      const finishIfDrained = () => {
        if (stopped && finals >= records.length) resolve();
      };
      const drainTimer = setTimeout(resolve, o.durationMs + o.drainMs);
      handles.push(drainTimer);
      const stopTimer = setTimeout(() => {
        stopped = true;
        clearInterval(ticker);
        finishIfDrained();
      }, o.durationMs);
      handles.push(stopTimer);
      if (o.load.kind === 'window') {
        const window = o.load.window;
        onFinal = () => {
          // A new request on a fresh tick: a burst of finals must not recurse.
          if (!stopped && records.length - finals < window) setImmediate(topUp);
          finishIfDrained();
        };
        const topUp = () => {
          while (!stopped && records.length - finals < window && records.length < maxSessions && epochMs() < deadline) sendOne();
          if (records.length >= maxSessions) {
            stopped = true;
            clearTimeout(stopTimer);
            finishIfDrained();
          }
        };
        topUp();
      } else {
        const perSec = o.load.perSec;
        onFinal = finishIfDrained;
        ticker = setInterval(() => {
          const due = Math.min(Math.floor(((epochMs() - start) * perSec) / 1000), Math.ceil((o.durationMs * perSec) / 1000));
          while (!stopped && records.length < due && records.length < maxSessions) sendOne();
        }, 2);
      }
      void drainTimer;
    });
    clearTimers();
  } finally {
    stopped = true;
    clearTimers();
    sender.close();
  }
  const lastSent = records.length > 0 ? records[records.length - 1]!.sentAt : start;
  return { firstIndex: o.firstIndex, records, elapsedMs: (lastFinalAt || epochMs()) - start, sendingMs: lastSent - start };
}

interface Sender {
  send(n: number, plan: SessionPlan): void;
  close(): void;
}

// ── XML over TCP ────────────────────────────────────────────────────────────────

function xmlDocument(p: SessionPlan): string {
  return (
    `<ClickToCall><Request><Initiator>${p.initiator}</Initiator><Destination>${p.destination}</Destination>` +
    (p.mode === 'anchored' ? '<AnchorCall>true</AnchorCall>' : '<Mode>refer</Mode>') +
    `</Request></ClickToCall>`
  );
}

async function xmlSender(o: DriverOptions, final: (n: number, code: number, leg: string | undefined) => void): Promise<Sender> {
  const sockets: Socket[] = [];
  let closing = false;
  for (let i = 0; i < o.xmlConnections; i++) {
    const s = connect(o.xmlPort, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    s.setNoDelay(true);
    s.setEncoding('latin1');
    let buf = '';
    s.on('data', (chunk: string) => {
      buf += chunk;
      let from = 0;
      for (;;) {
        const end = buf.indexOf(XML_ROOT_END, from);
        if (end < 0) break;
        readAnswer(buf, from, end, final);
        from = end + XML_ROOT_END.length;
      }
      buf = from === 0 ? buf : buf.slice(from);
    });
    s.on('error', () => {}); // the run's finals then go missing and are reported as lost
    // Said aloud: lost finals are otherwise hard to tell from a server that forgot them.
    s.on('close', (hadError) => {
      if (!closing) process.stderr.write(`bench: XML connection ${i} closed by the server${hadError ? ' (error)' : ''} during the run\n`);
    });
    sockets.push(s);
  }
  let next = 0;
  return {
    send(_n, plan) {
      sockets[next]!.write(xmlDocument(plan));
      next = (next + 1) % sockets.length;
    },
    close() {
      closing = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/** One answer: the echoed request names the initiator `…i<n>@`; the Result line carries code and leg. */
function readAnswer(buf: string, from: number, end: number, final: (n: number, code: number, leg: string | undefined) => void): void {
  const ini = buf.indexOf('<Initiator>', from);
  if (ini < 0 || ini > end) return;
  const at = buf.indexOf('@', ini);
  const colon = buf.indexOf(':', ini);
  const n = Number(buf.slice(colon + 2, at)); // "sip:i<n>@"
  const res = buf.indexOf('<Result Code="', ini);
  if (res < 0 || res > end) return;
  const code = Number(buf.slice(res + 14, res + 17));
  const legAt = buf.indexOf(' Leg="', res);
  const close = buf.indexOf('>', res);
  const leg = legAt >= 0 && legAt < close ? buf.slice(legAt + 6, buf.indexOf('"', legAt + 6)) : undefined;
  if (code >= 300 || (code >= 200 && leg === 'Destination')) final(n, code, leg);
}

// ── REST and legacy GET, finals from the SSE stream ───────────────────────────────

interface StreamEvent {
  callId: string;
  kind: string;
  code: number;
  leg?: string;
  final?: boolean;
  translatedInitiator?: string;
}

async function httpSender(
  o: DriverOptions,
  final: (n: number, code: number, leg: string | undefined) => void,
  requestFailed: (n: number, error: string) => void,
  callIdOf: (n: number, id: string) => void,
): Promise<Sender> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const auth = `Bearer ${o.apiKey}`;
  // callId → session, and finals that arrived before we knew their call (REST: before the 201).
  const byCall = new Map<string, number>();
  const early = new Map<string, StreamEvent>();
  const legOf = (e: StreamEvent) => (e.leg === 'destination' ? 'Destination' : e.leg === 'initiator' ? 'Initiator' : undefined);
  const onEvent = (e: StreamEvent) => {
    if (e.kind === 'initiated' && o.via === 'get' && e.translatedInitiator) {
      byCall.set(e.callId, userIndex(e.translatedInitiator));
    }
    if (!e.final) return;
    const n = byCall.get(e.callId);
    if (n === undefined) early.set(e.callId, e);
    else {
      byCall.delete(e.callId);
      final(n, e.code, legOf(e));
    }
  };
  const stream = await openEventStream(o.httpPort, auth, onEvent);
  const known = (callId: string, n: number) => {
    const e = early.get(callId);
    if (e) {
      early.delete(callId);
      final(n, e.code, legOf(e));
    } else byCall.set(callId, n);
  };

  return {
    send(n, plan) {
      if (o.via === 'rest') {
        const body = JSON.stringify({ initiator: plan.initiator, destination: plan.destination, mode: plan.mode });
        const req = httpRequest({
          host: '127.0.0.1', port: o.httpPort, method: 'POST', path: '/v1/calls', agent,
          headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        }, (res) => readBody(res, (status, text) => {
          if (status !== 201) return requestFailed(n, `HTTP ${status}: ${text.slice(0, 200)}`);
          const id = /"id":"([^"]+)"/.exec(text)?.[1];
          if (!id) return requestFailed(n, 'no id in the 201');
          callIdOf(n, id);
          known(id, n);
        }));
        req.on('error', (err) => requestFailed(n, err.message));
        req.end(body);
      } else {
        const q = `initiator=${encodeURIComponent(plan.initiator)}&destination=${encodeURIComponent(plan.destination)}&mode=${plan.mode}`;
        const req = httpRequest({ host: '127.0.0.1', port: o.httpPort, method: 'GET', path: `/clicktocall.html?${q}`, agent }, (res) =>
          readBody(res, (status, text) => {
            if (status !== 200) requestFailed(n, `HTTP ${status}: ${text.slice(0, 200)}`);
          }));
        req.on('error', (err) => requestFailed(n, err.message));
        req.end();
      }
    },
    close() {
      stream.destroy();
      agent.destroy();
    },
  };
}

/** `sip:i<n>@…` → n. */
function userIndex(uri: string): number {
  const colon = uri.indexOf(':');
  return Number(uri.slice(colon + 2, uri.indexOf('@')));
}

function readBody(res: IncomingMessage, done: (status: number, text: string) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => (text += d));
  res.on('end', () => done(res.statusCode ?? 0, text));
  res.on('error', () => done(0, 'response error'));
}

/** GET /v1/events; resolves once the stream answered 200. Each `data:` line is one event. */
function openEventStream(port: number, auth: string, onEvent: (e: StreamEvent) => void): Promise<{ destroy(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: '/v1/events', headers: { authorization: auth, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET /v1/events answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d: string) => {
        buf += d;
        let from = 0;
        for (;;) {
          const nl = buf.indexOf('\n', from);
          if (nl < 0) break;
          if (buf.startsWith('data: ', from)) {
            try {
              onEvent(JSON.parse(buf.slice(from + 6, nl)) as StreamEvent);
            } catch {
              // not an event we can read: its session will show up as lost
            }
          }
          from = nl + 1;
        }
        buf = buf.slice(from);
      });
      res.on('error', () => {});
      resolve({ destroy: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}
