/**
 * SIP fuzz target over real TCP or TLS connections. Each round opens a connection, writes a
 * batch of messages cut into random pieces, then a probe OPTIONS, and waits until the server
 * answers the probe or closes the connection (bounded: never a stuck connection). A "clean"
 * batch (grammar output with right Content-Lengths) must keep the framer in step: its probe is
 * answered and its answerable malformed requests get 400. A "chaos" batch mixes mutated seeds,
 * bad Content-Lengths, CRLF floods and oversize messages: answered or closed is all we ask.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startSipEndpoint } from '../../../src/sip/stack/index.js';
import { CountingTimers } from '../../../src/sip/timer.js';
import { FakeClock } from '../../support/fake-clock.js';
import { sipSeeds } from '../sip-corpus.js';
import { generateSip, type GeneratedSip } from '../sip-grammar.js';
import { mutate, rng } from '../sip-mutations.js';
import { selfSignedCert } from './tls-cert.js';
import { addFinding, memoryFinding, settledHeap, statusAndCallId, type FuzzReport, type RunOptions } from './report.js';

/** Server-side read timeout: a message that never completes closes its connection this fast. */
const READ_TIMEOUT_MS = 150;
/** Server-side idle timeout: a connection whose last message swallowed the probe as its body goes quiet, then closed. */
const IDLE_TIMEOUT_MS = 250;
/** How long a round may wait for the probe's answer or the close. */
const ROUND_LIMIT_MS = 2000;
const LANES = 16;

function probe(id: string, transport: 'tcp' | 'tls'): Buffer {
  return Buffer.from([
    'OPTIONS sip:fuzz@127.0.0.1 SIP/2.0', `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:5999;branch=z9hG4bK${id}`,
    'From: <sip:probe@127.0.0.1>;tag=p', 'To: <sip:fuzz@127.0.0.1>', `Call-ID: ${id}`, 'CSeq: 1 OPTIONS', 'Max-Forwards: 70',
    'Content-Length: 0', '', ''].join('\r\n'));
}

