import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DigestClient,
  DigestServer,
  buildAuthorization,
  computeResponse,
  parseChallenges,
  parseCredentials,
  selectChallenge,
  type AuthChallenge,
  type DigestAlgorithm,
  type DigestServerOptions,
} from '../../src/sip/digest/index.js';

function challengesOf(value: string | string[]): AuthChallenge[] {
  const parsed = parseChallenges(value);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
}

function paramsOf(header: string): Record<string, string> {
  const parsed = parseCredentials(header);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return { ...parsed.value.params };
}

// ---- RFC vectors ---------------------------------------------------------------------------

// RFC 7616 §3.9.1: the two challenges, the answers with cnonce f2/wE4..., nc 1.
const RFC7616_NONCE = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
const RFC7616_OPAQUE = 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS';
const RFC7616_CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
const rfc7616Challenge = (algorithm: string): string =>
  `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="${RFC7616_NONCE}", opaque="${RFC7616_OPAQUE}"`;
const rfc7616Answer = (algorithm: string, response: string): string =>
  `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=${algorithm}, ` +
  `nonce="${RFC7616_NONCE}", nc=00000001, cnonce="${RFC7616_CNONCE}", qop=auth, response="${response}", opaque="${RFC7616_OPAQUE}"`;

for (const [algorithm, response] of [
  ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
  ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
] as const) {
  test(`RFC 7616 §3.9.1 ${algorithm}: the exact Authorization value`, () => {
    const [challenge] = challengesOf(rfc7616Challenge(algorithm));
    const built = buildAuthorization({
      challenge: challenge!,
      username: 'Mufasa',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      cnonce: RFC7616_CNONCE,
      nc: 1,
    });
    assert.ok(built.ok);
    assert.equal(built.value, rfc7616Answer(algorithm, response));
  });
}

test('RFC 7616 §3.9.1: the client picks SHA-256 of the two challenges, whatever their order', () => {
  for (const order of [['SHA-256', 'MD5'], ['MD5', 'SHA-256']]) {
    const client = new DigestClient({ cnonce: () => RFC7616_CNONCE });
    const result = client.authorize(
      challengesOf(order.map(rfc7616Challenge)),
      { username: 'Mufasa', password: 'Circle of Life' },
      { method: 'GET', uri: '/dir/index.html' },
    );
    assert.ok(result.ok);
    assert.equal(result.value.algorithm, 'SHA-256');
    assert.equal(result.value.header, rfc7616Answer('SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'));
  }
});

test('RFC 2617 §3.5: response 6629fae4..., no algorithm echoed, qop auth chosen of auth,auth-int', () => {
  const client = new DigestClient({ cnonce: () => '0a4f113b' });
  const result = client.authorize(
    challengesOf('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'),
    { username: 'Mufasa', password: 'Circle Of Life' },
    { method: 'GET', uri: '/dir/index.html' },
  );
  assert.ok(result.ok);
  assert.deepEqual(paramsOf(result.value.header), {
    username: 'Mufasa',
    realm: 'testrealm@host.com',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    uri: '/dir/index.html',
    qop: 'auth',
    nc: '00000001',
    cnonce: '0a4f113b',
    response: '6629fae49393a05397450978507c4ef1',
    opaque: '5ccc069c403ebaf9f0171e9517f40e41',
  });
});

