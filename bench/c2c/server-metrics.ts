/**
 * The few server counters the bench reads from `GET /metrics` (Prometheus text, src/metrics):
 * calls, transactions and dialogs alive, SIP messages in and out, retransmissions, internal
 * errors, heap and RSS, garbage-collection pauses. A counter the server does not export reads
 * as undefined, not 0.
 */
export interface ServerMetrics {
  callsActive?: number;
  transactions?: number;
  dialogs?: number;
  sipMessagesIn: number;
  sipMessagesOut: number;
  retransmissions?: number;
  internalErrors: number;
  /** The same by where it was caught (the metric's `where` label): what to look at first. */
  internalErrorsWhere: Record<string, number>;
  heapUsedBytes?: number;
  /** Timers armed in the server (absent from servers before this gauge). */
  timers?: number;
  heapTotalBytes?: number;
  rssBytes?: number;
  /**
   * Event-loop delay since the previous scrape (prom-client resets its histogram on each
   * collect), ms: p99 and max, the sampling interval taken off (loopDelayMs). Shows whether a
   * latency tail is the server's own stall.
   */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  /** Calls ended, by outcome (connected/completed/failed/refused). */
  callsEnded: Record<string, number>;
  /** Garbage-collection pauses so far, by kind (minor, major, incremental, weakcb). */
  gc: Record<string, GcPauses>;
  /**
   * `clicktocall_setup_invite_seconds`, every trigger together: request read → its INVITE handed
   * to the transport, inside the server (absent from servers before this histogram).
   */
  setupInvite?: Histogram;
}

/** A Prometheus histogram read back: cumulative counts by upper bound (seconds, ascending; +Inf last). */
export interface Histogram {
  count: number;
  sumSeconds: number;
  buckets: { le: number; n: number }[];
}

/** What a histogram gathered between two scrapes. */
export function histogramBetween(before: Histogram | undefined, after: Histogram | undefined): Histogram | undefined {
  if (!after) return undefined;
  const b = (le: number) => before?.buckets.find((x) => x.le === le)?.n ?? 0;
  return {
    count: after.count - (before?.count ?? 0),
    sumSeconds: after.sumSeconds - (before?.sumSeconds ?? 0),
    buckets: after.buckets.map((x) => ({ le: x.le, n: x.n - b(x.le) })),
  };
}

/** The share of observations above `seconds` (a bucket bound, else the next bound up counts as under). */
export function shareOver(h: Histogram, seconds: number): number {
  if (h.count === 0) return 0;
  const under = h.buckets.find((x) => x.le >= seconds - 1e-12)?.n ?? h.count;
  return (h.count - under) / h.count;
}

/** The smallest bucket bound under which `q` of the observations lie (seconds; Infinity past the last bound). */
export function quantileBound(h: Histogram, q: number): number | undefined {
  if (h.count === 0) return undefined;
  return h.buckets.find((x) => x.n >= q * h.count)?.le ?? Infinity;
}

/** Pauses of one kind: how many, their total, and how many were longer than 2 and 10 ms. */
export interface GcPauses {
  count: number;
  totalMs: number;
  over2ms: number;
  over10ms: number;
}

const noPauses = (): GcPauses => ({ count: 0, totalMs: 0, over2ms: 0, over10ms: 0 });

/** What happened between two scrapes (counters only grow; a kind absent before counts from 0). */
export function gcBetween(before: ServerMetrics, after: ServerMetrics): Record<string, GcPauses> {
  const out: Record<string, GcPauses> = {};
  for (const [kind, a] of Object.entries(after.gc)) {
    const b = before.gc[kind] ?? noPauses();
    out[kind] = { count: a.count - b.count, totalMs: a.totalMs - b.totalMs, over2ms: a.over2ms - b.over2ms, over10ms: a.over10ms - b.over10ms };
  }
  return out;
}

/**
 * prom-client samples the loop with monitorEventLoopDelay({ resolution: 10 }), which records the
 * time between its 10-ms timer's callbacks: an idle loop reads 10 ms. The delay is what is over.
 */
const LOOP_SAMPLING_MS = 10;
function loopDelayMs(seconds: number): number {
  return Math.max(0, seconds * 1000 - LOOP_SAMPLING_MS);
}

