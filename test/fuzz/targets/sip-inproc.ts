/**
 * SIP fuzz target without sockets: each input goes straight into `SipStack.receive` as a UDP
 * datagram (80 %) or a framed TCP message, the path every transport ends in. Inputs alternate
 * between mutated seeds (RFC 4475/5118 and recorded traffic) and fast-check grammar output.
 * Time is a fake clock, so every transaction's timers run out within the run.
 */
import { SipStack } from '../../../src/sip/stack/index.js';
import { CountingTimers } from '../../../src/sip/timer.js';
import { FakeClock } from '../../support/fake-clock.js';
import { sipSeeds } from '../sip-corpus.js';
import { generateSip, type GeneratedSip } from '../sip-grammar.js';
import { mutate, rng } from '../sip-mutations.js';
import { addFinding, memoryFinding, settledHeap, statusAndCallId, type FuzzReport, type RunOptions } from './report.js';

const BATCH = 1000;
/** Every this many inputs: let all timers run out and check that nothing is left. */
const CHECKPOINT = 100_000;

export function runSipInProcess(opts: RunOptions): FuzzReport {
  const start = Date.now();
  const heap0 = settledHeap();
  const report: FuzzReport = {
    target: 'sip-udp', seed: opts.seed, inputs: 0, findings: [], internalErrors: 0, expected400: 0, answered400: 0,
    heapGrowthBytes: 0, rssBytes: 0, ms: 0, extra: { parseErrors: 0, answeredParseErrors: 0, sent: 0 },
  };
  const clock = new FakeClock();
  const timers = new CountingTimers(clock);
  let current: { data: Buffer; index: number } | undefined;
  const expecting = new Map<string, number>();
  const stack = new SipStack({
    transport: {
      send: (_d, _t, cb) => { report.extra.sent!++; cb?.(); },
      local: (t) => ({ address: '127.0.0.1', port: t === 'udp' ? 5072 : 5073 }),
    },
    timers,
    maxHeaders: 200,
    observer: (dir, data) => {
      if (dir !== 'out' || expecting.size === 0) return;
      const r = statusAndCallId(data);
      const want = r && expecting.get(r.callId);
      if (want === undefined) return;
      expecting.delete(r!.callId);
      if (r!.status === want) report.answered400++;
      else addFinding(report.findings, { kind: 'no-400', detail: `answered ${r!.status}, expected ${want}`, input: current?.data, index: current?.index });
    },
    onEvent: (e) => {
      if (e.type === 'internal-error') {
        report.internalErrors++;
        addFinding(report.findings, { kind: 'internal-error', detail: `${e.where}: ${e.error instanceof Error ? e.error.stack : String(e.error)}`, input: current?.data, index: current?.index });
      } else if (e.type === 'parse-error') {
        report.extra.parseErrors!++;
        if (e.answered) report.extra.answeredParseErrors!++;
      }
    },
  });
  // INVITEs get 403 from this handler (a transaction that completes); others the stack's defaults.
  stack.onRequest('INVITE', (req, tx) => stack.inviteServer(req, tx).reject(403));
  const corpus = sipSeeds();
  const r = rng(opts.seed);
  let generated: GeneratedSip[] = [];

  const checkpoint = (at: number) => {
    clock.advance(120_000);
    clock.advance(120_000);
    const counts = stack.counts();
    const left = counts.transactions + counts.dialogs + counts.inviteServers + counts.pendingRefers;
    if (left > 0 || timers.armed > 0) {
      addFinding(report.findings, { kind: 'stuck', detail: `after input ${at}: ${JSON.stringify(counts)}, ${timers.armed} timers armed (replay with this seed up to ${at})` });
    }
  };

  for (let i = 0; i < opts.messages; i++) {
    let data: Buffer;
    let expect: GeneratedSip | undefined;
    if (r() < 0.6) {
      data = mutate(corpus[Math.floor(r() * corpus.length)]!, r);
    } else {
      if (generated.length === 0) generated = generateSip((opts.seed + i) | 0, BATCH).reverse();
      const g = generated.pop()!;
      data = g.data;
      if (g.expect !== undefined) expect = g;
    }
    const transport = r() < 0.8 ? 'udp' : 'tcp';
    if (expect) {
      report.expected400++;
      expecting.set(expect.callId, expect.expect!);
    }
    current = { data, index: i };
    try {
      stack.receive({
        data, transport, remote: { address: '127.0.0.1', port: 5080 + (i % 7) }, local: { address: '127.0.0.1', port: 5072 },
        connectionId: transport === 'tcp' ? 1 : undefined,
      });
    } catch (err) {
      addFinding(report.findings, { kind: 'throw', detail: err instanceof Error ? err.stack ?? err.message : String(err), input: data, index: i });
    }
    if (expect && expecting.delete(expect.callId)) {
      addFinding(report.findings, { kind: 'no-400', detail: 'an answerable malformed request got no answer', input: data, index: i });
    }
    report.inputs++;
    if (i % BATCH === BATCH - 1) {
      clock.advance(40_000); // wait states run out as time passes
      opts.onProgress?.(report.inputs);
    }
    if (i % CHECKPOINT === CHECKPOINT - 1) checkpoint(i);
  }
  checkpoint(opts.messages);
  stack.close();
  report.heapGrowthBytes = settledHeap() - heap0;
  report.rssBytes = process.memoryUsage().rss;
  report.ms = Date.now() - start;
  memoryFinding(report, opts.maxHeapGrowthBytes ?? 128 * 2 ** 20);
  return report;
}