test('RFC 2069 form when the challenge has no qop (errata value 1949323746...)', () => {
  const client = new DigestClient({ cnonce: () => assert.fail('no cnonce without qop') });
  const result = client.authorize(
    challengesOf('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'),
    { username: 'Mufasa', password: 'CircleOfLife' },
    { method: 'GET', uri: '/dir/index.html' },
  );
  assert.ok(result.ok);
  assert.equal(result.value.nc, undefined);
  assert.equal(
    result.value.header,
    'Digest username="Mufasa", realm="testrealm@host.com", uri="/dir/index.html", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", response="1949323746fe6a43ef61f9606e7febea", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
});

test('-sess and auth-int follow RFC 7616 §3.4.2/§3.4.3 (checked against hand-built hashes)', async () => {
  const { createHash } = await import('node:crypto');
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const base = { username: 'u', realm: 'r', password: 'p', nonce: 'n', method: 'INVITE', uri: 'sip:b@x', nc: '00000002', cnonce: 'c' };
  const ha1 = md5(`${md5('u:r:p')}:n:c`);
  assert.equal(
    computeResponse({ ...base, algorithm: 'MD5-sess', qop: 'auth' }),
    md5(`${ha1}:n:00000002:c:auth:${md5('INVITE:sip:b@x')}`),
  );
  assert.equal(
    computeResponse({ ...base, algorithm: 'MD5', qop: 'auth-int', body: 'v=0\r\n' }),
    md5(`${md5('u:r:p')}:n:00000002:c:auth-int:${md5(`INVITE:sip:b@x:${md5('v=0\r\n')}`)}`),
  );
});

// ---- client --------------------------------------------------------------------------------

test('client: nc increments when the same nonce is answered again, restarts at 1 for a new nonce', () => {
  let n = 0;
  const client = new DigestClient({ cnonce: () => `c${++n}` });
  const creds = { username: 'alice', password: 'pw' };
  const req = { method: 'REGISTER', uri: 'sip:example.com' };
  const first = challengesOf('Digest realm="example.com", nonce="aaa", qop="auth", algorithm=SHA-256');
  const second = challengesOf('Digest realm="example.com", nonce="bbb", qop="auth", algorithm=SHA-256, stale=TRUE');
  const ncs: (string | undefined)[] = [];
  for (const challenge of [first, first, first, second, first]) {
    const r = client.authorize(challenge, creds, req);
    assert.ok(r.ok);
    ncs.push(paramsOf(r.value.header).nc);
  }
  assert.deepEqual(ncs, ['00000001', '00000002', '00000003', '00000001', '00000004']);
  const stale = client.authorize(second, creds, req);
  assert.ok(stale.ok);
  assert.equal(stale.value.stale, true);
  assert.equal(stale.value.nc, 2);
});

test('client: unusable challenges give errors, realm filter applies, Basic is skipped', () => {
  const client = new DigestClient({ cnonce: () => 'c' });
  const creds = { username: 'a', password: 'b' };
  const req = { method: 'INVITE', uri: 'sip:x@y' };
  const cases = [
    'Basic realm="x"',
    'Digest realm="x", nonce="n", algorithm=SHA-512-256, qop="auth"',
    'Digest realm="x", nonce="n", qop="auth-conf"',
    'Digest realm="x", qop="auth"',
    'Digest nonce="n", qop="auth"',
    'Digest realm="x", nonce="n", algorithm=MD5-sess',
  ];
  for (const value of cases) {
    const r = client.authorize(challengesOf(value), creds, req);
    assert.equal(r.ok, false, value);
  }
  const two = challengesOf(['Basic realm="proxy"', 'Digest realm="proxy", nonce="1", qop="auth"', 'Digest realm="uas", nonce="2", qop="auth", algorithm=SHA-256']);
  assert.equal(selectChallenge(two)?.challenge.params.realm, 'uas');
  assert.equal(selectChallenge(two, { realm: 'proxy' })?.challenge.params.nonce, '1');
  assert.equal(selectChallenge(two, { realm: 'nowhere' }), undefined);
  // Control characters in the username cannot reach the header.
  assert.equal(client.authorize(two, { username: 'a\r\nb', password: 'x' }, req).ok, false);
});

test('client: auth-int alone is answered with the body hash', () => {
  const client = new DigestClient({ cnonce: () => 'cn' });
  const [challenge] = challengesOf('Digest realm="r", nonce="n", qop="auth-int"');
  const r = client.authorize(challenge!, { username: 'u', password: 'p' }, { method: 'MESSAGE', uri: 'sip:b@r', body: 'hello' });
  assert.ok(r.ok);
  assert.equal(r.value.qop, 'auth-int');
  assert.equal(
    paramsOf(r.value.header).response,
    computeResponse({ algorithm: 'MD5', username: 'u', realm: 'r', password: 'p', nonce: 'n', method: 'MESSAGE', uri: 'sip:b@r', qop: 'auth-int', nc: '00000001', cnonce: 'cn', body: 'hello' }),
  );
});

// ---- server --------------------------------------------------------------------------------

function makeServer(overrides: Partial<DigestServerOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  let salt = 0;
  const server = new DigestServer({
    realm: 'clicktocall',
    secret: Buffer.alloc(32, 7),
    nonceTtlMs: 60_000,
    algorithms: ['MD5', 'SHA-256'],
    now: () => clock.t,
    maxTrackedNonces: 100,
    random: (size) => {
      const b = Buffer.alloc(size);
      b.writeUInt32BE(++salt, 0);
      return b;
    },
    ...overrides,
  });
  return { server, clock };
}

const USERS: Record<string, string> = { alice: 'wonderland', bob: 'builder' };
const lookupPassword = (user: string): string | undefined => USERS[user];
const REQUEST = { method: 'INVITE', uri: 'sip:bob@example.com', lookupPassword };

function answer(client: DigestClient, challenges: string[], user = 'alice', password = USERS[user] ?? 'x', uri = REQUEST.uri) {
  const r = client.authorize(challengesOf(challenges), { username: user, password }, { method: REQUEST.method, uri });
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value.header;
}

test('server: challenges are one per algorithm, SHA-256 first, qop="auth", same fresh nonce', () => {
  const { server } = makeServer();
  const values = server.challenge();
  assert.equal(values.length, 2);
  const list = challengesOf(values);
  assert.deepEqual(list.map((c) => c.params.algorithm), ['SHA-256', 'MD5']);
  for (const c of list) {
    assert.equal(c.params.qop, 'auth');
    assert.equal(c.params.realm, 'clicktocall');
    assert.equal(c.params.stale, undefined);
  }
  assert.equal(list[0]!.params.nonce, list[1]!.params.nonce);
  assert.match(values[0]!, /^Digest realm="clicktocall", nonce="[A-Za-z0-9_-]{43}", algorithm=SHA-256, qop="auth"$/);
  assert.notEqual(challengesOf(server.challenge())[0]!.params.nonce, list[0]!.params.nonce);
  assert.equal(challengesOf(server.challenge({ stale: true }))[0]!.params.stale, 'true');
});

for (const algorithm of ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'] as DigestAlgorithm[]) {
  test(`round trip client → server with ${algorithm}`, () => {
    const { server } = makeServer({ algorithms: [algorithm] });
    const client = new DigestClient();
    const header = answer(client, server.challenge());
    assert.equal(paramsOf(header).algorithm, algorithm);
    const verdict = server.verify(header, REQUEST);
    assert.deepEqual(verdict, { ok: true, username: 'alice', algorithm, nc: 1 });
  });
}

test('server: the same nc again is a replay; a higher nc on the same nonce is accepted', () => {
  const { server } = makeServer();
  const client = new DigestClient();
  const challenge = server.challenge();
  const h1 = answer(client, challenge);
  const h2 = answer(client, challenge);
  const h3 = answer(client, challenge);
  assert.equal(server.verify(h1, REQUEST).ok, true);
  assert.deepEqual(server.verify(h1, REQUEST), { ok: false, reason: 'replay', username: 'alice' });
  // nc 3 before nc 2: 3 is accepted, then 2 is not above the highest seen.
  assert.deepEqual(server.verify(h3, REQUEST), { ok: true, username: 'alice', algorithm: 'SHA-256', nc: 3 });
  assert.equal(server.verify(h2, REQUEST).ok, false);
  assert.equal(server.trackedNonceCount, 1);
});

test('server: an expired nonce with the right password is stale; the fresh challenge then works', () => {
  const { server, clock } = makeServer();
  const client = new DigestClient();
  const header = answer(client, server.challenge());
  clock.t += 60_001;
  assert.deepEqual(server.verify(header, REQUEST), { ok: false, reason: 'stale', stale: true, username: 'alice' });
  const again = server.challenge({ stale: true });
  const retry = client.authorize(challengesOf(again), { username: 'alice', password: 'wonderland' }, { method: 'INVITE', uri: REQUEST.uri });
  assert.ok(retry.ok);
  assert.equal(retry.value.stale, true);
  assert.equal(server.verify(retry.value.header, REQUEST).ok, true);
  // Within the TTL is fine (boundary inclusive).
  const h = answer(client, server.challenge());
  clock.t += 60_000;
  assert.equal(server.verify(h, REQUEST).ok, true);
});

test('server: an expired nonce with a wrong password is bad-response, not stale', () => {
  const { server, clock } = makeServer();
  const header = answer(new DigestClient(), server.challenge(), 'alice', 'guess');
  clock.t += 120_000;
  assert.deepEqual(server.verify(header, REQUEST), { ok: false, reason: 'bad-response', username: 'alice' });
});

test('server: wrong password, unknown user, other realm, uri mismatch', () => {
  const { server } = makeServer();
  const client = new DigestClient();
  assert.deepEqual(server.verify(answer(client, server.challenge(), 'alice', 'nope'), REQUEST), { ok: false, reason: 'bad-response', username: 'alice' });
  assert.deepEqual(server.verify(answer(client, server.challenge(), 'mallory', 'x'), REQUEST), { ok: false, reason: 'unknown-user', username: 'mallory' });
  const otherRealm = server.challenge().map((v) => v.replace('realm="clicktocall"', 'realm="elsewhere"'));
  assert.equal(server.verify(answer(client, otherRealm), REQUEST).ok, false);
  assert.equal((server.verify(answer(client, otherRealm), REQUEST) as { reason: string }).reason, 'realm');
  const forOtherUri = answer(client, server.challenge(), 'alice', 'wonderland', 'sip:carol@example.com');
  assert.deepEqual(server.verify(forOtherUri, REQUEST), { ok: false, reason: 'uri-mismatch' });
  // Whitespace around the caller's URI is trimmed (documented).
  assert.equal(server.verify(answer(client, server.challenge()), { ...REQUEST, uri: ` ${REQUEST.uri} ` }).ok, true);
  // A lookup that throws counts as an unknown user, it does not escape.
  const throwing = { ...REQUEST, lookupPassword: () => { throw new Error('db down'); } };
  assert.equal((server.verify(answer(client, server.challenge()), throwing) as { reason: string }).reason, 'unknown-user');
});

test('server: a tampered method or nonce is refused', () => {
  const { server } = makeServer();
  const client = new DigestClient();
  assert.equal((server.verify(answer(client, server.challenge()), { ...REQUEST, method: 'BYE' }) as { reason: string }).reason, 'bad-response');
  // A nonce we never issued, answered with the right password → stale (RFC 7616 §3.3), so
  // the client re-tries with our nonce; with a wrong password → bad-response.
  const forged = challengesOf('Digest realm="clicktocall", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", qop="auth", algorithm=SHA-256');
  const right = client.authorize(forged, { username: 'alice', password: 'wonderland' }, REQUEST);
  assert.ok(right.ok);
  assert.deepEqual(server.verify(right.value.header, REQUEST), { ok: false, reason: 'stale', stale: true, username: 'alice' });
  const other = makeServer({ secret: Buffer.alloc(32, 9) }).server;
  const fromOther = answer(client, other.challenge());
  assert.equal((server.verify(fromOther, REQUEST) as { reason: string }).reason, 'stale');
});

test('server: missing, malformed, wrong scheme, wrong algorithm or qop', () => {
  const { server } = makeServer({ algorithms: ['SHA-256'] });
  const reason = (c: Parameters<DigestServer['verify']>[0]): string => {
    const r = server.verify(c, REQUEST);
    assert.equal(r.ok, false);
    return (r as { reason: string }).reason;
  };
  assert.equal(reason(undefined), 'missing');
  assert.equal(reason(''), 'missing');
  assert.equal(reason([]), 'missing');
  assert.equal(reason('Digest username="alice", realm="clicktocall", nonce="x'), 'malformed');
  assert.equal(reason('garbage ,,, "'), 'malformed');
  assert.equal(reason('Digest realm="clicktocall", nonce="n", uri="sip:bob@example.com"'), 'malformed');
  assert.equal(reason('Basic YWxpY2U6d29uZGVybGFuZA=='), 'scheme');
  const nonce = challengesOf(server.challenge())[0]!.params.nonce!;
  const good = { username: 'alice', realm: 'clicktocall', nonce, uri: REQUEST.uri, algorithm: 'SHA-256', qop: 'auth', nc: '00000001', cnonce: 'c', response: 'a'.repeat(64) };
  const withParams = (p: Record<string, string | undefined>) => {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...good, ...p })) if (v !== undefined) params[k] = v;
    return { scheme: 'Digest', params };
  };
  assert.equal(reason(withParams({})), 'bad-response');
  assert.equal(reason(withParams({ algorithm: 'MD5' })), 'algorithm');
  assert.equal(reason(withParams({ algorithm: undefined })), 'algorithm'); // absent = MD5, not offered
  assert.equal(reason(withParams({ qop: undefined })), 'qop');
  assert.equal(reason(withParams({ qop: 'auth-int' })), 'qop');
  assert.equal(reason(withParams({ nc: '1' })), 'malformed');
  assert.equal(reason(withParams({ nc: '0000000g' })), 'malformed');
  assert.equal(reason(withParams({ nc: '00000000' })), 'malformed');
  assert.equal(reason(withParams({ cnonce: undefined })), 'malformed');
  assert.equal(reason(withParams({ response: 'abc' })), 'malformed');
  assert.equal(reason(withParams({ response: 'z'.repeat(64) })), 'malformed');
  assert.equal(reason(withParams({ username: undefined })), 'malformed');
  assert.equal(reason({ scheme: 'Digest' } as unknown as Parameters<DigestServer['verify']>[0]), 'malformed');
  assert.equal(reason(42 as unknown as string), 'malformed');
});

