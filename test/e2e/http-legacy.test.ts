import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { createHttpServer } from '../../src/api/http/server.js';
import type { HttpServer, HttpServerOptions } from '../../src/api/http/server.js';
import { createAuthHook, HttpAuthenticator } from '../../src/api/http/auth.js';
import type { LegacyCallHandler, LegacyCallRequest } from '../../src/api/http/types.js';
import { DigestClient, parseChallenges } from '../../src/sip/digest/index.js';

const CALL = '/clicktocall.html?initiator=1001&destination=1002';
const SUCCESS = 'Initiating ClickToCall from sip:1001@example.com(1001) to sip:1002@example.com(1002) (unanchored)...';

/** Polls `predicate` until it holds; fails after `ms` (a bound, not a protocol timeout). */
async function waitFor(predicate: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

class RawClient {
  readonly socket: Socket;
  #chunks: Buffer[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }

  /** Complete responses received so far (Content-Length framed). */
  responses(): { status: number; headers: Map<string, string>; body: string }[] {
    const out: { status: number; headers: Map<string, string>; body: string }[] = [];
    let rest = this.text;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) return out;
      const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(headers.get('content-length') ?? '0');
      const bodyBytes = Buffer.from(rest.slice(end + 4), 'utf8');
      if (bodyBytes.length < length) return out;
      out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: bodyBytes.subarray(0, length).toString('utf8') });
      rest = bodyBytes.subarray(length).toString('utf8');
    }
  }

  async response(index: number) {
    await waitFor(() => this.responses().length > index, `response ${index + 1}`);
    return this.responses()[index]!;
  }

  close(): void {
    this.socket.destroy();
  }
}

function engine(calls: LegacyCallRequest[] = []): LegacyCallHandler {
  return {
    submit(request) {
      calls.push(request);
      return {
        ok: true,
        callId: `c${calls.length}`,
        translatedInitiator: `sip:${request.initiator}@example.com`,
        translatedDestination: `sip:${request.destination}@example.com`,
        mode: request.anchor === true ? 'anchored' : 'refer',
      };
    },
  };
}

async function start(
  options: Partial<HttpServerOptions> = {},
  authenticator?: HttpAuthenticator,
  calls: LegacyCallRequest[] = [],
): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer(
    { hosts: ['127.0.0.1'], port: 0, ...options },
    {
      legacy: {
        handler: engine(calls),
        ...(authenticator === undefined ? {} : { authenticate: createAuthHook(authenticator) }),
      },
    },
  );
  const [address] = await server.listen();
  return { server, port: address!.port };
}

test('HTTP/1.0: one request, the answer, then the server closes the connection', async () => {
  const calls: LegacyCallRequest[] = [];
  const { server, port } = await start({}, undefined, calls);
  try {
    const client = await RawClient.open(port);
    const localPort = client.socket.localPort;
    client.socket.write(`GET ${CALL} HTTP/1.0\r\n\r\n`);
    await waitFor(() => client.closed, 'the server to close');
    const [res] = client.responses();
    assert.ok(res, client.text);
    assert.equal(res.status, 200);
    assert.match(res.body, new RegExp(SUCCESS.replace(/[.()]/g, '\\$&')));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.client.address, '127.0.0.1');
    assert.equal(calls[0]!.client.port, localPort);
  } finally {
    await server.close();
  }
});

