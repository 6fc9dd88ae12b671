/**
 * The click-to-call server in this process for the fault tests (issue #7): its SIP stack, engine
 * and timers can be read, so a test can tell that a fault left nothing behind. Calls are started
 * the way every trigger starts them (`submitCall`), and every event is kept per call. Outgoing
 * SIP retransmissions are counted from the wire (a message sent again with the same first line,
 * Via branch, CSeq and To tag) — the stack's own `retransmission` events feed the metrics, which
 * a test cannot read without HTTP, and 2xx/ACK re-sends of the dialog layer are not among them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseConfigText, type Config } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { CountingTimers, realTimers, type TimerHost } from '../../src/sip/timer.js';
import { parseMessage, SipRequest, SipResponse } from '../../src/sip/message/index.js';
import { submitCall } from '../../src/api/calls.js';
import type { CallEvent } from '../../src/call/events.js';
import type { CallMode, CallOptions } from '../../src/call/request.js';

export interface FaultServerOptions {
  /** Extra config lines (later lines win). */
  settings?: string[];
  /** The clock of the server's stack and engine (default: real timers). */
  timers?: TimerHost;
  /** Changes the parsed configuration: values a config file cannot hold (a DNS server on a port other than 53). */
  configure?: (config: Config) => Config;
}

