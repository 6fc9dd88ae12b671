/**
 * Prometheus metrics (issue 5 "Operations"), one registry per server: calls by mode and outcome,
 * setup latency, active calls and dialogs, SIP messages by method/status, retransmissions,
 * transactions alive, XML/HTTP counters, internal errors, and Node's own (event-loop lag …).
 * Values that already live in a component are read at scrape time (collect), not copied.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallEvent } from '../call/events.js';
import { KNOWN_METHODS } from '../sip/message/index.js';
import { observeGcPauses } from './gc-pauses.js';

/** Methods counted by name in clicktocall_sip_messages_total: the parser's (RFC 3261 and its extensions). */
const SIP_METHODS = KNOWN_METHODS;
const METHOD_BYTES = SIP_METHODS.map((m) => Buffer.from(m, 'latin1'));
const SIP_VERSION = Buffer.from('SIP/2.0 ', 'latin1');

// What a message counts as, read from its first bytes without making a string. Label values from
// the wire are bounded (an attacker's made-up methods or statuses must not grow the series
// without end): known methods and statuses 100–699 only, the rest `other`.
const CODE_OTHER = 0; // neither a request line nor a status line
const CODE_OTHER_STATUS = 1; // a status line with a status outside 100–699
const CODE_METHOD = 1000; // + index in SIP_METHODS
const CODE_OTHER_METHOD = 1999; // a request line with a method not in SIP_METHODS

function sipMessageCode(data: Buffer): number {
  if (data.length >= SIP_VERSION.length && startsWith(data, SIP_VERSION)) {
    // A status line cut short reads NaN digits: `other`.
    const i = SIP_VERSION.length;
    const a = data[i]! - 48, b = data[i + 1]! - 48, c = data[i + 2]! - 48;
    return a >= 1 && a <= 6 && b >= 0 && b <= 9 && c >= 0 && c <= 9 ? a * 100 + b * 10 + c : CODE_OTHER_STATUS;
  }
  // A request line: 2–12 capitals, then a space (within the first 24 bytes).
  let i = 0;
  while (i < data.length && i < 24 && data[i] !== 32) {
    const ch = data[i]!;
    if (ch < 65 || ch > 90) return CODE_OTHER;
    i++;
  }
  if (i < 2 || i > 12 || data[i] !== 32) return CODE_OTHER;
  for (let m = 0; m < METHOD_BYTES.length; m++) {
    const method = METHOD_BYTES[m]!;
    if (method.length === i && startsWith(data, method)) return CODE_METHOD + m;
  }
  return CODE_OTHER_METHOD;
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

function codeLabels(code: number): { kind: string; name: string } {
  if (code === CODE_OTHER) return { kind: 'other', name: '' };
  if (code === CODE_OTHER_STATUS) return { kind: 'response', name: 'other' };
  if (code < CODE_METHOD) return { kind: 'response', name: String(code) };
  return { kind: 'request', name: code === CODE_OTHER_METHOD ? 'other' : SIP_METHODS[code - CODE_METHOD]! };
}

export interface MetricSources {
  activeCalls(): number;
  sip(): { transactions: number; dialogs: number };
  xml?(): { connections: number; documents: number; errors: number; refusedRequests: number } | undefined;
  http?(): { requests?: number; internalErrors?: number } | undefined;
  /** Timers armed through the server's TimerHost (transactions, calls, store, limits). */
  timers?(): number;
  /** Log lines dropped so far: the log file's disk or the console's reader too far behind. */
  logDropped?(): { file: number; console: number };
  /**
   * Webhook deliveries dropped so far: a URL's queue full (WebhookMaxQueued), or an event for a
   * statusCallback URL beyond WebhookMaxCallbackUrls. Undefined: no webhooks (HTTP is off).
   */
  webhookDropped?(): { queueFull: number; tooManyCallbackUrls: number } | undefined;
}

/**
 * Garbage-collection pause buckets, seconds. prom-client's defaults (1 ms, 10 ms, 100 ms …) put a
 * 2-ms scavenge and a 9-ms one in the same bucket; a request that arrives during a pause waits
 * for it, so these split the first milliseconds, where the setup latency's tail is (issue 6).
 */
export const GC_PAUSE_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const GC_PAUSES_NAME = 'clicktocall_nodejs_gc_duration_seconds';

/**
 * Request → INVITE buckets, seconds: the server's own part is a fraction of a millisecond when
 * the event loop is free (issue 6: under 2 ms at p99, on the wire); 2 ms is a bound.
 */
export const SETUP_INVITE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1];

