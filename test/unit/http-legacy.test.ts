import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpServer } from '../../src/api/http/server.js';
import type { HttpServer } from '../../src/api/http/server.js';
import { MISSING_PARAMETERS_TEXT, parseLegacyQuery } from '../../src/api/http/legacy.js';
import type { LegacyCallHandler, LegacyCallRequest, LegacySubmitResult } from '../../src/api/http/types.js';

/** A stand-in engine: translates `digits` → `sip:digits@example.com`, refuses anything else. */
class FakeEngine implements LegacyCallHandler {
  readonly calls: LegacyCallRequest[] = [];
  next: LegacySubmitResult | undefined;

  submit(request: LegacyCallRequest): LegacySubmitResult {
    this.calls.push(request);
    if (this.next !== undefined) return this.next;
    const translate = (a: string) => (/^\+?\d+$/.test(a) ? `sip:${a}@example.com` : a.startsWith('sip:') ? a : undefined);
    const ti = translate(request.initiator);
    const td = translate(request.destination);
    if (ti === undefined || td === undefined) {
      return {
        ok: false,
        status: 400,
        text: `No translation rule for either initiator ${request.initiator} or destination ${request.destination}.`,
      };
    }
    const mode = request.mode ?? (request.anchor === true ? 'anchored' : 'refer');
    return { ok: true, callId: `c${this.calls.length}`, translatedInitiator: ti, translatedDestination: td, mode };
  }
}

function setup(): { server: HttpServer; engine: FakeEngine } {
  const engine = new FakeEngine();
  const server = createHttpServer({ hosts: [], port: 0 }, { legacy: { handler: engine } });
  return { server, engine };
}

function paragraphs(html: string): string[] {
  return [...html.matchAll(/<p>(.*?)<\/p>/gs)].map((m) => m[1]!);
}

test('GET /clicktocall.html places an unanchored call and answers with the replaced system text', async () => {
  const { server, engine } = setup();
  const res = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=sip:scott@sipdomain.com&destination=9055551234' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
  assert.equal(res.headers['cache-control'], 'no-store');
  const p = paragraphs(res.body);
  assert.equal(
    p[1],
    'Initiating ClickToCall from sip:scott@sipdomain.com(sip:scott@sipdomain.com) to sip:9055551234@example.com(9055551234) (unanchored)...',
  );
  assert.equal(engine.calls.length, 1);
  const call = engine.calls[0]!;
  assert.equal(call.initiator, 'sip:scott@sipdomain.com');
  assert.equal(call.destination, '9055551234');
  assert.equal(call.anchor, undefined);
  assert.equal(call.mode, undefined);
  assert.equal(call.via, 'http');
  assert.equal(call.client.address, '127.0.0.1');
  await server.close();
});

test('anchor=TRUE (any case) asks for an anchored call and the page says (anchored)', async () => {
  const { server, engine } = setup();
  const res = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1001&destination=1002&anchor=TRUE' });
  assert.equal(res.statusCode, 200);
  assert.equal(engine.calls[0]!.anchor, true);
  assert.equal(
    paragraphs(res.body)[1],
    'Initiating ClickToCall from sip:1001@example.com(1001) to sip:1002@example.com(1002) (anchored)...',
  );
  const res2 = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1001&destination=1002&anchor=False' });
  assert.equal(res2.statusCode, 200);
  assert.equal(engine.calls[1]!.anchor, false);
  assert.match(res2.body, /\(unanchored\)\.\.\./);
  await server.close();
});

test('the mode reported by the engine decides anchored/unanchored; mode= is passed on', async () => {
  const { server, engine } = setup();
  const res = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1001&destination=1002&mode=Anchored' });
  assert.equal(res.statusCode, 200);
  assert.equal(engine.calls[0]!.mode, 'anchored');
  assert.match(res.body, /\(anchored\)\.\.\./);
  const res2 = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1001&destination=1002&mode=ood-refer' });
  assert.equal(engine.calls[1]!.mode, 'ood-refer');
  assert.match(res2.body, /\(unanchored\)\.\.\./);
  await server.close();
});

