/**
 * XML interface fuzz target: real XmlServer on 127.0.0.1, one TCP connection per round. A round
 * writes a stream of documents in random pieces, then a probe request, and waits until the probe
 * gets its final result or the server closes the connection (bounded: never stuck). A "clean"
 * round (good requests and complete-but-invalid documents) must get one answer per document: a
 * final for each request, a 400 for each invalid one. Chaos rounds add mutated documents, the
 * attacks (billion laughs, external entities, huge, deep, garbage): answered or closed. Also a
 * round of thousands of pipelined requests on one connection. External entities must never be
 * fetched (a listener counts connections), the server must still answer afterwards, and its
 * internal-error counter stays 0.
 */
import { connect, createServer, type Socket } from 'node:net';
import { XmlServer } from '../../../src/api/xml/server.js';
import type { XmlRequestHandler } from '../../../src/api/xml/types.js';
import { answerable400, billionLaughs, externalEntity, garbage, goodRequest, mutateXml, rng } from '../xml-mutations.js';
import { addFinding, memoryFinding, settledHeap, type FuzzReport, type RunOptions } from './report.js';

const IDLE_TIMEOUT_MS = 300;
const ROUND_LIMIT_MS = 3000;
const LANES = 8;
const PIPELINED = 2000;

/** Answers like the engine would, one step per turn: 100, 200 Initiator, 200 Destination. */
const handler: XmlRequestHandler = {
  submit(req, sink) {
    const steps = [
      () => sink.result({ code: 100, text: 'In progress', translatedInitiator: req.initiator, translatedDestination: req.destination }),
      () => sink.result({ code: 200, leg: 'Initiator', text: 'Connected to initiator' }),
      () => sink.result({ code: 200, leg: 'Destination', text: 'Connected to destination' }),
    ];
    const next = () => { steps.shift()?.(); if (steps.length) setImmediate(next); };
    setImmediate(next);
  },
};

interface Answers {
  /** Destination → final code received. */
  finals: Map<string, number>;
  /** Answers with code 400, 503. */
  code400: number;
  code503: number;
}

/** Reads a response stream: every `</Response>` closes one answer. */
function readAnswers(text: string): Answers {
  const a: Answers = { finals: new Map(), code400: 0, code503: 0 };
  let from = 0;
  for (let end = text.indexOf('</Response>'); end >= 0; end = text.indexOf('</Response>', from)) {
    const piece = text.slice(from, end);
    from = end + 11;
    const result = /<Result Code="(\d+)"(?: Leg="(\w+)")?/.exec(piece);
    if (!result) continue;
    const code = Number(result[1]);
    if (code === 400) a.code400++;
    if (code === 503) a.code503++;
    const dest = /<Destination>([^<]*)<\/Destination>/.exec(piece);
    if (dest && (code >= 300 || (code === 200 && result[2] === 'Destination'))) a.finals.set(dest[1]!, code);
  }
  return a;
}

