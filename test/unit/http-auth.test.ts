import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpServer } from '../../src/api/http/server.js';
import { createAuthHook, HttpAuthenticator } from '../../src/api/http/auth.js';
import type { HttpAuthOptions } from '../../src/api/http/auth.js';
import type { LegacyCallHandler, LegacyCallRequest } from '../../src/api/http/types.js';
import { DigestClient, parseChallenges } from '../../src/sip/digest/index.js';
import type { AuthChallenge } from '../../src/sip/digest/index.js';

const PASSWORD = 's3cret-Pw';
const REALM = 'pbx.example.com';
const URL = '/clicktocall.html?initiator=1001&destination=1002';

class Clock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
}

function setup(options: Partial<HttpAuthOptions> = {}, clock = new Clock()) {
  const calls: LegacyCallRequest[] = [];
  const handler: LegacyCallHandler = {
    submit(request) {
      calls.push(request);
      return { ok: true, callId: 'c1', translatedInitiator: 'sip:1001@x', translatedDestination: 'sip:1002@x', mode: 'refer' };
    },
  };
  const warnings: object[] = [];
  const logger = { info() {}, warn: (o: object) => warnings.push(o), error() {} };
  const authenticator = new HttpAuthenticator({ password: PASSWORD, realm: REALM, now: clock.now, ...options });
  const server = createHttpServer(
    { hosts: [], port: 0, logger },
    { legacy: { handler, authenticate: createAuthHook(authenticator, { logger }) } },
  );
  return { server, calls, clock, warnings, authenticator };
}

function challengeHeaders(res: { headers: Record<string, unknown> }): string[] {
  const value = res.headers['www-authenticate'];
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as string[]) : [String(value)];
}

function challenges(res: { headers: Record<string, unknown> }): AuthChallenge[] {
  const parsed = parseChallenges(challengeHeaders(res));
  assert.ok(parsed.ok, 'WWW-Authenticate parses');
  return parsed.value;
}

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

test('no credentials → 401 with Digest SHA-256, Digest MD5, then Basic; no call', async () => {
  const { server, calls } = setup();
  const res = await server.app.inject({ method: 'GET', url: URL });
  assert.equal(res.statusCode, 401);
  const headers = challengeHeaders(res);
  assert.equal(headers.length, 3);
  const list = challenges(res);
  assert.deepEqual(
    list.map((c) => [c.scheme, c.params.algorithm]),
    [
      ['Digest', 'SHA-256'],
      ['Digest', 'MD5'],
      ['Basic', undefined],
    ],
  );
  for (const c of list.slice(0, 2)) {
    assert.equal(c.params.realm, REALM);
    assert.equal(c.params.qop, 'auth');
    assert.ok((c.params.nonce ?? '').length > 16);
    assert.equal(c.params.stale, undefined);
  }
  assert.equal(headers[2], `Basic realm="${REALM}"`);
  assert.equal(calls.length, 0);
  await server.close();
});

test('Basic with the admin password → 200; wrong password or user → 401', async () => {
  const { server, calls, warnings } = setup();
  const ok = await server.app.inject({ method: 'GET', url: URL, headers: { authorization: basic('admin', PASSWORD) } });
  assert.equal(ok.statusCode, 200);
  assert.equal(calls.length, 1);
  for (const authorization of [basic('admin', 'wrong'), basic('root', PASSWORD), basic('admin', PASSWORD + 'x'), 'Basic !!!', 'Basic']) {
    const res = await server.app.inject({ method: 'GET', url: URL, headers: { authorization } });
    assert.equal(res.statusCode, 401, authorization);
    assert.equal(challengeHeaders(res).length, 3);
  }
  assert.equal(calls.length, 1);
  // Failures are logged without the credentials.
  assert.ok(warnings.length >= 3);
  const logged = JSON.stringify(warnings);
  assert.ok(!logged.includes(PASSWORD) && !logged.includes('YWRtaW4'), logged);
  await server.close();
});

test('HttpAuthBasic = false → no Basic challenge, and Basic is refused', async () => {
  const { server, calls } = setup({ allowBasic: false });
  const res = await server.app.inject({ method: 'GET', url: URL });
  assert.equal(res.statusCode, 401);
  assert.deepEqual(
    challenges(res).map((c) => c.scheme),
    ['Digest', 'Digest'],
  );
  const refused = await server.app.inject({ method: 'GET', url: URL, headers: { authorization: basic('admin', PASSWORD) } });
  assert.equal(refused.statusCode, 401);
  assert.equal(calls.length, 0);
  await server.close();
});

async function digestAuthorization(
  server: ReturnType<typeof setup>['server'],
  client: DigestClient,
  algorithm: string,
  password = PASSWORD,
  url = URL,
): Promise<string> {
  const first = await server.app.inject({ method: 'GET', url });
  assert.equal(first.statusCode, 401);
  const chosen = challenges(first).find((c) => c.params.algorithm === algorithm);
  assert.ok(chosen, `a ${algorithm} challenge`);
  const auth = client.authorize(chosen, { username: 'admin', password }, { method: 'GET', uri: url });
  assert.ok(auth.ok, auth.ok ? '' : auth.error);
  assert.equal(auth.value.algorithm, algorithm);
  return auth.value.header;
}