export async function runSipStream(transport: 'tcp' | 'tls', opts: RunOptions): Promise<FuzzReport> {
  const start = Date.now();
  const heap0 = settledHeap();
  const report: FuzzReport = {
    target: `sip-${transport}`, seed: opts.seed, inputs: 0, findings: [], internalErrors: 0, expected400: 0, answered400: 0,
    heapGrowthBytes: 0, rssBytes: 0, ms: 0, extra: { rounds: 0, cleanRounds: 0, cleanTimedOut: 0, probesAnswered: 0, closedByServer: 0, parseErrors: 0 },
  };
  const clock = new FakeClock();
  const timers = new CountingTimers(clock);
  /** Call-ID → what the round waits for: the status wanted and a callback. */
  const waiting = new Map<string, { want: number; done: (status: number) => void }>();
  const tls = transport === 'tls' ? selfSignedCert() : undefined;
  /** Client ports whose connection the server closed on a read or idle timeout. */
  const timedOut = new Set<number>();
  const endpoint = await startSipEndpoint({
    listeners: [{ transport, address: '127.0.0.1', port: 0 }],
    tls,
    timers,
    limits: { readTimeoutMs: READ_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS, maxConnectionsPerSource: 64, keepAliveIntervalMs: 0 },
    observer: (dir, data) => {
      if (dir !== 'out' || waiting.size === 0) return;
      const r = statusAndCallId(data);
      const w = r && waiting.get(r.callId);
      if (!w) return;
      waiting.delete(r!.callId);
      w.done(r!.status);
    },
    onEvent: (e) => {
      if (e.type === 'internal-error') {
        report.internalErrors++;
        addFinding(report.findings, { kind: 'internal-error', detail: `${e.where}: ${e.error instanceof Error ? e.error.stack : String(e.error)}` });
      } else if (e.type === 'parse-error') report.extra.parseErrors!++;
    },
    onTransportError: (e) => {
      if ((e.code === 'read-timeout' || e.code === 'idle-timeout') && e.remote) timedOut.add(e.remote.port);
      if (e.code === 'handler-threw' || e.code === 'internal') {
        report.internalErrors++;
        addFinding(report.findings, { kind: 'internal-error', detail: `transport ${e.code}: ${e.message}` });
      }
    },
  });
  const stack = endpoint.stack;
  stack.onRequest('INVITE', (req, tx) => stack.inviteServer(req, tx).reject(403));
  const port = endpoint.bound[0]!.port;
  const corpus = sipSeeds();

  const open = (): Promise<Socket> => new Promise((resolve, reject) => {
    const s: Socket = transport === 'tls'
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s))
      : tcpConnect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });

  /** One round on lane `lane`: returns the inputs it sent. */
  const round = async (r: () => number, id: string, index: number): Promise<number> => {
    const clean = r() < 0.5;
    const count = 1 + Math.floor(r() * 12);
    const pieces: Buffer[] = [];
    const expects: GeneratedSip[] = [];
    let pool = generateSip(Math.floor(r() * 2 ** 31), count * 2).filter((g) => !clean || g.framed);
    for (let k = 0; k < count; k++) {
      const choice = r();
      if (clean || choice < 0.5) {
        if (pool.length === 0) pool = generateSip(Math.floor(r() * 2 ** 31), count * 2).filter((g) => !clean || g.framed);
        const g = pool.pop();
        if (!g) continue;
        pieces.push(g.data);
        if (clean && g.expect !== undefined) expects.push(g);
      } else if (choice < 0.85) {
        pieces.push(mutate(corpus[Math.floor(r() * corpus.length)]!, r));
      } else if (choice < 0.95) {
        pieces.push(Buffer.from('\r\n'.repeat(1 + Math.floor(r() * 5000)))); // CRLF flood (keep-alives gone wild)
      } else {
        pieces.push(Buffer.alloc(70_000 + Math.floor(r() * 100_000), 'A')); // beyond the message size limit
      }
    }
    pieces.push(probe(id, transport));
    const stream = Buffer.concat(pieces);
    let socket: Socket;
    try {
      socket = await open();
    } catch (err) {
      addFinding(report.findings, { kind: 'dead-server', detail: `connect failed: ${String(err)}`, index });
      return pieces.length - 1;
    }
    socket.on('error', () => {});
    socket.resume();
    const localPort = socket.localPort ?? -1;
    const outcome = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('stuck'), ROUND_LIMIT_MS);
      const finish = (how: string) => { clearTimeout(timer); resolve(how); };
      waiting.set(id, { want: 200, done: (status) => finish(`probe ${status}`) });
      socket.once('close', () => finish('closed'));
    });
    const statuses = new Map<string, number>();
    for (const g of expects) {
      waiting.set(g.callId, { want: 400, done: (status) => statuses.set(g.callId, status) });
    }
    // Random cuts: a message may arrive in many pieces, several in one.
    let at = 0;
    while (at < stream.length && !socket.destroyed) {
      const size = 1 + Math.floor(r() * (r() < 0.3 ? 16 : 4096));
      socket.write(stream.subarray(at, at + size));
      at += size;
      if (r() < 0.1) await new Promise((res) => setImmediate(res));
    }
    const how = await outcome;
    waiting.delete(id);
    for (const g of expects) waiting.delete(g.callId);
    if (how === 'closed') report.extra.closedByServer!++;
    else if (how.startsWith('probe')) report.extra.probesAnswered!++;
    if (how === 'stuck') {
      addFinding(report.findings, { kind: 'stuck', detail: `neither the probe was answered nor the connection closed within ${ROUND_LIMIT_MS} ms`, input: stream, index });
    } else if (clean && how === 'closed' && timedOut.has(localPort)) {
      // A clean batch written slower than the short fuzz timeouts (a loaded machine): the server
      // was right to close it; not a finding, but counted so a run can bound it.
      report.extra.cleanTimedOut!++;
    } else if (clean) {
      report.extra.cleanRounds!++;
      if (how !== 'probe 200') addFinding(report.findings, { kind: 'unanswered', detail: `clean batch: ${how} instead of the probe's 200`, input: stream, index });
      for (const g of expects) {
        report.expected400++;
        const status = statuses.get(g.callId);
        if (status === 400) report.answered400++;
        else addFinding(report.findings, { kind: 'no-400', detail: `answerable malformed request got ${status ?? 'nothing'}`, input: g.data, index });
      }
    }
    timedOut.delete(localPort);
    socket.destroy();
    return pieces.length - 1;
  };

  const probeAlive = async (): Promise<string> => {
    const socket = await open().catch(() => undefined);
    if (!socket) return 'connect failed';
    socket.on('error', () => {});
    socket.resume();
    const how = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no answer'), ROUND_LIMIT_MS);
      waiting.set('probe-final', { want: 200, done: (status) => { clearTimeout(timer); resolve(`probe ${status}`); } });
      socket.write(probe('probe-final', transport));
    });
    socket.destroy();
    return how;
  };

  let next = 0;
  let lastProgress = 0;
  const lane = async (n: number) => {
    const r = rng((opts.seed * 31 + n) | 0);
    while (report.inputs < opts.messages) {
      const index = next++;
      const sent = await round(r, `probe-${n}-${index}`, index);
      report.inputs += sent;
      report.extra.rounds!++;
      if (report.inputs - lastProgress >= 1000) {
        lastProgress = report.inputs;
        clock.advance(40_000);
        opts.onProgress?.(report.inputs);
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));

  // The server still answers a good request on a fresh connection.
  const alive = await probeAlive();
  if (alive !== 'probe 200') addFinding(report.findings, { kind: 'dead-server', detail: `a good request after the run: ${alive}` });
  // Every timer runs out; nothing may be left; connections close with their clients.
  clock.advance(120_000);
  clock.advance(120_000);
  const counts = stack.counts();
  if (counts.transactions + counts.dialogs + counts.inviteServers + counts.pendingRefers > 0 || timers.armed > 0) {
    addFinding(report.findings, { kind: 'stuck', detail: `after the run: ${JSON.stringify(counts)}, ${timers.armed} timers armed` });
  }
  const deadline = Date.now() + 2000;
  while (endpoint.transport.stats().connections !== 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  report.extra.connectionsLeft = endpoint.transport.stats().connections;
  if (report.extra.connectionsLeft !== 0) addFinding(report.findings, { kind: 'stuck', detail: `${report.extra.connectionsLeft} connections left open after every client closed` });
  await endpoint.close();
  report.heapGrowthBytes = settledHeap() - heap0;
  report.rssBytes = process.memoryUsage().rss;
  report.ms = Date.now() - start;
  memoryFinding(report, opts.maxHeapGrowthBytes ?? 128 * 2 ** 20);
  return report;
}
