/**
 * HTTP and REST fuzz target. Volume goes through Fastify's `inject()` (the whole application
 * without sockets): mutated queries of the legacy trigger, REST routes with mutated JSON bodies,
 * headers and query strings. Nothing may answer 5xx or count an internal error; a POST with
 * valid credentials and a broken JSON body must get 400. A few raw-socket cases follow (bad
 * request lines, bad Content-Length, header floods, oversized bodies, a slowloris client): each
 * gets a 4xx or is closed, within a bound.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { createHttpServer } from '../../../src/api/http/server.js';
import { realTimers } from '../../../src/sip/timer.js';
import { SqliteCallStore } from '../../../src/store/sqlite-store.js';
import type { LegacyCallHandler } from '../../../src/api/http/types.js';
import { auth, restFixture } from '../../support/rest-fixture.js';
import { rng } from '../sip-mutations.js';
import { addFinding, memoryFinding, settledHeap, type FuzzReport, type RunOptions } from './report.js';

const BATCH = 500;

const legacyHandler: LegacyCallHandler = {
  submit: (request) => ({
    ok: true, callId: 'c1', translatedInitiator: `sip:${request.initiator}@example.com`,
    translatedDestination: `sip:${request.destination}@example.com`, mode: 'refer',
  }),
};

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', '%', '%zz', '%00', '%C3%28', '..%2F..%2Fetc', 'sip:a@b', '1001', '\u0000', '\uD800'));
/** Percent-encoded, or raw bad escapes as a careless client writes them. */
const queryValue = fc.oneof(
  text.map((v) => { try { return encodeURIComponent(v); } catch { return '%ED%A0%80'; } }),
  fc.constantFrom('%', '%zz', '%00', '%C3%28', '%ED%A0%80', '+', '&&', '==', 'a'.repeat(5000)),
);
const queryPart = fc.tuple(fc.constantFrom('initiator', 'destination', 'anchor', 'mode', 'state', 'limit', 'cursor', 'since', 'until', 'x', ''), queryValue)
  .map(([k, v]) => `${k}=${v}`);
const query = fc.array(queryPart, { maxLength: 8 }).map((q) => q.join('&'));
const path = fc.constantFrom(
  '/clicktocall.html', '/index.html', '/v1/calls', '/v1/calls/call-1', '/v1/calls/unknown', '/v1/records.csv', '/openapi.json',
  '/v1/calls/%00', '/v1//calls', '/V1/CALLS', '/v1/calls/' + 'x'.repeat(300), '/nothing', '/clicktocall.html/extra',
);
const callBody = fc.record({
  initiator: fc.oneof(fc.constant('1001'), text, fc.integer(), fc.constant(null)),
  destination: fc.oneof(fc.constant('2002'), text, fc.array(fc.integer(), { maxLength: 3 })),
  mode: fc.oneof(fc.constantFrom('refer', 'anchored', 'ood-refer', 'bogus'), fc.integer()),
  callerId: text, ringTimeout: fc.oneof(fc.integer(), fc.double(), text),
  metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 5 }),
  extra: fc.jsonValue({ maxDepth: 3 }),
}, { requiredKeys: [] });

interface HttpInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Answer required for this input: 400 (credentials fine, body broken JSON). */
  expect?: number;
}

/** A call request with valid credentials and a JSON body cut short: the answer must be 400. */
const brokenJson: fc.Arbitrary<HttpInput> = fc.tuple(callBody.map((b) => JSON.stringify(b)), fc.nat(), query)
  .filter(([s, n]) => !isJson(s.slice(0, Math.max(1, n % s.length))))
  .map(([s, n, q]) => ({
    method: 'POST', url: q ? `/v1/calls?${q}` : '/v1/calls', body: s.slice(0, Math.max(1, n % s.length)), expect: 400,
    headers: { host: '127.0.0.1', authorization: auth.authorization, 'content-type': 'application/json' },
  }));