for (const algorithm of ['SHA-256', 'MD5']) {
  test(`Digest ${algorithm} computed by the digest client → 200`, async () => {
    const { server, calls } = setup();
    const client = new DigestClient();
    const authorization = await digestAuthorization(server, client, algorithm);
    const res = await server.app.inject({ method: 'GET', url: URL, headers: { authorization } });
    assert.equal(res.statusCode, 200);
    assert.equal(calls.length, 1);
    await server.close();
  });
}

test('Digest with a wrong password → 401', async () => {
  const { server, calls } = setup();
  const authorization = await digestAuthorization(server, new DigestClient(), 'SHA-256', 'nope');
  const res = await server.app.inject({ method: 'GET', url: URL, headers: { authorization } });
  assert.equal(res.statusCode, 401);
  assert.equal(calls.length, 0);
  await server.close();
});

test('Digest: a replayed nc → 401; the next nc on the same nonce → 200', async () => {
  const { server, calls } = setup();
  const client = new DigestClient();
  const first = await server.app.inject({ method: 'GET', url: URL });
  const chosen = challenges(first)[0]!;
  const authorize = () => {
    const a = client.authorize(chosen, { username: 'admin', password: PASSWORD }, { method: 'GET', uri: URL });
    assert.ok(a.ok);
    return a.value.header;
  };
  const nc1 = authorize();
  assert.equal((await server.app.inject({ method: 'GET', url: URL, headers: { authorization: nc1 } })).statusCode, 200);
  const replay = await server.app.inject({ method: 'GET', url: URL, headers: { authorization: nc1 } });
  assert.equal(replay.statusCode, 401);
  assert.equal(challenges(replay)[0]!.params.stale, undefined);
  const nc2 = authorize();
  assert.match(nc2, /nc=00000002/);
  assert.equal((await server.app.inject({ method: 'GET', url: URL, headers: { authorization: nc2 } })).statusCode, 200);
  assert.equal(calls.length, 2);
  await server.close();
});

test('Digest: an expired nonce → 401 with stale=true on both Digest challenges', async () => {
  const clock = new Clock();
  const { server, calls } = setup({ nonceTtlMs: 60_000 }, clock);
  const authorization = await digestAuthorization(server, new DigestClient(), 'SHA-256');
  clock.t += 60_001;
  const res = await server.app.inject({ method: 'GET', url: URL, headers: { authorization } });
  assert.equal(res.statusCode, 401);
  const list = challenges(res);
  assert.deepEqual(
    list.map((c) => [c.scheme, c.params.stale]),
    [
      ['Digest', 'true'],
      ['Digest', 'true'],
      ['Basic', undefined],
    ],
  );
  assert.equal(calls.length, 0);
  // The client answers the fresh nonce without asking its user again.
  const retry = new DigestClient().authorize(list[0]!, { username: 'admin', password: PASSWORD }, { method: 'GET', uri: URL });
  assert.ok(retry.ok);
  assert.equal(retry.value.stale, true);
  assert.equal((await server.app.inject({ method: 'GET', url: URL, headers: { authorization: retry.value.header } })).statusCode, 200);
  await server.close();
});

test('Digest: the uri must be the request-target as sent', async () => {
  const { server, calls } = setup();
  const other = '/clicktocall.html?initiator=1001&destination=9999';
  const authorization = await digestAuthorization(server, new DigestClient(), 'SHA-256', PASSWORD, other);
  const res = await server.app.inject({ method: 'GET', url: URL, headers: { authorization } });
  assert.equal(res.statusCode, 401);
  assert.equal(calls.length, 0);
  await server.close();
});

test('the page, /healthz and the redirect need no credentials', async () => {
  const { server } = setup();
  assert.equal((await server.app.inject({ method: 'GET', url: '/index.html' })).statusCode, 200);
  assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.equal((await server.app.inject({ method: 'GET', url: '/other' })).statusCode, 301);
  await server.close();
});

test('HttpAuthenticator.check: unknown schemes and malformed headers are refused, never thrown', () => {
  const authenticator = new HttpAuthenticator({ password: PASSWORD, realm: REALM, now: new Clock().now });
  for (const authorization of ['Bearer abc', 'Digest', 'Digest username=', '\u0000', 'Digest realm="x", username="admin"']) {
    const verdict = authenticator.check({ method: 'GET', uri: '/', authorization });
    assert.equal(verdict.ok, false, authorization);
    if (!verdict.ok) assert.equal(verdict.challenges.length, 3);
  }
  const ok = authenticator.check({ method: 'GET', uri: '/', authorization: basic('admin', PASSWORD) });
  assert.deepEqual(ok, { ok: true, username: 'admin', scheme: 'basic' });
  // A password with a colon and non-ASCII characters (RFC 7617: UTF-8).
  const fancy = new HttpAuthenticator({ password: 'pä:ss', realm: REALM });
  assert.equal(fancy.check({ method: 'GET', uri: '/', authorization: basic('admin', 'pä:ss') }).ok, true);
  assert.equal(fancy.check({ method: 'GET', uri: '/', authorization: basic('admin', 'pä') }).ok, false);
});

test('a realm that cannot go into a header is refused at construction', () => {
  assert.throws(() => new HttpAuthenticator({ password: 'x', realm: 'a\r\nb' }), RangeError);
});