export interface FaultServer {
  server: RunningServer;
  timers: CountingTimers;
  /** Every event of every call, by call id, in publication order. */
  events: Map<string, CallEvent[]>;
  /** SIP messages the server sent again (same message key seen before). */
  retransmissionsSent(): number;
  /** Every message the server sent, in order (first line only), for assertions on the wire. */
  sentLines: { at: number; line: string; port: number }[];
  /** Every message the server received (first line and source port). */
  receivedLines: { at: number; line: string; port: number }[];
  start(initiator: string, destination: string, mode: CallMode, options?: Partial<CallOptions>): string;
  /** True once the engine has let go of the call (it published at least one event). */
  ended(id: string): boolean;
  /** Objects still alive: zero everywhere means the faults left nothing behind. */
  leftovers(): { transactions: number; dialogs: number; inviteServers: number; pendingRefers: number; sessions: number; timers: number; callSubscriptions: number };
  stop(): Promise<void>;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** A key that is equal for a message and its retransmissions (RFC 3261 §17.1.3 matching, plus the first line). */
export function messageKey(data: Buffer): string | undefined {
  try {
    const m = parseMessage(data);
    const first = m instanceof SipResponse ? `${m.status}` : (m as SipRequest).method;
    return `${first}|${m.topVia.params.get('branch') ?? ''}|${m.cseq.seq} ${m.cseq.method}|${m.to.tag ?? ''}`;
  } catch {
    return undefined;
  }
}

export async function startFaultServer(opts: FaultServerOptions = {}): Promise<FaultServer> {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-faults-'));
  const { config, errors } = parseConfigText([
    `DatabaseFile = ${join(dir, 'calls.db')}`, 'RecordRetentionDays = 0', 'TraceCalls = 0',
    'IPAddress = 127.0.0.1', 'UDPTCPPort = 0', 'TLSPort = 0', 'HttpPort = 0', 'XmlRpcPort = 0',
    'SipT1 = 50', 'SipT2 = 400', 'SipT4 = 200', 'SipTimerD = 500', 'RingTimeout = 10', 'LogLevel = NONE',
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
    ...(opts.settings ?? []),
  ].join('\n'), 'faults.config');
  if (errors.length) throw new Error(`fault server config: ${JSON.stringify(errors)}`);
  const timers = new CountingTimers(opts.timers ?? realTimers);
  const seenKeys = new Set<string>();
  let retransmissions = 0;
  const sentLines: FaultServer['sentLines'] = [];
  const receivedLines: FaultServer['receivedLines'] = [];
  const server = await startServer(opts.configure ? opts.configure(config) : config, {
    logger: quiet,
    timers,
    sipTrace: (direction, data, _transport, remote) => {
      const eol = data.indexOf('\r\n');
      const line = { at: Date.now(), line: data.subarray(0, eol < 0 ? data.length : eol).toString(), port: remote.port };
      if (direction === 'in') {
        receivedLines.push(line);
        return;
      }
      sentLines.push(line);
      const key = messageKey(data);
      if (key === undefined) return;
      if (seenKeys.has(key)) retransmissions++;
      else seenKeys.add(key);
    },
  });
  const events = new Map<string, CallEvent[]>();
  const unsubscribe = server.publisher.subscribe((e) => {
    let list = events.get(e.callId);
    if (!list) events.set(e.callId, (list = []));
    list.push(e);
  });
  const prepare = {
    rules: config.translationRules,
    defaultMode: config.defaultMode,
    defaults: {
      ringTimeoutMs: config.ringTimeout * 1000,
      maxDurationMs: config.maxCallDuration * 1000,
      holdOffer: config.holdOffer,
      referNotifyTimeoutMs: config.referNotifyTimeout * 1000,
      transferPolicy: config.transferPolicy,
    },
    newId: randomUUID,
  };
  let stopped = false;
  return {
    server,
    timers,
    events,
    sentLines,
    receivedLines,
    retransmissionsSent: () => retransmissions,
    start(initiator, destination, mode, options) {
      const r = submitCall(
        { engine: server.engine, publisher: server.publisher, prepare },
        { initiator, destination, mode, options, client: { address: '127.0.0.1', port: 0, trigger: 'xml' } },
      );
      if (!r.ok) throw new Error(`call refused: ${r.status} ${r.text}`);
      return r.request.id;
    },
    // Ended: the engine let go of it and its last events are out (the store's group commit holds
    // a final until the end of the event-loop turn).
    ended: (id) => server.engine.get(id) === undefined && (events.get(id)?.length ?? 0) > 0 && server.publisher.heldCalls === 0,
    leftovers() {
      const c = server.sip.stack.counts();
      return {
        ...c, sessions: server.engine.activeCalls, timers: timers.armed, callSubscriptions: server.publisher.callSubscriptions,
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      await server.shutdown(0);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when nothing is left: every count of `leftovers()` is zero. */
export function nothingLeft(l: ReturnType<FaultServer['leftovers']>): boolean {
  return Object.values(l).every((n) => n === 0);
}

/**
 * Checks one call's events for the faults a lossy network could cause upstream of them:
 * sequence numbers 1, 2, 3 … without gaps or repeats, kinds that may occur once occurring once,
 * exactly one final event, nothing after the call's last event. Returns what is wrong.
 */
export function eventProblems(events: readonly CallEvent[]): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`event ${i} has seq ${e.seq}`);
  });
  const count = (pred: (e: CallEvent) => boolean) => events.filter(pred).length;
  for (const kind of ['initiated', 'answered', 'referred', 'fallback', 'connected', 'failed', 'completed'] as const) {
    if (count((e) => e.kind === kind) > 1) problems.push(`${kind} ${count((e) => e.kind === kind)} times`);
  }
  for (const leg of ['initiator', 'destination'] as const) {
    const n = count((e) => e.kind === 'ringing' && e.leg === leg);
    if (n > 1) problems.push(`ringing ${leg} ${n} times`);
  }
  const finals = count((e) => e.final);
  if (finals !== 1) problems.push(`${finals} final events`);
  const last = events.at(-1);
  const connected = events.some((e) => e.kind === 'connected');
  if (connected && last?.kind !== 'completed') problems.push(`connected, but the last event is ${last?.kind}`);
  if (!connected && last?.kind !== 'failed') problems.push(`not connected, and the last event is ${last?.kind}`);
  return problems;
}

export async function waitUntil(predicate: () => boolean, ms: number, what: string, describe?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${describe ? `: ${describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
