/**
 * SIP fuzz target over a real UDP socket: the same inputs as the in-process target (mutated
 * seeds and grammar output) sent as datagrams to a listening endpoint, in bursts that wait for
 * the server to have read them (loopback drops nothing then). Answerable malformed requests
 * must get their 400 on the wire; too-large datagrams are dropped and counted by the transport.
 */
import { createSocket } from 'node:dgram';
import { startSipEndpoint } from '../../../src/sip/stack/index.js';
import { CountingTimers } from '../../../src/sip/timer.js';
import { FakeClock } from '../../support/fake-clock.js';
import { sipSeeds } from '../sip-corpus.js';
import { generateSip, type GeneratedSip } from '../sip-grammar.js';
import { mutate, rng } from '../sip-mutations.js';
import { addFinding, memoryFinding, settledHeap, statusAndCallId, type FuzzReport, type RunOptions } from './report.js';

const BURST = 50;
/** Largest datagram the client can send over IPv4. */
const MAX_DATAGRAM = 65_507;

export async function runSipDatagrams(opts: RunOptions): Promise<FuzzReport> {
  const start = Date.now();
  const heap0 = settledHeap();
  const report: FuzzReport = {
    target: 'sip-udp-socket', seed: opts.seed, inputs: 0, findings: [], internalErrors: 0, expected400: 0, answered400: 0,
    heapGrowthBytes: 0, rssBytes: 0, ms: 0, extra: { parseErrors: 0, answersReceived: 0, tooBig: 0 },
  };
  const clock = new FakeClock();
  const timers = new CountingTimers(clock);
  const answered = new Map<string, number>();
  const endpoint = await startSipEndpoint({
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
    timers,
    // Below the largest datagram the client can send, so the too-large drop is exercised too.
    limits: { maxMessageSize: 16_384 },
    observer: (dir, data) => {
      if (dir !== 'out') return;
      const r = statusAndCallId(data);
      if (r) answered.set(r.callId, r.status);
    },
    onEvent: (e) => {
      if (e.type === 'internal-error') {
        report.internalErrors++;
        addFinding(report.findings, { kind: 'internal-error', detail: `${e.where}: ${e.error instanceof Error ? e.error.stack : String(e.error)}` });
      } else if (e.type === 'parse-error') report.extra.parseErrors!++;
    },
    onTransportError: (e) => {
      if (e.code === 'handler-threw' || e.code === 'internal') {
        report.internalErrors++;
        addFinding(report.findings, { kind: 'internal-error', detail: `transport ${e.code}: ${e.message}` });
      }
    },
  });
  const stack = endpoint.stack;
  stack.onRequest('INVITE', (req, tx) => stack.inviteServer(req, tx).reject(403));
  const port = endpoint.bound[0]!.port;
  const client = createSocket('udp4');
  client.on('message', () => { report.extra.answersReceived!++; });
  await new Promise<void>((res) => client.bind(0, '127.0.0.1', () => res()));
  const corpus = sipSeeds();
  const r = rng(opts.seed);
  let generated: GeneratedSip[] = [];
  // Datagrams the server has handled (read is not enough: they are handled in slices after the
  // read, inbound-queue.ts), dropped as too large, or taken as keep-alives.
  const seen = () => {
    const s = endpoint.transport.stats();
    return s.messagesIn + (s.dropped['datagram-too-large'] ?? 0) + s.pingsIn;
  };

  while (report.inputs < opts.messages) {
    const before = seen();
    let sent = 0;
    const expects: GeneratedSip[] = [];
    for (let k = 0; k < BURST && report.inputs < opts.messages; k++) {
      let data: Buffer;
      if (r() < 0.6) data = mutate(corpus[Math.floor(r() * corpus.length)]!, r);
      else {
        if (generated.length === 0) generated = generateSip((opts.seed + report.inputs) | 0, 1000).reverse();
        const g = generated.pop()!;
        data = g.data;
        if (g.expect !== undefined) expects.push(g);
      }
      report.inputs++;
      if (data.length > MAX_DATAGRAM || data.length === 0) { report.extra.tooBig!++; continue; }
      client.send(data, port, '127.0.0.1');
      sent++;
    }
    // Wait (bounded) until the server has handled the burst.
    const end = Date.now() + 2000;
    while (seen() - before < sent && Date.now() < end) await new Promise((res) => setImmediate(res));
    for (const g of expects) {
      report.expected400++;
      const status = answered.get(g.callId);
      if (status === g.expect) report.answered400++;
      else addFinding(report.findings, { kind: 'no-400', detail: `answerable malformed request got ${status ?? 'nothing'}`, input: g.data, index: report.inputs });
    }
    answered.clear();
    if (report.inputs % 1000 < BURST) {
      clock.advance(40_000);
      opts.onProgress?.(report.inputs);
    }
  }
  clock.advance(120_000);
  clock.advance(120_000);
  const counts = stack.counts();
  if (counts.transactions + counts.dialogs + counts.inviteServers + counts.pendingRefers > 0 || timers.armed > 0) {
    addFinding(report.findings, { kind: 'stuck', detail: `after the run: ${JSON.stringify(counts)}, ${timers.armed} timers armed` });
  }
  report.extra.droppedTooLarge = endpoint.transport.stats().dropped['datagram-too-large'] ?? 0;
  client.close();
  await endpoint.close();
  report.heapGrowthBytes = settledHeap() - heap0;
  report.rssBytes = process.memoryUsage().rss;
  report.ms = Date.now() - start;
  memoryFinding(report, opts.maxHeapGrowthBytes ?? 128 * 2 ** 20);
  return report;
}
