/**
 * The few server counters the bench reads from `GET /metrics` (Prometheus text, src/metrics):
 * calls, transactions and dialogs alive, SIP messages in and out, retransmissions, internal
 * errors, heap and RSS. A counter the server does not export reads as undefined, not 0.
 */
export interface ServerMetrics {
  callsActive?: number;
  transactions?: number;
  dialogs?: number;
  sipMessagesIn: number;
  sipMessagesOut: number;
  retransmissions?: number;
  internalErrors: number;
  heapUsedBytes?: number;
  /** Timers armed in the server (absent from servers before this gauge). */
  timers?: number;
  heapTotalBytes?: number;
  rssBytes?: number;
  /**
   * Event-loop delay since the previous scrape (prom-client resets its histogram on each
   * collect), ms: p99 and max. Shows whether a latency tail is the server's own stall.
   */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  /** Calls ended, by outcome (connected/completed/failed/refused). */
  callsEnded: Record<string, number>;
}

export function parseMetrics(text: string): ServerMetrics {
  const m: ServerMetrics = { sipMessagesIn: 0, sipMessagesOut: 0, internalErrors: 0, callsEnded: {} };
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
      case 'clicktocall_internal_errors_total': m.internalErrors += value; break;
      case 'clicktocall_nodejs_heap_size_used_bytes': m.heapUsedBytes = value; break;
      case 'clicktocall_nodejs_heap_size_total_bytes': m.heapTotalBytes = value; break;
      case 'clicktocall_process_resident_memory_bytes': m.rssBytes = value; break;
      case 'clicktocall_nodejs_eventloop_lag_p99_seconds': m.loopDelayP99Ms = value * 1000; break;
      case 'clicktocall_nodejs_eventloop_lag_max_seconds': m.loopDelayMaxMs = value * 1000; break;
      case 'clicktocall_sip_messages_total':
        if (labels.includes('direction="in"')) m.sipMessagesIn += value;
        else if (labels.includes('direction="out"')) m.sipMessagesOut += value;
        break;
      case 'clicktocall_calls_ended_total': {
        const o = /outcome="([^"]*)"/.exec(labels)?.[1] ?? '';
        m.callsEnded[o] = (m.callsEnded[o] ?? 0) + value;
        break;
      }
    }
  }
  return m;
}