test('missing or empty parameters → 400 with the replaced system text, and no call', async () => {
  const { server, engine } = setup();
  for (const url of [
    '/clicktocall.html',
    '/clicktocall.html?initiator=1001',
    '/clicktocall.html?destination=1002',
    '/clicktocall.html?initiator=&destination=1002',
    '/clicktocall.html?initiator=1001&destination=',
    '/clicktocall.html?initiator=%20&destination=1002',
  ]) {
    const res = await server.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 400, url);
    assert.equal(paragraphs(res.body)[1], MISSING_PARAMETERS_TEXT, url);
  }
  assert.equal(MISSING_PARAMETERS_TEXT, 'Missing initiator or destination URL parameters.');
  assert.equal(engine.calls.length, 0);
  await server.close();
});

test('a refusal from the engine (no translation rule) → its status with its text', async () => {
  const { server, engine } = setup();
  const res = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=alice&destination=bob' });
  assert.equal(res.statusCode, 400);
  assert.equal(paragraphs(res.body)[1], 'No translation rule for either initiator alice or destination bob.');
  engine.next = { ok: false, status: 503, text: 'Refused: draining' };
  const res2 = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1&destination=2' });
  assert.equal(res2.statusCode, 503);
  assert.equal(paragraphs(res2.body)[1], 'Refused: draining');
  await server.close();
});

test('a bad anchor or mode value → 400 naming the parameter, and no call', async () => {
  const { server, engine } = setup();
  const res = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1&destination=2&anchor=yes' });
  assert.equal(res.statusCode, 400);
  assert.equal(paragraphs(res.body)[1], 'Invalid anchor parameter &quot;yes&quot;: use true or false.');
  const res2 = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1&destination=2&mode=b2bua' });
  assert.equal(res2.statusCode, 400);
  assert.match(paragraphs(res2.body)[1]!, /^Invalid mode parameter &quot;b2bua&quot;: use refer, anchored, ood-refer\.$/);
  assert.equal(engine.calls.length, 0);
  await server.close();
});

test('values are HTML-escaped in the page', async () => {
  const { server } = setup();
  const res = await server.app.inject({
    method: 'GET',
    url: '/clicktocall.html?initiator=%3Cscript%3Ealert(1)%3C%2Fscript%3E&destination=a%26b',
  });
  assert.equal(res.statusCode, 400);
  assert.ok(!res.body.includes('<script>'));
  assert.match(res.body, /initiator=&lt;script&gt;alert\(1\)&lt;\/script&gt;, destination=a&amp;b/);
  await server.close();
});

test('HEAD /clicktocall.html checks the parameters but never places a call', async () => {
  const { server, engine } = setup();
  const ok = await server.app.inject({ method: 'HEAD', url: '/clicktocall.html?initiator=1&destination=2' });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.body, '');
  const bad = await server.app.inject({ method: 'HEAD', url: '/clicktocall.html' });
  assert.equal(bad.statusCode, 400);
  assert.equal(engine.calls.length, 0);
  await server.close();
});

test('/ and /index.html serve a page with a labelled form that GETs /clicktocall.html', async () => {
  const { server } = setup();
  for (const url of ['/', '/index.html']) {
    const res = await server.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<form method="get" action="\/clicktocall\.html">/);
    for (const name of ['initiator', 'destination', 'anchor']) {
      assert.match(res.body, new RegExp(`<label for="${name}">`));
      assert.match(res.body, new RegExp(`id="${name}" name="${name}"`));
    }
  }
  await server.close();
});

test('any other path → 301 to /index.html', async () => {
  const { server } = setup();
  for (const url of ['/foo', '/clicktocall.htm', '/index.html/x', '/a/b?c=d', '//evil.example/']) {
    const res = await server.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 301, url);
    assert.equal(res.headers.location, '/index.html', url);
  }
  const post = await server.app.inject({ method: 'POST', url: '/elsewhere' });
  assert.equal(post.statusCode, 301);
  await server.close();
});

