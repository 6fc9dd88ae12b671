import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpAuthenticator } from '../../src/api/http/auth.js';
import { auth, KEY, restFixture, SLOW_KEY } from '../support/rest-fixture.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json', ...auth }, payload: JSON.stringify(body) });

test('POST /v1/calls: 201, Location, translated URIs, state, events; the engine got a REST request keyed by the API key', async () => {
  const f = restFixture();
  const res = await f.server.app.inject({
    method: 'POST', url: '/v1/calls',
    headers: { 'content-type': 'application/json', ...auth },
    payload: { initiator: '1001', destination: 'sip:bob@example.org', mode: 'anchored', ringTimeout: 20, maxDuration: 600, callerId: 'Sales', transferPolicy: 'reject', metadata: { crm: '42' } },
  });
  assert.equal(res.statusCode, 201, res.body);
  const call = res.json();
  assert.equal(res.headers.location, `/v1/calls/${call.id}`);
  assert.equal(call.initiator, 'sip:1001@example.com');
  assert.equal(call.destination, 'sip:bob@example.org');
  assert.equal(call.rawInitiator, '1001');
  assert.equal(call.state, 'in-progress');
  assert.equal(call.phase, 'calling-initiator');
  assert.equal(call.mode, 'anchored');
  assert.equal(call.trigger, 'rest');
  assert.deepEqual(call.metadata, { crm: '42' });
  assert.deepEqual(call.events.map((e: { kind: string }) => e.kind), ['initiated']);
  const req = f.engine.started[0]!;
  assert.equal(req.client.trigger, 'rest');
  assert.equal(req.client.key, 'key:crm');
  assert.equal(req.options.ringTimeoutMs, 20_000);
  assert.equal(req.options.maxDurationMs, 600_000);
  assert.equal(req.options.callerId, 'Sales');
  assert.equal(req.options.transferPolicy, 'reject');
  await f.close();
});

test('auth: no credentials from another host → 401 problem+json with a Bearer challenge; wrong key → 401 invalid_token', async () => {
  const f = restFixture();
  const anon = await f.server.app.inject({ method: 'GET', url: '/v1/calls', remoteAddress: '192.0.2.7' });
  assert.equal(anon.statusCode, 401);
  assert.match(String(anon.headers['content-type']), /^application\/problem\+json/);
  assert.match(String(anon.headers['www-authenticate']), /^Bearer realm="clicktocall"/);
  const p = anon.json();
  assert.equal(p.status, 401);
  assert.equal(p.instance, '/v1/calls');
  assert.match(p.detail, /Bearer/);
  // With keys configured, even loopback needs one.
  const local = await f.server.app.inject({ method: 'GET', url: '/v1/calls' });
  assert.equal(local.statusCode, 401);
  const wrong = await f.server.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.statusCode, 401);
  assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
  const ok = await f.server.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: `Bearer ${KEY}` }, remoteAddress: '192.0.2.7' });
  assert.equal(ok.statusCode, 200);
  await f.close();
});

