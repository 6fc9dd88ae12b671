// Unauthorised call attempts on every interface of the real `clicktocall` command, configured
// closed plus toll-fraud guards (issue 7): a bounded batch of each kind of attempt, and a
// TestPhone standing as every target the attempts name. It must receive no INVITE; every attempt
// gets its documented refusal; the refusals show in /metrics and in the log, and no secret does.
// The table printed at the end is the figure of docs/reliability.md "Unauthorised calls".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Agent, request as httpRequest } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAuthorization, parseChallenges, type AuthChallenge } from '../../src/sip/digest/index.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { scenario, TestPhone, waitFor } from '../support/sip-phone.js';

/** Attempts of each kind: bounded, enough to show a pattern. */
const N = 50;

const HTTP_PASSWORD = 'h77p-' + randomBytes(6).toString('hex');
const API_KEY = randomBytes(24).toString('base64url');
const XML_SECRET = 'xml-' + randomBytes(6).toString('hex');
const REFER_PASSWORD = 'refer-' + randomBytes(6).toString('hex');
const WRONG = 'wrong-' + randomBytes(6).toString('hex');

let server: ServerProcess;
let victim: TestPhone;
let busy: TestPhone;
let hold: TestPhone;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** One row of the figure. */
interface Row {
  iface: string;
  kind: string;
  attempts: number;
  answer: string;
}
const rows: Row[] = [];

// Numbers name the interface that used them: 11xx legacy HTTP, 12xx REST, 13xx XML, 14xx SIP.
// 1900… is the premium prefix DestinationDeny refuses; 5555 is no listed initiator.
before(async () => {
  victim = await TestPhone.start({ name: 'victim', behaviour: { ring: 0 } });
  busy = await TestPhone.start({ name: 'busy', behaviour: { reject: 486 } });
  hold = await TestPhone.start({ name: 'hold', behaviour: { ring: 0 } });
  const portOf = (p: TestPhone) => /:(\d+)$/.exec(p.uri)![1];
  server = await startServerProcess([
    'LogLevel = STACK',
    'SipT1 = 100',
    'RingTimeout = 60',
    'HttpAuth = 1',
    `HttpAuthPwd = ${HTTP_PASSWORD}`,
    `ApiKey = tester|${createHash('sha256').update(API_KEY).digest('hex')}`,
    `XmlSecret = ${XML_SECRET}`,
    'XmlAllowFrom = 127.0.0.2/32',
    `ReferUser = referrer|${REFER_PASSWORD}`,
    'DestinationDeny = ^sip:1900',
    'InitiatorAllow = ^sip:(1\\d{3}|busy|hold)@',
    'LimitLoopback = true',
    'MaxCallsPerSecondPerClient = 1',
    'MaxConcurrentCallsPerClient = 1',
    'MaxConcurrentCalls = 2',
    'TranslationPattern = ^(\\d+)$',
    `TranslationOutput = sip:$1@127.0.0.1:${portOf(victim)}`,
    'TranslationPattern = ^busy$',
    `TranslationOutput = sip:busy@127.0.0.1:${portOf(busy)}`,
    'TranslationPattern = ^hold$',
    `TranslationOutput = sip:hold@127.0.0.1:${portOf(hold)}`,
  ]);
});

after(async () => {
  agent.destroy();
  const code = await server?.stop();
  await Promise.all([victim?.stop(), busy?.stop(), hold?.stop()]);
  assert.equal(code, 0, 'the server stops cleanly');
});

// ── HTTP ─────────────────────────────────────────────────────────────────────

interface HttpAnswer {
  status: number;
  challenges: string[];
  body: string;
}