const anyInput: fc.Arbitrary<HttpInput> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'),
  path, query,
  auth: fc.constantFrom('good', 'good', 'none', 'bad', 'basic', 'garbage'),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin9', ''),
  body: fc.oneof(
    callBody.map((b) => JSON.stringify(b)),
    callBody.map((b) => JSON.stringify(b)).chain((s) => fc.nat(s.length).map((n) => s.slice(0, Math.max(1, n)))), // truncated
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.nat(20_000).map((n) => '['.repeat(n)), // deep nesting
    fc.nat(20_000).map((n) => `{"initiator":"${'a'.repeat(60_000 + n)}"}`), // near and over the body limit
    fc.constant(''),
  ),
  headers: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), { maxKeys: 20 }),
  idempotency: fc.option(fc.string({ maxLength: 300 }).map((s) => s.replace(/[^\x21-\x7e]/g, 'k')), { nil: undefined }),
}).map((r) => {
  const headers: Record<string, string> = { ...r.headers, host: '127.0.0.1' };
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  if (r.auth === 'good') headers.authorization = auth.authorization;
  else if (r.auth === 'bad') headers.authorization = 'Bearer wrong-key';
  else if (r.auth === 'basic') headers.authorization = 'Basic YTpi';
  else if (r.auth === 'garbage') headers.authorization = 'Bearer \u00ff\u00fe';
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.idempotency !== undefined) headers['idempotency-key'] = r.idempotency;
  const hasBody = r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH';
  const url = r.query ? `${r.path}?${r.query}` : r.path;
  const broken = hasBody && r.body.length > 0 && r.body.length < 60_000 && !isJson(r.body);
  const expect = broken && r.method === 'POST' && r.path === '/v1/calls' && r.auth === 'good' && r.contentType.startsWith('application/json') && !r.contentType.includes('latin9') && r.idempotency === undefined
    ? 400 : undefined;
  return { method: r.method, url, headers, body: hasBody ? r.body : undefined, expect };
});

const input: fc.Arbitrary<HttpInput> = fc.oneof({ weight: 9, arbitrary: anyInput }, { weight: 1, arbitrary: brokenJson });

function isJson(s: string): boolean {
  try { JSON.parse(s); return true; } catch { return false; }
}

/** Raw-socket cases: bytes to send, and whether the client then stalls (slowloris). */
const RAW_CASES: { name: string; bytes: string; stall?: boolean }[] = [
  { name: 'garbage request line', bytes: '\u0000\u00ff GARBAGE\r\n\r\n' },
  { name: 'bad Content-Length', bytes: 'POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n{}' },
  { name: 'two Content-Lengths', bytes: 'POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}' },
  { name: 'Content-Length and chunked', bytes: 'POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'bad chunk size', bytes: 'POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n' },
  { name: 'header flood', bytes: `GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n${Array.from({ length: 5000 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n` },
  { name: 'one huge header', bytes: `GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n` },
  { name: 'oversized body', bytes: `POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"initiator":"${'a'.repeat(199_000)}` },
  { name: 'no Host', bytes: 'GET /index.html HTTP/1.1\r\n\r\n' },
  { name: 'slowloris headers', bytes: 'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', stall: true },
  { name: 'slow body', bytes: `POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`, stall: true },
];

/** Timeouts of the raw-socket server: short, so the slow-client cases end fast. */
const RAW_HEADERS_TIMEOUT_MS = 400;
const RAW_REQUEST_TIMEOUT_MS = 800;

async function rawCase(port: number, c: { bytes: string; stall?: boolean }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let got = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(`stuck (got ${JSON.stringify(got.slice(0, 40))})`); }, 5000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { got += d; });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 'closed');
    });
    socket.on('connect', () => {
      socket.write(c.bytes);
      // A slow client sends nothing more; a normal one is done writing and waits.
      if (!c.stall) socket.end();
    });
  });
}