test('loopback exception: no ApiKey and HttpAuth off → loopback (also ::ffff:127.0.0.1, ::1) allowed, other hosts refused', async () => {
  const f = restFixture({ apiKeys: [] });
  for (const remoteAddress of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) {
    const res = await f.server.app.inject({ method: 'GET', url: '/v1/calls', remoteAddress });
    assert.equal(res.statusCode, 200, remoteAddress);
  }
  const remote = await f.server.app.inject({ method: 'GET', url: '/v1/calls', remoteAddress: '198.51.100.1' });
  assert.equal(remote.statusCode, 401);
  await f.close();
  // HttpAuth on: no loopback exception; the admin credentials (Basic here) work.
  const admin = new HttpAuthenticator({ password: 's3cret', realm: 'test' });
  const g = restFixture({ apiKeys: [], admin });
  const anon = await g.server.app.inject({ method: 'GET', url: '/v1/calls' });
  assert.equal(anon.statusCode, 401);
  const challenges = anon.headers['www-authenticate'] as string[];
  assert.ok(challenges.some((c) => c.startsWith('Digest')) && challenges.some((c) => c.startsWith('Basic')));
  const basic = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
  const ok = await g.server.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: basic }, remoteAddress: '198.51.100.1' });
  assert.equal(ok.statusCode, 200);
  const bad = await g.server.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` } });
  assert.equal(bad.statusCode, 401);
  assert.match(String(bad.headers['content-type']), /problem\+json/);
  await g.close();
});

test('per-key callsPerSecond: the third call in a second → 429 problem with Retry-After; refilled after a second', async () => {
  const f = restFixture();
  const post = () => f.server.app.inject({
    method: 'POST', url: '/v1/calls', headers: { 'content-type': 'application/json', authorization: `Bearer ${SLOW_KEY}` },
    payload: { initiator: '1001', destination: '1002' },
  });
  assert.equal((await post()).statusCode, 201);
  assert.equal((await post()).statusCode, 201);
  const limited = await post();
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.headers['retry-after'], '1');
  assert.match(limited.json().detail, /slow/);
  assert.equal(f.engine.started.length, 2);
  f.clock.advance(1000);
  assert.equal((await post()).statusCode, 201);
  // Another key is not limited by this one.
  for (let i = 0; i < 5; i++) {
    const r = await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json({ initiator: '1', destination: '2' }) });
    assert.equal(r.statusCode, 201);
  }
  await f.close();
});

test('validation: missing initiator → 400 naming initiator; bad types, enums and unknown fields are named too', async () => {
  const f = restFixture();
  const cases: [unknown, string][] = [
    [{ destination: '1002' }, 'initiator'],
    [{ initiator: '1001' }, 'destination'],
    [{ initiator: '1001', destination: '1002', mode: 'bridge' }, 'mode'],
    [{ initiator: '1001', destination: '1002', ringTimeout: 0 }, 'ringTimeout'],
    [{ initiator: '1001', destination: '1002', metadata: { a: {} } }, 'metadata.a'],
    [{ initiator: '1001', destination: '1002', statusCallback: 'ftp://x' }, 'statusCallback'],
    [{ initiator: '1001', destination: '1002', statusCallbackEvents: ['rang'] }, 'statusCallbackEvents.0'],
    [{ initiator: '1001', destination: '1002', ringtimeout: 5 }, 'ringtimeout'],
    [{ initiator: 'nobody', destination: '1002' }, 'initiator'],
    [{ initiator: '1001', destination: 'nowhere' }, 'destination'],
    [{ initiator: '   ', destination: '1002' }, 'initiator'],
  ];
  for (const [body, field] of cases) {
    const res = await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json(body) });
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const p = res.json();
    assert.equal(p.errors[0].field, field, JSON.stringify(p));
    assert.ok(p.detail.includes(field), p.detail);
  }
  const notJson = await f.server.app.inject({ method: 'POST', url: '/v1/calls', headers: { 'content-type': 'application/json', ...auth }, payload: '{"initiator":' });
  assert.equal(notJson.statusCode, 400);
  assert.match(String(notJson.headers['content-type']), /problem\+json/);
  assert.equal(f.engine.started.length, 0);
  await f.close();
});

test('Idempotency-Key: same key + same body → same call, no second call; different body → 422', async () => {
  const f = restFixture();
  const post = (body: unknown, key: string) => f.server.app.inject({
    method: 'POST', url: '/v1/calls', headers: { 'content-type': 'application/json', ...auth, 'idempotency-key': key }, payload: JSON.stringify(body),
  });
  const first = await post({ initiator: '1001', destination: '1002', metadata: { a: 'x', b: 'y' } }, 'k-1');
  assert.equal(first.statusCode, 201);
  // Same body, other key order: the same request.
  const again = await post({ metadata: { b: 'y', a: 'x' }, destination: '1002', initiator: '1001' }, 'k-1');
  assert.equal(again.statusCode, 201);
  assert.equal(again.json().id, first.json().id);
  assert.equal(again.headers.location, first.headers.location);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(f.engine.started.length, 1);
  const other = await post({ initiator: '1001', destination: '1003' }, 'k-1');
  assert.equal(other.statusCode, 422);
  assert.equal(other.json().callId, first.json().id);
  assert.equal(f.engine.started.length, 1);
  // Another key places another call.
  assert.equal((await post({ initiator: '1001', destination: '1002' }, 'k-2')).statusCode, 201);
  assert.equal(f.engine.started.length, 2);
  await f.close();
});

test('engine refusals are problems with the call id (403 policy, 503 limit with Retry-After)', async () => {
  const f = restFixture();
  f.engine.refuse = { status: 403, reason: 'destination-not-allowed', text: 'Refused: sip:1900@example.com is not an allowed destination' };
  const res = await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json({ initiator: '1001', destination: '1900' }) });
  assert.equal(res.statusCode, 403);
  const p = res.json();
  assert.equal(p.reason, 'destination-not-allowed');
  const call = await f.server.app.inject({ method: 'GET', url: `/v1/calls/${p.callId}`, headers: auth });
  assert.equal(call.json().state, 'refused');
  f.engine.refuse = { status: 503, reason: 'client-rate', text: 'Refused: call rate limit for this client' };
  const busy = await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json({ initiator: '1001', destination: '1002' }) });
  assert.equal(busy.statusCode, 503);
  assert.equal(busy.headers['retry-after'], '1');
  await f.close();
});

test('GET /v1/calls/{id} follows the call; DELETE hangs up; 404 unknown; 409 already ended', async () => {
  const f = restFixture();
  const id = (await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json({ initiator: '1001', destination: '1002' }) })).json().id;
  f.engine.emit(id, 'ringing', 'initiator', 180, 'Ringing initiator');
  f.engine.emit(id, 'answered', 'initiator', 200, 'Connected to initiator');
  f.engine.emit(id, 'connected', 'destination', 200, 'Connected to destination');
  const live = (await f.server.app.inject({ method: 'GET', url: `/v1/calls/${id}`, headers: auth })).json();
  assert.equal(live.state, 'connected');
  assert.equal(live.phase, 'connected');
  assert.deepEqual(live.events.map((e: { kind: string }) => e.kind), ['initiated', 'ringing', 'answered', 'connected']);
  assert.equal(live.legs.initiator.answeredAt, f.clock.now());
  const del = await f.server.app.inject({ method: 'DELETE', url: `/v1/calls/${id}`, headers: auth });
  assert.equal(del.statusCode, 200);
  assert.equal(del.json().state, 'completed');
  assert.equal(del.json().reason, 'hangup');
  const again = await f.server.app.inject({ method: 'DELETE', url: `/v1/calls/${id}`, headers: auth });
  assert.equal(again.statusCode, 409);
  assert.match(again.json().detail, /already ended/);
  const unknown = await f.server.app.inject({ method: 'DELETE', url: '/v1/calls/nope', headers: auth });
  assert.equal(unknown.statusCode, 404);
  assert.equal((await f.server.app.inject({ method: 'GET', url: '/v1/calls/nope', headers: auth })).statusCode, 404);
  // Unknown paths and wrong methods under /v1 are problems too.
  const wrongMethod = await f.server.app.inject({ method: 'PUT', url: `/v1/calls/${id}`, headers: auth });
  assert.equal(wrongMethod.statusCode, 405);
  assert.equal(wrongMethod.headers.allow, 'DELETE, GET, HEAD');
  assert.equal((await f.server.app.inject({ method: 'GET', url: '/v1/nothing', headers: auth })).statusCode, 404);
  await f.close();
});

test('GET /v1/calls pages newest first with nextCursor; state and since filter; bad cursor/since → 400', async () => {
  const f = restFixture();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json({ initiator: '1001', destination: `20${i}` }) })).json().id);
    f.clock.advance(1000);
  }
  f.engine.emit(ids[1]!, 'failed', 'initiator', 486, 'Failed to connect to initiator', { reason: 'initiator-failed' });
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const res = await f.server.app.inject({ method: 'GET', url: `/v1/calls?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: auth });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.ok(body.calls.length <= 2);
    assert.equal(body.calls[0].events, undefined);
    seen.push(...body.calls.map((c: { id: string }) => c.id));
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [...ids].reverse());
  const failed = (await f.server.app.inject({ method: 'GET', url: '/v1/calls?state=failed', headers: auth })).json();
  assert.deepEqual(failed.calls.map((c: { id: string }) => c.id), [ids[1]]);
  const since = new Date(1_700_000_000_000 + 3000).toISOString();
  const recent = (await f.server.app.inject({ method: 'GET', url: `/v1/calls?since=${since}`, headers: auth })).json();
  assert.deepEqual(recent.calls.map((c: { id: string }) => c.id), [ids[4], ids[3]]);
  const badCursor = await f.server.app.inject({ method: 'GET', url: '/v1/calls?cursor=zzz', headers: auth });
  assert.equal(badCursor.statusCode, 400);
  assert.equal(badCursor.json().errors[0].field, 'cursor');
  const badSince = await f.server.app.inject({ method: 'GET', url: '/v1/calls?since=yesterday', headers: auth });
  assert.equal(badSince.json().errors[0].field, 'since');
  const badLimit = await f.server.app.inject({ method: 'GET', url: '/v1/calls?limit=5000', headers: auth });
  assert.equal(badLimit.statusCode, 400);
  assert.equal(badLimit.json().errors[0].field, 'limit');
  await f.close();
});