test('server: of several Authorization values the one for our realm is used', () => {
  const { server } = makeServer();
  const client = new DigestClient();
  const ours = answer(client, server.challenge());
  const verdict = server.verify(['Digest username="x", realm="proxy", nonce="n", uri="u", response="r"', 'Basic abc=', ours], REQUEST);
  assert.equal(verdict.ok, true);
});

test('server: the replay map is bounded; a forgotten nonce is answered stale, never accepted twice', () => {
  const { server } = makeServer({ maxTrackedNonces: 3 });
  const client = new DigestClient();
  const challenges = Array.from({ length: 5 }, () => server.challenge());
  const first = challenges.map((c) => answer(client, c));
  for (const h of first) assert.equal(server.verify(h, REQUEST).ok, true);
  assert.equal(server.trackedNonceCount, 3);
  // The first two nonces were forgotten: their replays must not pass.
  assert.deepEqual(server.verify(first[0]!, REQUEST), { ok: false, reason: 'stale', stale: true, username: 'alice' });
  assert.equal(server.verify(first[1]!, REQUEST).ok, false);
  // Still tracked ones give replay.
  assert.equal((server.verify(first[4]!, REQUEST) as { reason: string }).reason, 'replay');
  // A nonce issued after the forgotten ones still works.
  assert.equal(server.verify(answer(client, server.challenge()), REQUEST).ok, true);
});