export async function runHttp(opts: RunOptions): Promise<FuzzReport> {
  const start = Date.now();
  const heap0 = settledHeap();
  const report: FuzzReport = {
    target: 'http', seed: opts.seed, inputs: 0, findings: [], internalErrors: 0, expected400: 0, answered400: 0,
    heapGrowthBytes: 0, rssBytes: 0, ms: 0, extra: { status2xx: 0, status4xx: 0, rawCases: 0 },
  };
  // A record store in memory, so that the store routes (CSV export, lists) are fuzzed too.
  const store = new SqliteCallStore({ path: ':memory:', timers: realTimers, reportError: (err) => addFinding(report.findings, { kind: 'internal-error', detail: `store: ${String(err)}` }) });
  store.open();
  const rest = restFixture({ store });
  const legacy = createHttpServer({ hosts: ['127.0.0.1'], port: 0, headersTimeoutMs: RAW_HEADERS_TIMEOUT_MS, requestTimeoutMs: RAW_REQUEST_TIMEOUT_MS }, { legacy: { handler: legacyHandler } });
  const apps = [rest.server.app, legacy.app];
  await Promise.all(apps.map((a) => a.ready()));

  // Raw-socket cases against a listening server with short timeouts.
  const [bound] = await legacy.listen();
  for (const c of RAW_CASES) {
    const how = await rawCase(bound!.port, c);
    report.extra.rawCases!++;
    report.extra[`raw ${c.name}`] = /^\d+$/.test(how) ? Number(how) : 0;
    report.inputs++;
    if (!(/^4\d\d$/.test(how) || how === 'closed')) addFinding(report.findings, { kind: how.startsWith('stuck') ? 'stuck' : 'unanswered', detail: `raw case "${c.name}": ${how}`, input: Buffer.from(c.bytes, 'latin1') });
  }

  let batch = 0;
  while (report.inputs < opts.messages) {
    const inputs = fc.sample(input, { seed: (opts.seed + batch++) | 0, numRuns: Math.min(BATCH, opts.messages - report.inputs) });
    const r = rng(opts.seed + batch);
    for (const i of inputs) {
      const app = i.url.startsWith('/clicktocall') || i.url.startsWith('/index') || r() < 0.1 ? legacy.app : rest.server.app;
      const res = await app.inject({ method: i.method as 'GET', url: i.url, headers: i.headers, payload: i.body });
      report.inputs++;
      // 501 (a route without its backing part) and 503 (refusals) are answers; 500 is a crash.
      if (res.statusCode === 500 || res.statusCode > 503) addFinding(report.findings, { kind: 'internal-error', detail: `${i.method} ${i.url.slice(0, 120)} → ${res.statusCode} ${res.body.slice(0, 200)}`, input: Buffer.from(JSON.stringify(i)) });
      else if (res.statusCode >= 400) report.extra.status4xx!++;
      else report.extra.status2xx!++;
      if (i.expect !== undefined) {
        report.expected400++;
        if (res.statusCode === i.expect) report.answered400++;
        else addFinding(report.findings, { kind: 'no-400', detail: `${i.method} ${i.url} with a broken JSON body → ${res.statusCode}`, input: Buffer.from(JSON.stringify(i)) });
      }
    }
    // The fake engine keeps every call it started: forget them between batches.
    rest.engine.started.length = 0;
    rest.engine.sessions.clear();
    rest.clock.advance(2000); // refills the per-key rate limits
    opts.onProgress?.(report.inputs);
  }
  report.internalErrors = rest.server.counters.internalErrors + legacy.counters.internalErrors;
  if (report.internalErrors > 0) addFinding(report.findings, { kind: 'internal-error', detail: `${report.internalErrors} internal errors counted by the HTTP servers` });
  report.extra.clientErrors = legacy.counters.clientErrors;
  await rest.close();
  store.close();
  await legacy.close();
  report.heapGrowthBytes = settledHeap() - heap0;
  report.rssBytes = process.memoryUsage().rss;
  report.ms = Date.now() - start;
  memoryFinding(report, opts.maxHeapGrowthBytes ?? 128 * 2 ** 20);
  return report;
}