export class Metrics {
  readonly registry = new Registry();
  private readonly callsStarted: Counter<'mode' | 'trigger'>;
  private readonly callsEnded: Counter<'mode' | 'outcome' | 'reason'>;
  private readonly setupRinging: Histogram;
  private readonly setupConnected: Histogram;
  private readonly setupInvite: Histogram<'trigger'>;
  private readonly retransmissions: Counter;
  private readonly internalErrors: Counter<'where'>;
  private readonly parseErrors: Counter<'answered'>;
  private readonly authFailures: Counter<'interface' | 'reason'>;
  private readonly stopGcPauses: () => void = () => {};
  /** Start time and mode of calls in progress (for latency and the ended counter). */
  private readonly live = new Map<string, { start: number; mode: string }>();

  constructor(sources: MetricSources, opts: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: r, prefix: 'clicktocall_' });
      // prom-client's GC histogram counts one pause per observer batch (gc-pauses.ts): replaced.
      // Its observer cannot be left out of the defaults; it feeds the unregistered one, unread.
      r.removeSingleMetric(GC_PAUSES_NAME);
      this.stopGcPauses = observeGcPauses(new Histogram({
        name: GC_PAUSES_NAME, help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
        labelNames: ['kind'], buckets: GC_PAUSE_BUCKETS, registers: [r],
      }));
    }
    this.callsStarted = new Counter({ name: 'clicktocall_calls_started_total', help: 'Calls started, by mode and trigger', labelNames: ['mode', 'trigger'], registers: [r] });
    this.callsEnded = new Counter({ name: 'clicktocall_calls_ended_total', help: 'Calls ended, by mode, outcome (connected, completed, failed, refused) and reason', labelNames: ['mode', 'outcome', 'reason'], registers: [r] });
    const buckets = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    this.setupRinging = new Histogram({ name: 'clicktocall_setup_ringing_seconds', help: 'Request to the initiator ringing', buckets, registers: [r] });
    this.setupConnected = new Histogram({ name: 'clicktocall_setup_connected_seconds', help: 'Request to Connected to destination', buckets, registers: [r] });
    this.setupInvite = new Histogram({
      name: 'clicktocall_setup_invite_seconds',
      help: 'From reading a call request to handing its INVITE to the initiator to the SIP transport, by trigger: the server\'s own part of the setup (a request waiting in its socket for a busy event loop is not in it)',
      labelNames: ['trigger'], buckets: SETUP_INVITE_BUCKETS, registers: [r],
    });
    const sipCounts = this.sipCounts;
    new Counter({
      name: 'clicktocall_sip_messages_total', help: 'SIP messages by direction, transport, kind (request/response) and method or status',
      labelNames: ['direction', 'transport', 'kind', 'name'], registers: [r],
      // Counted in a plain map (sipMessage runs for every datagram; prom-client hashes the
      // label object on each inc) and handed over at scrape time.
      collect() {
        this.reset();
        for (const c of sipCounts.values()) this.inc(c.labels, c.n);
      },
    });
    this.retransmissions = new Counter({ name: 'clicktocall_sip_retransmissions_total', help: 'SIP retransmissions sent', registers: [r] });
    this.internalErrors = new Counter({ name: 'clicktocall_internal_errors_total', help: 'Unexpected exceptions caught at an edge (decisions §7: should stay 0)', labelNames: ['where'], registers: [r] });
    this.authFailures = new Counter({ name: 'clicktocall_auth_failures_total', help: 'Refused credentials by interface (http, rest, sip-refer) and reason (bad-credentials, replay, bad-key, digest-…)', labelNames: ['interface', 'reason'], registers: [r] });
    this.parseErrors = new Counter({ name: 'clicktocall_sip_malformed_total', help: 'Malformed SIP messages, answered (400) or dropped', labelNames: ['answered'], registers: [r] });
    new Gauge({ name: 'clicktocall_calls_active', help: 'Calls in progress', registers: [r], collect() { this.set(sources.activeCalls()); } });
    new Gauge({ name: 'clicktocall_sip_transactions', help: 'SIP transactions alive', registers: [r], collect() { this.set(sources.sip().transactions); } });
    if (sources.timers) {
      const armed = sources.timers;
      new Gauge({
        name: 'clicktocall_timers_armed', help: 'Timers armed by the server (SIP transactions, calls, the store, limits): back to its idle value once every call has drained',
        registers: [r], collect() { this.set(armed()); },
      });
    }
    if (sources.logDropped) {
      const dropped = sources.logDropped;
      new Counter({
        name: 'clicktocall_log_lines_dropped_total', help: 'Log lines dropped because the log file (disk) or the console (stdout reader) fell too far behind',
        labelNames: ['destination'], registers: [r],
        collect() {
          const d = dropped();
          this.reset();
          this.inc({ destination: 'file' }, d.file);
          this.inc({ destination: 'console' }, d.console);
        },
      });
    }
    if (sources.webhookDropped) {
      const dropped = sources.webhookDropped;
      new Counter({
        name: 'clicktocall_webhook_dropped_total',
        help: 'Webhook deliveries dropped, by reason: queue-full (a URL\'s queue held WebhookMaxQueued) or too-many-callback-urls (a statusCallback URL beyond WebhookMaxCallbackUrls)',
        labelNames: ['reason'], registers: [r],
        collect() {
          const d = dropped();
          this.reset();
          if (!d) return;
          this.inc({ reason: 'queue-full' }, d.queueFull);
          this.inc({ reason: 'too-many-callback-urls' }, d.tooManyCallbackUrls);
        },
      });
    }
    new Gauge({ name: 'clicktocall_sip_dialogs', help: 'SIP dialogs alive (call legs and subscriptions)', registers: [r], collect() { this.set(sources.sip().dialogs); } });
    new Gauge({
      name: 'clicktocall_xml', help: 'XML interface counters', labelNames: ['counter'], registers: [r],
      collect() {
        const x = sources.xml?.();
        if (!x) return;
        for (const [k, v] of Object.entries(x)) if (typeof v === 'number') this.set({ counter: k }, v);
      },
    });
    new Gauge({
      name: 'clicktocall_http', help: 'HTTP interface counters', labelNames: ['counter'], registers: [r],
      collect() {
        const h = sources.http?.();
        if (!h) return;
        for (const [k, v] of Object.entries(h)) if (typeof v === 'number') this.set({ counter: k }, v);
      },
    });
  }

  /** A publisher subscriber. */
  onEvent = (e: CallEvent & { mode?: string }): void => {
    if (e.kind === 'initiated' || (e.kind === 'refused' && !this.live.has(e.callId))) {
      this.live.set(e.callId, { start: e.time, mode: this.pendingMode.get(e.callId) ?? 'unknown' });
    }
    const call = this.live.get(e.callId);
    if (!call) return;
    if (e.kind === 'ringing' && e.leg === 'initiator') this.setupRinging.observe((e.time - call.start) / 1000);
    if (e.kind === 'connected') this.setupConnected.observe((e.time - call.start) / 1000);
    if (e.kind === 'failed' || e.kind === 'refused' || e.kind === 'completed') {
      this.callsEnded.inc({ mode: call.mode, outcome: e.kind, reason: e.reason ?? '' });
      this.live.delete(e.callId);
      this.pendingMode.delete(e.callId);
    }
  };

  private readonly pendingMode = new Map<string, string>();

  callStarted(callId: string, mode: string, trigger: string): void {
    this.callsStarted.inc({ mode, trigger });
    this.pendingMode.set(callId, mode);
  }

  /**
   * SIP messages by a number made of direction, transport and the message's code (method or
   * status, sipMessageCode): no string is made per message. Labels are made once per series.
   */
  private readonly sipCounts = new Map<number, { labels: { direction: string; transport: string; kind: string; name: string }; n: number }>();
  /** Transport names as small numbers (the stack's few: udp, tcp, tls, ws, wss). */
  private readonly transportIds = new Map<string, number>();

  /** The SIP stack's message observer: counts by method (requests) or status (responses). */
  sipMessage = (direction: 'in' | 'out', data: Buffer, transport: string): void => {
    let t = this.transportIds.get(transport);
    if (t === undefined) this.transportIds.set(transport, (t = this.transportIds.size));
    const code = sipMessageCode(data);
    const key = (direction === 'in' ? 0 : 1) + 2 * (code + 4096 * t);
    const c = this.sipCounts.get(key);
    if (c) c.n++;
    else this.sipCounts.set(key, { labels: { direction, transport, ...codeLabels(code) }, n: 1 });
  };

  /** A call's INVITE to the initiator went to the transport; `receivedAt` is its request's `performance.now()`. */
  inviteSent(trigger: string, receivedAt: number): void {
    let child = this.setupInviteBy.get(trigger);
    if (child === undefined) this.setupInviteBy.set(trigger, (child = this.setupInvite.labels({ trigger })));
    child.observe(Math.max(0, performance.now() - receivedAt) / 1000);
  }

  /** The histogram's series by trigger (a handful), so that a call does not hash a label object. */
  private readonly setupInviteBy = new Map<string, { observe(value: number): void }>();

  retransmission(): void {
    this.retransmissions.inc();
  }

  internalError(where: string): void {
    this.internalErrors.inc({ where: where.split(' ')[0] ?? where });
  }

  /** Credentials refused (not a missing Authorization, which is the first step of every challenge). */
  authFailure(iface: 'http' | 'rest' | 'sip-refer', reason: string): void {
    this.authFailures.inc({ interface: iface, reason });
  }

  malformed(answered: boolean): void {
    this.parseErrors.inc({ answered: String(answered) });
  }

  /** Stops listening for GC pauses (the registry can still be read). */
  close(): void {
    this.stopGcPauses();
  }
}