test('server: after a restart with the same secret, older nonces are stale (their nc history is gone)', () => {
  const clock = { t: 5_000 };
  const options = { realm: 'clicktocall', secret: Buffer.alloc(32, 1), nonceTtlMs: 60_000, algorithms: ['SHA-256'] as DigestAlgorithm[], now: () => clock.t, maxTrackedNonces: 10 };
  const before = new DigestServer(options);
  const header = answer(new DigestClient(), before.challenge());
  assert.equal(before.verify(header, REQUEST).ok, true);
  clock.t += 1_000;
  const after = new DigestServer(options);
  assert.deepEqual(after.verify(header, REQUEST), { ok: false, reason: 'stale', stale: true, username: 'alice' });
  assert.equal(after.verify(answer(new DigestClient(), after.challenge()), REQUEST).ok, true);
});

test('server: expired entries leave the replay map as new nonces are used', () => {
  const { server, clock } = makeServer({ maxTrackedNonces: 1000 });
  const client = new DigestClient();
  for (let i = 0; i < 3; i++) assert.equal(server.verify(answer(client, server.challenge()), REQUEST).ok, true);
  assert.equal(server.trackedNonceCount, 3);
  clock.t += 61_000;
  for (let i = 0; i < 3; i++) assert.equal(server.verify(answer(client, server.challenge()), REQUEST).ok, true);
  assert.equal(server.trackedNonceCount, 3);
});

test('server: the constructor refuses bad options', () => {
  assert.throws(() => makeServer({ realm: '' }), RangeError);
  assert.throws(() => makeServer({ realm: 'a\r\nb' }), RangeError);
  assert.throws(() => makeServer({ nonceTtlMs: 0 }), RangeError);
  assert.throws(() => makeServer({ algorithms: [] }), RangeError);
  assert.throws(() => makeServer({ algorithms: ['SHA-1' as DigestAlgorithm] }), RangeError);
  assert.throws(() => makeServer({ maxTrackedNonces: 0 }), RangeError);
  assert.throws(() => makeServer({ secret: Buffer.alloc(4) }), RangeError);
});