test('a store, when given, answers ended calls and lists (and its bad cursor is a 400)', async () => {
  const { StoreQueryError } = await import('../../src/store/store.js');
  const record = {
    id: 'old-1', state: 'completed' as const, createdAt: 1, initiator: 'sip:a@x', destination: 'sip:b@x',
    legs: { initiator: {}, destination: {} }, transfers: [], events: [],
  };
  const queries: unknown[] = [];
  const f = restFixture({
    store: {
      get: (id) => (id === 'old-1' ? record : undefined),
      list: (q) => {
        queries.push(q);
        if (q.cursor === 'bad') throw new StoreQueryError('bad cursor');
        return { records: [record], nextCursor: 'next' };
      },
    },
  });
  const one = await f.server.app.inject({ method: 'GET', url: '/v1/calls/old-1', headers: auth });
  assert.equal(one.json().state, 'completed');
  const list = (await f.server.app.inject({ method: 'GET', url: '/v1/calls?state=completed&since=5&limit=3', headers: auth })).json();
  assert.deepEqual(list, { calls: [{ id: 'old-1', state: 'completed', initiator: 'sip:a@x', destination: 'sip:b@x', createdAt: 1, legs: { initiator: {}, destination: {} }, transfers: [] }], nextCursor: 'next' });
  assert.deepEqual(queries[0], { state: 'completed', since: 5, limit: 3, cursor: undefined });
  assert.equal((await f.server.app.inject({ method: 'GET', url: '/v1/calls?cursor=bad', headers: auth })).statusCode, 400);
  assert.equal((await f.server.app.inject({ method: 'DELETE', url: '/v1/calls/old-1', headers: auth })).statusCode, 409);
  await f.close();
});