test('a method other than GET/HEAD on a known path → 405 with Allow', async () => {
  const { server, engine } = setup();
  for (const [method, url] of [
    ['POST', '/clicktocall.html?initiator=1&destination=2'],
    ['PUT', '/index.html'],
    ['DELETE', '/'],
    ['OPTIONS', '/clicktocall.html'],
  ] as const) {
    const res = await server.app.inject({ method, url });
    assert.equal(res.statusCode, 405, `${method} ${url}`);
    assert.equal(res.headers.allow, 'GET, HEAD');
  }
  assert.equal(engine.calls.length, 0);
  await server.close();
});

test('/healthz → 200 {"status":"ok"}', async () => {
  const { server } = setup();
  const res = await server.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok' });
  await server.close();
});

test('an engine that throws → 500, counted, reported once', async () => {
  const reported: unknown[] = [];
  const logged: string[] = [];
  const server = createHttpServer(
    {
      hosts: [],
      port: 0,
      onInternalError: (err) => reported.push(err),
      logger: { info() {}, warn() {}, error: (_o, msg) => logged.push(msg ?? '') },
    },
    {
      legacy: {
        handler: {
          submit() {
            throw new Error('engine bug');
          },
        },
      },
    },
  );
  const res = await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1&destination=2' });
  assert.equal(res.statusCode, 500);
  assert.ok(!res.body.includes('engine bug'), 'internal details are not sent');
  assert.equal(server.counters.internalErrors, 1);
  assert.equal(reported.length, 1);
  assert.equal((reported[0] as Error).message, 'engine bug');
  assert.deepEqual(logged, ['http handler failed']);
  // The server keeps serving.
  const health = await server.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 200);
  await server.close();
});

test('without the legacy handler: no legacy routes, unknown paths 404, healthz still there', async () => {
  const server = createHttpServer({ hosts: [], port: 0 });
  assert.equal((await server.app.inject({ method: 'GET', url: '/clicktocall.html?initiator=1&destination=2' })).statusCode, 404);
  assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.equal((await server.app.inject({ method: 'POST', url: '/healthz' })).statusCode, 405);
  await server.close();
});

test('extra plugins are composed after the built-in routes', async () => {
  const engine = new FakeEngine();
  const server = createHttpServer(
    { hosts: [], port: 0 },
    {
      legacy: { handler: engine, page: false },
      plugins: [
        async (app) => {
          app.get('/index.html', async () => 'web ui');
          app.post('/v1/calls', async (request) => ({ got: request.body }));
        },
      ],
    },
  );
  assert.equal((await server.app.inject({ method: 'GET', url: '/index.html' })).body, 'web ui');
  const posted = await server.app.inject({ method: 'POST', url: '/v1/calls', payload: { a: 1 } });
  assert.deepEqual(posted.json(), { got: { a: 1 } });
  const big = await server.app.inject({
    method: 'POST',
    url: '/v1/calls',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }),
  });
  assert.equal(big.statusCode, 413, 'bodyLimit 64 KiB');
  const badJson = await server.app.inject({
    method: 'POST',
    url: '/v1/calls',
    headers: { 'content-type': 'application/json' },
    payload: '{nope',
  });
  assert.equal(badJson.statusCode, 400);
  assert.equal(server.counters.internalErrors, 0);
  await server.close();
});

test('parseLegacyQuery: + and %XX decoded, empty values ignored, last non-empty wins', () => {
  const q = parseLegacyQuery('/clicktocall.html?initiator=a+b%40c&initiator=&destination=1&destination=2#frag');
  assert.equal(q.ok, true);
  assert.equal(q.initiator, 'a b@c');
  assert.equal(q.destination, '2');
  const encodedPlus = parseLegacyQuery('/clicktocall.html?initiator=%2B15551234&destination=1');
  assert.equal(encodedPlus.initiator, '+15551234');
  const noQuery = parseLegacyQuery('/clicktocall.html');
  assert.equal(noQuery.ok, false);
});