function http(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<HttpAnswer> {
  return new Promise((resolveAnswer, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.httpPort, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, challenges: res.headersDistinct['www-authenticate'] ?? [], body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const legacyPath = (initiator: string, destination: string) => `/clicktocall.html?initiator=${initiator}&destination=${destination}`;
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const restCall = (initiator: string, destination: string, headers: Record<string, string>) =>
  http('POST', '/v1/calls', { 'content-type': 'application/json', ...headers }, JSON.stringify({ initiator, destination }));

function digestChallenge(values: readonly string[]): AuthChallenge {
  const parsed = parseChallenges(values);
  assert.ok(parsed.ok, 'WWW-Authenticate parses');
  const sha = parsed.value.find((c) => c.scheme.toLowerCase() === 'digest' && c.params.algorithm === 'SHA-256');
  assert.ok(sha, 'a Digest SHA-256 challenge is offered');
  return sha;
}

function digestHeader(challenge: AuthChallenge, method: string, uri: string, username: string, password: string, nc = 1): string {
  const built = buildAuthorization({ challenge, method, uri, username, password, cnonce: randomBytes(8).toString('hex'), nc });
  assert.ok(built.ok);
  return built.value;
}

/** Runs `n` attempts at once; each must be answered `expected`. */
async function batch(iface: string, kind: string, expected: string, attempt: (i: number) => Promise<string>, n = N): Promise<void> {
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => attempt(i)));
  const wrong = answers.filter((a) => a !== expected);
  assert.deepEqual(wrong, [], `${iface} ${kind}: every attempt answered ${expected}`);
  rows.push({ iface, kind, attempts: n, answer: expected });
}

async function metricsText(): Promise<string> {
  const r = await http('GET', '/metrics');
  assert.equal(r.status, 200);
  return r.body;
}

async function activeCalls(): Promise<number> {
  const m = /^clicktocall_calls_active (\d+)/m.exec(await metricsText());
  return Number(m?.[1] ?? NaN);
}

/** Sum of clicktocall_calls_ended_total{outcome="refused",reason=…}. */
function refusedFor(metrics: string, reason: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('clicktocall_calls_ended_total{') && line.includes('outcome="refused"') && line.includes(`reason="${reason}"`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

// ── XML ──────────────────────────────────────────────────────────────────────

const xmlDoc = (initiator: string, destination: string, secret?: string) =>
  `<ClickToCall>\r\n<Request>\r\n<Initiator>${initiator}</Initiator>\r\n<Destination>${destination}</Destination>\r\n` +
  `${secret === undefined ? '' : `<Secret>${secret}</Secret>\r\n`}</Request>\r\n</ClickToCall>\r\n`;

/** Sends `docs` on one connection from `localAddress`; resolves with the Result codes, or 'closed'. */
function xmlExchange(localAddress: string, docs: string[]): Promise<string[] | 'closed'> {
  return new Promise((resolveCodes) => {
    let data = '';
    let settled = false;
    const socket = tcpConnect({ host: '127.0.0.1', port: server.xmlPort, localAddress });
    const done = (v: string[] | 'closed') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveCodes(v);
    };
    const timer = setTimeout(() => done(codes()), 10_000);
    const codes = () => [...data.matchAll(/<Result Code="(\d+)"/g)].map((m) => m[1]!);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(docs.join('')));
    socket.on('data', (d: string) => {
      data += d;
      if (codes().length >= docs.length) done(codes());
    });
    socket.on('error', () => done(data === '' ? 'closed' : codes()));
    socket.on('close', () => done(data === '' ? 'closed' : codes()));
  });
}

// ── SIP ──────────────────────────────────────────────────────────────────────

interface SipAnswer {
  status: number;
  wwwAuthenticate: string[];
}

/** A bare SIP client (UDP or TCP) that sends hand-written requests and matches answers by Call-ID. */
class RawSip {
  private readonly waiting = new Map<string, (a: SipAnswer) => void>();
  private buffer = '';
  private constructor(
    readonly transport: 'udp' | 'tcp',
    private readonly udp: UdpSocket | undefined,
    private readonly tcp: Socket | undefined,
    readonly localPort: number,
  ) {}

  static async open(transport: 'udp' | 'tcp'): Promise<RawSip> {
    if (transport === 'udp') {
      const socket = createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      const raw = new RawSip('udp', socket, undefined, socket.address().port);
      socket.on('message', (m) => raw.onMessage(m.toString('latin1')));
      return raw;
    }
    const socket = tcpConnect({ host: '127.0.0.1', port: server.sipPort });
    await new Promise<void>((r, j) => { socket.once('connect', () => r()); socket.once('error', j); });
    const raw = new RawSip('tcp', undefined, socket, socket.localPort ?? 0);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => raw.onStream(d));
    return raw;
  }

  /** Sends a request (no body) and resolves with its final answer. */
  send(method: string, uri: string, headers: string[]): Promise<SipAnswer> {
    const callId = randomBytes(8).toString('hex');
    const branch = 'z9hG4bK' + randomBytes(8).toString('hex');
    const text = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/${this.transport.toUpperCase()} 127.0.0.1:${this.localPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:attacker@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
      `To: <${uri}>`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:attacker@127.0.0.1:${this.localPort}${this.transport === 'tcp' ? ';transport=tcp' : ''}>`,
      ...headers,
      'Content-Length: 0',
      '', '',
    ].join('\r\n');
    return new Promise((resolveAnswer) => {
      this.waiting.set(callId, resolveAnswer);
      if (this.udp) this.udp.send(text, server.sipPort, '127.0.0.1');
      else this.tcp!.write(text);
    });
  }

  close(): void {
    this.udp?.close();
    this.tcp?.destroy();
  }

  private onStream(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\nContent-Length:\s*(\d+)/i.exec(this.buffer.slice(0, end))?.[1] ?? 0);
      if (this.buffer.length < end + 4 + length) return;
      this.onMessage(this.buffer.slice(0, end + 4 + length));
      this.buffer = this.buffer.slice(end + 4 + length);
    }
  }

  private onMessage(text: string): void {
    const status = /^SIP\/2\.0 (\d{3})/.exec(text);
    if (!status) return; // the server sends us no requests here
    const code = Number(status[1]);
    if (code < 200) return;
    const callId = /\r\n(?:Call-ID|i):\s*([^\r\n]+)/i.exec(text)?.[1]?.trim() ?? '';
    const done = this.waiting.get(callId);
    if (!done) return;
    this.waiting.delete(callId);
    const wwwAuthenticate = [...text.matchAll(/\r\nWWW-Authenticate:\s*([^\r\n]+)/gi)].map((m) => m[1]!);
    done({ status: code, wwwAuthenticate });
  }
}

// ── the attempts ─────────────────────────────────────────────────────────────

test('unauthorised call attempts on every interface place no call', async () => {
  const internalErrorsBefore = 0;

  // Legacy HTTP GET (HttpAuth on with a password of our own).
  await batch('legacy HTTP', 'no credentials', '401', async (i) => String((await http('GET', legacyPath(`11${i % 10}1`, '1102'))).status));
  await batch('legacy HTTP', 'wrong Basic password', '401', async () =>
    String((await http('GET', legacyPath('1101', '1102'), { authorization: basic('admin', WRONG) })).status));
  await batch('legacy HTTP', 'Basic for another user', '401', async () =>
    String((await http('GET', legacyPath('1101', '1102'), { authorization: basic('root', HTTP_PASSWORD) })).status));
  await batch('legacy HTTP', 'Digest with a wrong password', '401', async () => {
    const path = legacyPath('1101', '1102');
    const first = await http('GET', path);
    const authorization = digestHeader(digestChallenge(first.challenges), 'GET', path, 'admin', WRONG);
    return String((await http('GET', path, { authorization })).status);
  });
  {
    // One right Digest answer (to a premium number: refused by policy, no call), then replays of its nc.
    const path = legacyPath('1101', '19005550001');
    const challenge = digestChallenge((await http('GET', path)).challenges);
    const authorization = digestHeader(challenge, 'GET', path, 'admin', HTTP_PASSWORD);
    assert.equal((await http('GET', path, { authorization })).status, 403, 'the genuine answer passes authentication');
    await batch('legacy HTTP', 'replayed Digest nc', '401', async () => String((await http('GET', path, { authorization })).status));
  }
  const admin = { authorization: basic('admin', HTTP_PASSWORD) };
  await batch('legacy HTTP', 'authorised, premium destination', '403', async () =>
    String((await http('GET', legacyPath('1101', '19005550002'), admin)).status));
  await batch('legacy HTTP', 'authorised, unlisted initiator', '403', async () =>
    String((await http('GET', legacyPath('5555', '1102'), admin)).status));

  // Per-client rate: the one call a second is spent on a phone that refuses at once.
  assert.equal((await http('GET', legacyPath('busy', '1103'), admin)).status, 200);
  await waitFor(() => busy.received('INVITE').length === 1, 3000, 'the busy phone to be called');
  const spent = Date.now();
  for (let i = 0; i < 100 && (await activeCalls()) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  await batch('legacy HTTP', 'over the per-client rate', '503', async () =>
    String((await http('GET', legacyPath('1101', '1104'), admin)).status));
  assert.ok(Date.now() - spent < 1000, 'the rate batch ran within the second (else a token came back)');

  // Per-client concurrency: one call in progress (ringing for ever) after the bucket refilled.
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await http('GET', legacyPath('hold', '1105'), admin)).status, 200);
  await waitFor(() => hold.received('INVITE').length === 1, 3000, 'the held phone to be called');
  await batch('legacy HTTP', 'over the per-client concurrency', '503', async () =>
    String((await http('GET', legacyPath('1101', '1106'), admin)).status));

  // REST.
  const key = { authorization: `Bearer ${API_KEY}` };
  await batch('REST', 'no key', '401', async () => String((await restCall('1201', '1202', {})).status));
  await batch('REST', 'wrong key', '401', async () => String((await restCall('1201', '1202', { authorization: `Bearer ${WRONG}` })).status));
  await batch('REST', 'wrong admin password', '401', async () =>
    String((await restCall('1201', '1202', { authorization: basic('admin', WRONG) })).status));
  await batch('REST', 'authorised, premium destination', '403', async () => String((await restCall('1201', '19005550003', key)).status));
  await batch('REST', 'authorised, unlisted initiator', '403', async () => String((await restCall('5555', '1202', key)).status));
  // Global cap: a second call in progress fills MaxConcurrentCalls = 2.
  assert.equal((await restCall('hold', '1203', key)).status, 201);
  await waitFor(() => hold.received('INVITE').length === 2, 3000, 'the held phone to be called again');
  await batch('REST', 'over the global concurrency', '503', async () => String((await restCall('1201', '1204', key)).status));

  // The event streams (SSE), the records and the ladder need a key too.
  const reads = ['/v1/events', '/v1/calls', '/v1/calls/x/events', '/v1/calls/x/trace'];
  await batch('REST', 'SSE, records, ladder without a key', '401', async (i) => String((await http('GET', reads[i % reads.length]!)).status));
  await batch('REST', 'SSE, records, ladder with a wrong key', '401', async (i) =>
    String((await http('GET', reads[i % reads.length]!, { authorization: `Bearer ${WRONG}` })).status));

  // XML: ACL 127.0.0.2/32 and a shared secret.
  await batch('XML', 'from a source outside XmlAllowFrom', 'closed', async () => String(await xmlExchange('127.0.0.1', [xmlDoc('1301', '1302', XML_SECRET)])));
  const xmlBatch = async (kind: string, expected: string, doc: string) => {
    // One connection carries the whole batch (XmlMaxRequestsPerConnection is 100).
    const codes = await xmlExchange('127.0.0.2', Array.from({ length: N }, () => doc));
    assert.notEqual(codes, 'closed');
    await batch('XML', kind, expected, async (i) => (codes as string[])[i] ?? 'none');
  };
  await xmlBatch('no secret', '403', xmlDoc('1301', '1302'));
  await xmlBatch('wrong secret', '403', xmlDoc('1301', '1302', WRONG));
  await xmlBatch('authorised, premium destination', '403', xmlDoc('1301', '19005550004', XML_SECRET));
  await xmlBatch('authorised, unlisted initiator', '403', xmlDoc('5555', '1302', XML_SECRET));

  // SIP: out-of-dialog REFER (ReferUser, no ReferAllowFrom) over UDP and TCP, and INVITE.
  const serverUri = (user: string) => `sip:${user}@127.0.0.1:${server.sipPort}`;
  for (const transport of ['udp', 'tcp'] as const) {
    const sip = await RawSip.open(transport);
    try {
      const t = transport.toUpperCase();
      const refer = (headers: string[] = [], initiator = '1401', destination = '1402') =>
        sip.send('REFER', serverUri(initiator), [`Refer-To: <${serverUri(destination)}>`, `Referred-By: <sip:attacker@127.0.0.1>`, ...headers]);
      await batch(`SIP ${t}`, 'REFER without credentials', '401', async () => String((await refer()).status));
      await batch(`SIP ${t}`, 'REFER with a wrong password', '401', async () => {
        const first = await refer();
        const challenge = digestChallenge(first.wwwAuthenticate);
        return String((await refer([`Authorization: ${digestHeader(challenge, 'REFER', serverUri('1401'), 'referrer', WRONG)}`])).status);
      });
      await batch(`SIP ${t}`, 'REFER by an unknown user', '401', async () => {
        const challenge = digestChallenge((await refer()).wwwAuthenticate);
        return String((await refer([`Authorization: ${digestHeader(challenge, 'REFER', serverUri('1401'), 'intruder', REFER_PASSWORD)}`])).status);
      });
      // A genuine REFER to a premium number (refused by policy), then replays of its nc.
      const challenge = digestChallenge((await refer()).wwwAuthenticate);
      const genuine = `Authorization: ${digestHeader(challenge, 'REFER', serverUri('1401'), 'referrer', REFER_PASSWORD)}`;
      assert.equal((await refer([genuine], '1401', '19005550005')).status, 403, 'the genuine REFER passes authentication');
      await batch(`SIP ${t}`, 'REFER replaying a digest nc', '401', async () => String((await refer([genuine], '1401', '19005550005')).status));
      await batch(`SIP ${t}`, 'REFER authorised, premium destination', '403', async () => {
        const c = digestChallenge((await refer()).wwwAuthenticate);
        const auth = `Authorization: ${digestHeader(c, 'REFER', serverUri('1401'), 'referrer', REFER_PASSWORD)}`;
        return String((await refer([auth], '1401', '19005550006')).status);
      });
      await batch(`SIP ${t}`, 'INVITE to the server', '403', async () => {
        const answer = await sip.send('INVITE', serverUri('1402'), []);
        return String(answer.status);
      });
    } finally {
      sip.close();
    }
  }

  // ── what it all placed: nothing at the victim ──
  await new Promise((r) => setTimeout(r, 300)); // a call started late would have sent its INVITE by now
  const invites = victim.received('INVITE');
  const placed = (prefix: string) => invites.filter((r) => r.uri.includes(`sip:${prefix}`)).length;
  const table = [
    ['interface', 'attempts', 'calls placed'],
    ...['legacy HTTP', 'REST', 'XML', 'SIP UDP', 'SIP TCP'].map((iface) => {
      const attempts = rows.filter((r) => r.iface === iface).reduce((s, r) => s + r.attempts, 0);
      const prefix = { 'legacy HTTP': '11', REST: '12', XML: '13', 'SIP UDP': '14', 'SIP TCP': '14' }[iface]!;
      return [iface, String(attempts), String(placed(prefix))];
    }),
  ];
  console.log('\nUnauthorised call attempts (issue 7):');
  for (const r of table) console.log(`| ${r[0]!.padEnd(12)} | ${r[1]!.padStart(8)} | ${r[2]!.padStart(12)} |`);
  console.log('\nBy kind:');
  for (const r of rows) console.log(`| ${r.iface} | ${r.kind} | ${r.attempts} | ${r.answer} |`);
  assert.deepEqual(invites.map((r) => r.uri), [], 'the victim received no INVITE');
  // The legitimate calls went where they should, once each (two held, one refused busy).
  assert.equal(busy.received('INVITE').length, 1);
  assert.equal(hold.received('INVITE').length, 2);

  // ── refusals are counted and logged with their reasons ──
  const metrics = await metricsText();
  const expectRefused = (reason: string, atLeast: number) =>
    assert.ok(refusedFor(metrics, reason) >= atLeast, `clicktocall_calls_ended_total refused ${reason} ≥ ${atLeast}:\n${metrics}`);
  expectRefused('destination-not-allowed', 4 * N); // legacy, REST, XML, SIP ×2 (+ the genuine ones)
  expectRefused('initiator-not-allowed', 3 * N);
  expectRefused('client-rate', N);
  expectRefused('client-concurrency', N);
  expectRefused('too-many-calls', N);
  assert.match(metrics, /^clicktocall_xml\{counter="refused"\} (\d+)/m);
  assert.ok(Number(/^clicktocall_xml\{counter="refused"\} (\d+)/m.exec(metrics)![1]) >= N, 'XML connections refused by the ACL are counted');
  assert.ok(Number(/^clicktocall_xml\{counter="refusedRequests"\} (\d+)/m.exec(metrics)?.[1] ?? 0) >= 2 * N, 'XML requests with no or a wrong secret are counted');
  // Refused credentials are counted per interface and reason (clicktocall_auth_failures_total).
  const authFailures = (iface: string, reason: string) =>
    Number(new RegExp(`^clicktocall_auth_failures_total\\{interface="${iface}",reason="${reason}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
  assert.ok(authFailures('http', 'bad-credentials') >= N, `HTTP bad credentials counted:\n${metrics}`);
  assert.ok(authFailures('http', 'replay') >= 1, 'HTTP digest replays counted');
  assert.ok(authFailures('rest', 'bad-key') >= N, 'REST bad keys counted');
  assert.ok(authFailures('sip-refer', 'digest-bad-response') >= 1, 'SIP REFER wrong passwords counted');
  const internal = [...metrics.matchAll(/^clicktocall_internal_errors_total(?:\{[^}]*\})? (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  assert.equal(internal, internalErrorsBefore, 'no internal error');

  await waitFor(() => /out-of-dialog REFER refused/.test(server.output()), 3000, 'the REFER refusals in the log');
  const log = server.output() + readFileSync(join(server.dir, 'clicktocall.log'), 'utf8');
  for (const reason of ['"reason":"bad-credentials"', '"reason":"replay"', '"reason":"bad-key"', '"reason":"digest-bad-response"',
    '"reason":"digest-unknown-user"', '"reason":"digest-replay"', 'xml connection refused by XmlAllowFrom', 'Refused: bad secret']) {
    assert.ok(log.includes(reason), `the log records ${reason}`);
  }
  // No secret reached the log (LogLevel STACK: every SIP message is in it), nor a Basic token.
  for (const [name, secret] of [['HttpAuthPwd', HTTP_PASSWORD], ['API key', API_KEY], ['XmlSecret', XML_SECRET],
    ['ReferUser password', REFER_PASSWORD], ['a wrong password', WRONG],
    ['Basic token', Buffer.from(`admin:${HTTP_PASSWORD}`).toString('base64')]] as const) {
    assert.ok(!log.includes(secret), `${name} is not in the log`);
  }
  assert.match(log, /Authorization: \[redacted\]/, 'the SIP trace shows where credentials were');
});

test('a transfer (in-dialog REFER from a phone) to a denied target is refused 403 and places no call', () =>
  scenario(['DestinationDeny = ^sip:1900'], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const premium = await s.phone('premium', { ring: 0, answer: 10 });
    s.request(a, b, { anchor: true });
    assert.deepEqual((await s.results()).at(-1), '200 Destination Connected to destination');
    const target = premium.uri.replace('sip:premium@', 'sip:19005550007@');
    const call = b.calls.find((c) => c.state === 'established')!;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(await new Promise<number>((resolveStatus) => {
        call.session!.refer(target, { notifyTimeoutMs: 2000 }, {
          onResponse: (res) => { if (res.status >= 200) resolveStatus(res.status); },
          onProgress: () => {},
          onEnd: () => resolveStatus(-1),
        });
      }));
    }
    assert.deepEqual([...new Set(statuses)], [403], 'every transfer to the premium number is refused 403');
    assert.equal(premium.received('INVITE').length, 0, 'the premium number was never called');
    // The refusal is an event with its reason (the log is buffered: wait for the line).
    await waitFor(() => s.server.output().includes('"reason":"target-not-allowed"'), 5000, 'the refusal in the log');
    assert.equal(a.liveCalls().length + b.liveCalls().length, 2, 'the call itself goes on');
    console.log(`\n| SIP in-dialog REFER (transfer) | ${statuses.length} | ${premium.received('INVITE').length} |`);
    await a.hangup();
  }));

test('default config (REST open to loopback only): what a web page in a local browser can send places no call', async () => {
  // No ApiKey, HttpAuth off: REST takes anonymous requests from this machine. A page from another
  // site can only send "simple" requests (no preflight): they must all be refused, and a
  // DNS-rebound host name is refused too.
  const target = await TestPhone.start({ name: 'local-victim', behaviour: { ring: 0 } });
  const local = await startServerProcess([
    'TranslationPattern = ^(\\d+)$', `TranslationOutput = sip:$1@127.0.0.1:${/:(\d+)$/.exec(target.uri)![1]}`,
  ]);
  const post = (headers: Record<string, string>, body: string) => new Promise<{ status: number; cors: string | undefined }>((resolveAnswer, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: local.httpPort, method: 'POST', path: '/v1/calls', headers }, (res) => {
      res.resume();
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, cors: res.headers['access-control-allow-origin'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
  try {
    const json = JSON.stringify({ initiator: '1501', destination: '1502' });
    const origin = { origin: 'http://evil.example' };
    const attempts: Array<[string, Record<string, string>, string]> = [
      ['no Content-Type (a Blob body)', origin, json],
      ['text/plain', { ...origin, 'content-type': 'text/plain' }, json],
      ['a form', { ...origin, 'content-type': 'application/x-www-form-urlencoded' }, 'initiator=1501&destination=1502'],
      ['multipart', { ...origin, 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="initiator"\r\n\r\n1501\r\n--x--\r\n'],
    ];
    for (const [what, headers, body] of attempts) {
      const r = await post(headers, body);
      assert.equal(r.status, 415, `${what}: refused before any call`);
      assert.equal(r.cors, undefined, `${what}: no CORS grant`);
    }
    // DNS rebinding: the page's own host name in Host.
    const rebound = await post({ 'content-type': 'application/json', host: `evil.example:${local.httpPort}` }, json);
    assert.equal(rebound.status, 401);
    // The preflight a JSON request from another origin needs grants nothing.
    const preflight = await new Promise<string | undefined>((resolvePreflight, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port: local.httpPort, method: 'OPTIONS', path: '/v1/calls',
        headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      }, (res) => { res.resume(); res.on('end', () => resolvePreflight(res.headers['access-control-allow-origin'])); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(preflight, undefined, 'the preflight grants no origin');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(target.received('INVITE').length, 0, 'no call was placed');
  } finally {
    assert.equal(await local.stop(), 0);
    await target.stop();
  }
});