test('the in-memory history is bounded', async () => {
  const f = restFixture({ historyCalls: 3 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await f.server.app.inject({ method: 'POST', url: '/v1/calls', ...json({ initiator: '1', destination: '2' }) })).json().id);
  for (const id of ids) f.engine.hangup(id);
  const list = (await f.server.app.inject({ method: 'GET', url: '/v1/calls', headers: auth })).json();
  assert.equal(list.calls.length, 3);
  assert.equal((await f.server.app.inject({ method: 'GET', url: `/v1/calls/${ids[0]}`, headers: auth })).statusCode, 404);
  await f.close();
});

test('a body that is not JSON → 415 problem; no body → 400 problem', async () => {
  const f = restFixture();
  const text = await f.server.app.inject({ method: 'POST', url: '/v1/calls', headers: { 'content-type': 'text/plain', ...auth }, payload: 'initiator=1' });
  assert.equal(text.statusCode, 415);
  assert.match(String(text.headers['content-type']), /^application\/problem\+json/);
  const none = await f.server.app.inject({ method: 'POST', url: '/v1/calls', headers: auth });
  assert.equal(none.statusCode, 400);
  assert.match(String(none.headers['content-type']), /^application\/problem\+json/);
  assert.equal(f.engine.started.length, 0);
  await f.close();
});

test('an unexpected exception is a 500 counted by the HTTP server (not swallowed)', async () => {
  const f = restFixture({ store: { get: () => { throw new Error('disk gone'); }, list: () => ({ records: [] }) } });
  const res = await f.server.app.inject({ method: 'GET', url: '/v1/calls/x', headers: auth });
  assert.equal(res.statusCode, 500);
  assert.doesNotMatch(res.body, /disk gone/);
  assert.equal(f.server.counters.internalErrors, 1);
  await f.close();
});