export async function runXml(opts: RunOptions): Promise<FuzzReport> {
  const start = Date.now();
  const heap0 = settledHeap();
  const report: FuzzReport = {
    target: 'xml', seed: opts.seed, inputs: 0, findings: [], internalErrors: 0, expected400: 0, answered400: 0,
    heapGrowthBytes: 0, rssBytes: 0, ms: 0, extra: { rounds: 0, cleanRounds: 0, cleanTimedOut: 0, closedByServer: 0, entityFetches: 0 },
  };
  // Where an external entity would be fetched from: any connection here is a finding.
  const trap = createServer((s) => { report.extra.entityFetches!++; s.destroy(); });
  await new Promise<void>((res) => trap.listen(0, '127.0.0.1', res));
  const trapPort = (trap.address() as { port: number }).port;
  /** Client ports whose connection the server closed as idle (a writer slowed by a loaded machine). */
  const idleClosed = new Set<number>();
  const quiet = () => {};
  const server = new XmlServer({
    hosts: ['127.0.0.1'], port: 0, idleTimeoutMs: IDLE_TIMEOUT_MS, closeGraceMs: 200, maxConnections: 1000,
    logger: {
      debug: (o, msg) => { if (msg === 'xml connection idle: closed') idleClosed.add((o as { client: { port: number } }).client.port); },
      info: quiet, warn: quiet, error: quiet,
    },
    onInternalError: (err) => addFinding(report.findings, { kind: 'internal-error', detail: err instanceof Error ? err.stack ?? err.message : String(err) }),
  }, handler);
  const [bound] = await server.listen();
  const port = bound!.port;

  const open = () => new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });

  /** Writes `stream` in random pieces, then waits for `probe`'s final or the close. */
  const exchange = async (r: () => number, stream: Buffer, probe: string | undefined, limitMs = ROUND_LIMIT_MS): Promise<{ how: string; text: string }> => {
    const socket = await open();
    socket.on('error', () => {});
    const localPort = socket.localPort ?? -1;
    let text = '';
    socket.setEncoding('latin1');
    const how = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('stuck'), limitMs);
      const finish = (h: string) => { clearTimeout(timer); resolve(h); };
      socket.on('data', (d: string) => {
        text += d;
        if (probe !== undefined && text.includes(`<Destination>${probe}</Destination>`) && readAnswers(text).finals.has(probe)) finish('answered');
      });
      socket.once('close', () => finish('closed'));
      void (async () => {
        let at = 0;
        while (at < stream.length && !socket.destroyed) {
          const size = 1 + Math.floor(r() * (r() < 0.3 ? 8 : 8192));
          socket.write(stream.subarray(at, at + size));
          at += size;
          if (r() < 0.1) await new Promise((res) => setImmediate(res));
        }
      })();
    });
    socket.destroy();
    const idle = idleClosed.delete(localPort);
    return { how: how === 'closed' && idle ? 'idle-closed' : how, text };
  };

  const round = async (r: () => number, id: string, index: number): Promise<number> => {
    const kind = r();
    const docs: Buffer[] = [];
    const probe = `probe-${id}`;
    if (kind < 0.4) {
      // Clean: good requests and complete invalid documents, every one answered.
      const good: string[] = [];
      let bad = 0;
      const n = 1 + Math.floor(r() * 10);
      for (let k = 0; k < n; k++) {
        if (r() < 0.5) { const d = `d-${id}-${k}`; good.push(d); docs.push(Buffer.from(goodRequest(d))); } else { bad++; docs.push(Buffer.from(answerable400(r))); }
      }
      docs.push(Buffer.from(goodRequest(probe)));
      const stream = Buffer.concat(docs);
      const { how, text } = await exchange(r, stream, probe);
      if (how === 'idle-closed') {
        // Written slower than the short fuzz idle timeout: the server was right to close it.
        report.extra.cleanTimedOut!++;
        return n;
      }
      const a = readAnswers(text);
      report.extra.cleanRounds!++;
      report.expected400 += bad;
      report.answered400 += Math.min(bad, a.code400);
      if (how !== 'answered') addFinding(report.findings, { kind: how === 'stuck' ? 'stuck' : 'unanswered', detail: `clean round: ${how}`, input: stream, index });
      else {
        if (a.code400 !== bad) addFinding(report.findings, { kind: 'no-400', detail: `${bad} invalid documents, ${a.code400} answers 400`, input: stream, index });
        const missing = good.filter((d) => a.finals.get(d) !== 200);
        if (missing.length) addFinding(report.findings, { kind: 'unanswered', detail: `no final for ${missing.join(', ')}`, input: stream, index });
      }
      return n;
    }
    if (kind < 0.42) {
      // Thousands of requests pipelined on one connection: each gets a final or a 503.
      const parts: string[] = [];
      for (let k = 0; k < PIPELINED; k++) parts.push(goodRequest(`p-${id}-${k}`));
      const stream = Buffer.from(parts.join('') + goodRequest(probe));
      // The probe may itself get 503 when the connection is full: wait for every answer instead.
      const socketText = await exchangeAll(stream, PIPELINED + 1);
      const a = readAnswers(socketText.text);
      const answered = [...Array(PIPELINED).keys()].filter((k) => a.finals.has(`p-${id}-${k}`)).length;
      if (socketText.how !== 'answered' || answered + a.code503 < PIPELINED) {
        addFinding(report.findings, { kind: 'unanswered', detail: `${PIPELINED} pipelined requests: ${answered} finals, ${a.code503} × 503 (${socketText.how})`, index });
      }
      return PIPELINED;
    }
    // Chaos.
    const n = 1 + Math.floor(r() * 8);
    for (let k = 0; k < n; k++) {
      const c = r();
      if (c < 0.55) docs.push(mutateXml(goodRequest(`m-${id}-${k}`), r));
      else if (c < 0.65) docs.push(garbage(r));
      else if (c < 0.72) docs.push(Buffer.from(billionLaughs()));
      else if (c < 0.79) docs.push(Buffer.from(externalEntity(r() < 0.5 ? 'file' : 'http', trapPort)));
      else if (c < 0.84) docs.push(Buffer.from(`<ClickToCall><Request><Initiator>${'a'.repeat(70_000 + Math.floor(r() * 50_000))}</Initiator></Request></ClickToCall>`));
      else if (c < 0.89) docs.push(Buffer.from('<a>'.repeat(20_000)));
      else docs.push(Buffer.from(answerable400(r)));
    }
    docs.push(Buffer.from(goodRequest(probe)));
    const stream = Buffer.concat(docs);
    const { how, text } = await exchange(r, stream, probe);
    if (how === 'closed' || how === 'idle-closed') report.extra.closedByServer!++;
    if (how === 'stuck') addFinding(report.findings, { kind: 'stuck', detail: 'neither the probe answered nor the connection closed', input: stream, index });
    if (text.includes('root:')) addFinding(report.findings, { kind: 'internal-error', detail: 'an external entity was resolved (file content in an answer)', input: stream, index });
    return n;
  };

  /** Writes everything at once and waits for `answers` answers (or the close). */
  const exchangeAll = async (stream: Buffer, answers: number): Promise<{ how: string; text: string }> => {
    const socket = await open();
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    let text = '';
    let seen = 0;
    const how = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('stuck'), 20_000);
      socket.on('data', (d: string) => {
        for (let k = d.indexOf('</Response>'); k >= 0; k = d.indexOf('</Response>', k + 1)) seen++;
        text += d;
        // Every request gets at least one answer; the run waits until the finals are in.
        if (seen >= answers && readAnswers(text).finals.size + readAnswers(text).code503 >= answers) { clearTimeout(timer); resolve('answered'); }
      });
      socket.once('close', () => { clearTimeout(timer); resolve('closed'); });
      socket.write(stream);
    });
    socket.destroy();
    return { how, text };
  };

  let next = 0;
  let lastProgress = 0;
  const lane = async (n: number) => {
    const r = rng((opts.seed * 31 + n) | 0);
    while (report.inputs < opts.messages) {
      const index = next++;
      const sent = await round(r, `${n}-${index}`, index);
      report.inputs += sent;
      report.extra.rounds!++;
      if (report.inputs - lastProgress >= 500) { lastProgress = report.inputs; opts.onProgress?.(report.inputs); }
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));

  // Still serving: a good request on a fresh connection gets its final.
  const alive = await exchange(rng(1), Buffer.from(goodRequest('alive')), 'alive');
  if (alive.how !== 'answered') addFinding(report.findings, { kind: 'dead-server', detail: `a good request after the run: ${alive.how}` });
  const deadline = Date.now() + 3000;
  while (server.counters.connections > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  report.extra.connectionsLeft = server.counters.connections;
  if (server.counters.connections > 0) addFinding(report.findings, { kind: 'stuck', detail: `${server.counters.connections} connections still open after every client closed` });
  report.internalErrors = server.counters.internalErrors;
  if (report.extra.entityFetches! > 0) addFinding(report.findings, { kind: 'internal-error', detail: `an external entity was fetched ${report.extra.entityFetches} times` });
  report.extra.documents = server.counters.documents;
  report.extra.errors = server.counters.errors;
  await server.close();
  await new Promise<void>((res) => trap.close(() => res()));
  report.heapGrowthBytes = settledHeap() - heap0;
  report.rssBytes = process.memoryUsage().rss;
  report.ms = Date.now() - start;
  memoryFinding(report, opts.maxHeapGrowthBytes ?? 128 * 2 ** 20);
  return report;
}