test('HTTP/1.1 keep-alive: two requests on one connection', async () => {
  const calls: LegacyCallRequest[] = [];
  const { server, port } = await start({}, undefined, calls);
  try {
    const client = await RawClient.open(port);
    client.socket.write(`GET ${CALL} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const first = await client.response(0);
    assert.equal(first.status, 200);
    assert.notEqual(first.headers.get('connection'), 'close');
    client.socket.write(`GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const second = await client.response(1);
    assert.equal(second.status, 200);
    assert.match(second.body, /<form/);
    assert.equal(client.closed, false);
    assert.equal(calls.length, 1);
    client.close();
  } finally {
    await server.close();
  }
});

test('a client sending its headers byte by byte, slower than the headers timeout, is disconnected', async () => {
  const { server, port } = await start({ headersTimeoutMs: 300, connectionsCheckingIntervalMs: 50 });
  try {
    const client = await RawClient.open(port);
    const started = Date.now();
    const header = `GET ${CALL} HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`;
    let sent = 0;
    // One byte every 40 ms (each byte resets no idle timer that matters): 100+ bytes would take
    // over 4 s; the server must give up after about 300 ms. Bounded by the header length.
    while (!client.closed && sent < header.length) {
      client.socket.write(header[sent++]!);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const elapsed = Date.now() - started;
    assert.equal(client.closed, true, 'disconnected');
    assert.ok(sent < header.length, `disconnected before the headers were complete (sent ${sent} of ${header.length})`);
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    assert.match(client.text, /^HTTP\/1\.1 408 /);
    assert.equal(server.counters.clientErrors, 1);
  } finally {
    await server.close();
  }
});

test('an oversized header → 431 and the connection closed', async () => {
  const { server, port } = await start();
  try {
    const client = await RawClient.open(port);
    client.socket.write(`GET ${CALL} HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(17 * 1024)}\r\n\r\n`);
    await waitFor(() => client.closed, 'the server to close');
    assert.match(client.text, /^HTTP\/1\.1 431 /);
    // A header just under the limit is fine.
    const ok = await RawClient.open(port);
    ok.socket.write(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(15 * 1024)}\r\n\r\n`);
    assert.equal((await ok.response(0)).status, 200);
    ok.close();
  } finally {
    await server.close();
  }
});

test('listens on 127.0.0.1 and ::1 with the same port; both answer', async () => {
  const server = createHttpServer({ hosts: ['127.0.0.1', '::1'], port: 0 }, { legacy: { handler: engine() } });
  try {
    const bound = await server.listen();
    assert.equal(bound.length, 2);
    assert.deepEqual(
      bound.map((b) => [b.address, b.family]),
      [
        ['127.0.0.1', 'IPv4'],
        ['::1', 'IPv6'],
      ],
    );
    assert.equal(bound[0]!.port, bound[1]!.port);
    for (const host of ['127.0.0.1', '::1']) {
      const client = await RawClient.open(bound[0]!.port, host);
      client.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const res = await client.response(0);
      assert.equal(res.status, 200, host);
      assert.equal(res.body, '{"status":"ok"}');
      client.close();
    }
  } finally {
    await server.close();
  }
});

test('a port in use → listen rejects and closes what it started', async () => {
  const { server: first, port } = await start();
  try {
    const second = createHttpServer({ hosts: ['::1', '127.0.0.1'], port }, {});
    await assert.rejects(second.listen(), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});

test('Digest over a real socket: challenge, then the request-target as sent is the digest uri', async () => {
  const authenticator = new HttpAuthenticator({ password: 'pw-123456', realm: 'test.example' });
  const calls: LegacyCallRequest[] = [];
  const { server, port } = await start({}, authenticator, calls);
  try {
    const client = await RawClient.open(port);
    client.socket.write(`GET ${CALL} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const challenge = await client.response(0);
    assert.equal(challenge.status, 401);
    // The raw text keeps the three WWW-Authenticate lines in order.
    const lines = client.text.split('\r\n').filter((l) => l.toLowerCase().startsWith('www-authenticate:'));
    assert.equal(lines.length, 3);
    const parsed = parseChallenges(lines.map((l) => l.slice(l.indexOf(':') + 1).trim()));
    assert.ok(parsed.ok);
    const auth = new DigestClient().authorize(parsed.value, { username: 'admin', password: 'pw-123456' }, { method: 'GET', uri: CALL });
    assert.ok(auth.ok);
    assert.equal(auth.value.algorithm, 'SHA-256');
    client.socket.write(`GET ${CALL} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth.value.header}\r\n\r\n`);
    const res = await client.response(1);
    assert.equal(res.status, 200);
    assert.equal(calls.length, 1);
    client.close();
  } finally {
    await server.close();
  }
});

test('close() ends idle keep-alive connections and stops listening', async () => {
  const { server, port } = await start();
  const client = await RawClient.open(port);
  client.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await client.response(0);
  await server.close();
  await waitFor(() => client.closed, 'the keep-alive connection to close');
  await assert.rejects(RawClient.open(port), /ECONNREFUSED/);
});