export function parseMetrics(text: string): ServerMetrics {
  const m: ServerMetrics = { sipMessagesIn: 0, sipMessagesOut: 0, internalErrors: 0, internalErrorsWhere: {}, callsEnded: {}, gc: {} };
  // The histogram's cumulative buckets at 2 and 10 ms, kept until its count says how many were over.
  const gcUpTo2 = new Map<string, number>();
  const gcUpTo10 = new Map<string, number>();
  const gcOf = (labels: string): GcPauses => (m.gc[gcKind(labels)] ??= noPauses());
  for (const line of text.split('\n')) {
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    const brace = line.indexOf('{');
    const name = brace < 0 ? line.slice(0, space) : line.slice(0, brace);
    const labels = brace < 0 ? '' : line.slice(brace, line.indexOf('}') + 1);
    switch (name) {
      case 'clicktocall_calls_active': m.callsActive = value; break;
      case 'clicktocall_sip_transactions': m.transactions = value; break;
      case 'clicktocall_sip_dialogs': m.dialogs = value; break;
      case 'clicktocall_timers_armed': m.timers = value; break;
      case 'clicktocall_sip_retransmissions_total': m.retransmissions = value; break;
      case 'clicktocall_internal_errors_total': {
        m.internalErrors += value;
        if (value > 0) {
          const where = /where="([^"]*)"/.exec(labels)?.[1] ?? '';
          m.internalErrorsWhere[where] = (m.internalErrorsWhere[where] ?? 0) + value;
        }
        break;
      }
      case 'clicktocall_nodejs_heap_size_used_bytes': m.heapUsedBytes = value; break;
      case 'clicktocall_nodejs_heap_size_total_bytes': m.heapTotalBytes = value; break;
      case 'clicktocall_process_resident_memory_bytes': m.rssBytes = value; break;
      case 'clicktocall_nodejs_eventloop_lag_p99_seconds': m.loopDelayP99Ms = loopDelayMs(value); break;
      case 'clicktocall_nodejs_eventloop_lag_max_seconds': m.loopDelayMaxMs = loopDelayMs(value); break;
      case 'clicktocall_sip_messages_total':
        if (labels.includes('direction="in"')) m.sipMessagesIn += value;
        else if (labels.includes('direction="out"')) m.sipMessagesOut += value;
        break;
      case 'clicktocall_nodejs_gc_duration_seconds_count': gcOf(labels).count = value; break;
      case 'clicktocall_nodejs_gc_duration_seconds_sum': gcOf(labels).totalMs = value * 1000; break;
      case 'clicktocall_nodejs_gc_duration_seconds_bucket': {
        // Servers with prom-client's default buckets have no 2-ms bound: over2ms stays 0 for them.
        if (labels.includes('le="0.002"')) gcUpTo2.set(gcKind(labels), value);
        else if (labels.includes('le="0.01"')) gcUpTo10.set(gcKind(labels), value);
        break;
      }
      case 'clicktocall_setup_invite_seconds_count': (m.setupInvite ??= emptyHistogram()).count += value; break;
      case 'clicktocall_setup_invite_seconds_sum': (m.setupInvite ??= emptyHistogram()).sumSeconds += value; break;
      case 'clicktocall_setup_invite_seconds_bucket': {
        const le = /le="([^"]*)"/.exec(labels)?.[1];
        if (le === undefined) break;
        const bound = le === '+Inf' ? Infinity : Number(le);
        const h = (m.setupInvite ??= emptyHistogram());
        const bucket = h.buckets.find((x) => x.le === bound);
        if (bucket) bucket.n += value; // the same bound of another trigger
        else h.buckets.push({ le: bound, n: value });
        break;
      }
      case 'clicktocall_calls_ended_total': {
        const o = /outcome="([^"]*)"/.exec(labels)?.[1] ?? '';
        m.callsEnded[o] = (m.callsEnded[o] ?? 0) + value;
        break;
      }
    }
  }
  m.setupInvite?.buckets.sort((a, b) => a.le - b.le);
  for (const [kind, p] of Object.entries(m.gc)) {
    const upTo2 = gcUpTo2.get(kind);
    const upTo10 = gcUpTo10.get(kind);
    if (upTo2 !== undefined) p.over2ms = p.count - upTo2;
    if (upTo10 !== undefined) p.over10ms = p.count - upTo10;
  }
  return m;
}

function emptyHistogram(): Histogram {
  return { count: 0, sumSeconds: 0, buckets: [] };
}

function gcKind(labels: string): string {
  return /kind="([^"]*)"/.exec(labels)?.[1] ?? '';
}
