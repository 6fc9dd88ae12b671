import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventPublisher } from '../../src/call/publisher.js';
import type { CallEvent } from '../../src/call/events.js';
import { verify } from '../../src/api/hooks/signature.js';
import { startWebhooks, type WebhookDeps } from '../../src/api/webhooks/webhooks.js';
import type { AttemptReport } from '../../src/api/webhooks/delivery-queue.js';
import { FakeClock } from '../support/fake-clock.js';
import { auth, restFixture } from '../support/rest-fixture.js';

const SECRET = 'hook-secret';

/**
 * What each test opened (receivers, webhooks with their retry timers), closed after it even when
 * an assertion threw half-way: otherwise a failing test leaves a listening socket and the file
 * hangs instead of reporting the failure. Closing twice is harmless.
 */
const opened: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) {
    try {
      await close();
    } catch {
      // already closed by the test itself
    }
  }
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP receiver on 127.0.0.1: answers each POST with the next scripted status ('hang': never). */
class Receiver {
  readonly received: Received[] = [];
  script: (number | 'hang')[] = [];
  fallback: number | 'hang' = 200;
  private readonly server: Server;
  private readonly hanging: ServerResponse[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', headers: req.headers, body });
        const what = this.script.shift() ?? this.fallback;
        if (what === 'hang') {
          this.hanging.push(res);
          return;
        }
        if (what >= 300 && what < 400) res.setHeader('location', `${this.url}/elsewhere`);
        res.writeHead(what).end('ok');
      });
    });
  }

  url = '';

  async start(): Promise<this> {
    opened.push(() => this.stop());
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private stopped: Promise<void> | undefined;

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      for (const res of this.hanging) res.destroy();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    return this.stopped;
  }
}

/** Attempt reports, and a way to wait (≤ 2 s) for the n-th. */
class Attempts {
  readonly reports: AttemptReport[] = [];
  private wake: (() => void) | undefined;
  readonly onAttempt = (r: AttemptReport) => {
    this.reports.push(r);
    this.wake?.();
  };

  async count(n: number): Promise<void> {
    const deadline = Date.now() + 2000;
    while (this.reports.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} attempts, saw ${JSON.stringify(this.reports)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}

function event(kind: CallEvent['kind'], seq: number, extra: Partial<CallEvent> = {}): CallEvent {
  return { callId: 'c1', seq, time: 1_700_000_000_000 + seq, kind, leg: undefined, code: 100, text: kind, final: false, ...extra };
}

function setup(receiver: Receiver, over: Partial<WebhookDeps> = {}) {
  const clock = new FakeClock(1_700_000_000_000);
  const publisher = new EventPublisher();
  const attempts = new Attempts();
  const hooks = startWebhooks({
    publisher, urls: [`${receiver.url}/all`], secret: SECRET, timers: clock, onAttempt: attempts.onAttempt, ...over,
  });
  opened.push(() => hooks.stop());
  return { clock, publisher, attempts, hooks };
}

test('every event is POSTed to WebhookUrl as JSON, signed (decisions §7), with delivery and event headers', async () => {
  const receiver = await new Receiver().start();
  const { publisher, attempts, hooks, clock } = setup(receiver);
  const e = event('initiated', 1, { translatedInitiator: 'sip:a@x' });
  publisher.publish(e);
  await attempts.count(1);
  assert.equal(attempts.reports[0]!.outcome, 'delivered');
  const got = receiver.received[0]!;
  assert.equal(got.path, '/all');
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(got.headers['clicktocall-event'], 'initiated');
  assert.match(String(got.headers['clicktocall-delivery']), /^[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse(got.body), JSON.parse(JSON.stringify(e)));
  const signature = String(got.headers['clicktocall-signature']);
  assert.match(signature, /^t=1700000000,v1=[0-9a-f]{64}$/);
  assert.ok(verify(SECRET, got.body, signature, clock.now()));
  assert.ok(!verify('other-secret', got.body, signature, clock.now()));
  hooks.stop();
  await receiver.stop();
});

test('failed deliveries are retried with exponential back-off, signed afresh, same delivery id', async () => {
  const receiver = await new Receiver().start();
  receiver.script = [500, 503, 200];
  const { publisher, attempts, hooks, clock } = setup(receiver);
  publisher.publish(event('ringing', 2));
  await attempts.count(1);
  assert.deepEqual(attempts.reports[0], { url: `${receiver.url}/all`, deliveryId: attempts.reports[0]!.deliveryId, attempt: 1, status: 500, outcome: 'retry', retryInMs: 1000 });
  clock.advance(999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(receiver.received.length, 1, 'not before the back-off');
  clock.advance(1);
  await attempts.count(2);
  assert.equal(attempts.reports[1]!.retryInMs, 2000);
  clock.advance(2000);
  await attempts.count(3);
  assert.equal(attempts.reports[2]!.outcome, 'delivered');
  const [a, b, c] = receiver.received;
  assert.equal(a!.headers['clicktocall-delivery'], c!.headers['clicktocall-delivery']);
  assert.deepEqual([a, b, c].map((r) => r!.headers['clicktocall-attempt']), ['1', '2', '3']);
  // A fresh signature per attempt: t moved with the clock, and each verifies.
  assert.notEqual(a!.headers['clicktocall-signature'], c!.headers['clicktocall-signature']);
  for (const r of [a, b, c]) assert.ok(verify(SECRET, r!.body, String(r!.headers['clicktocall-signature']), clock.now()));
  assert.deepEqual(hooks.stats()[`${receiver.url}/all`], { queued: 0, inFlight: false, delivered: 1, failed: 0, dropped: 0, attempts: 3 });
  hooks.stop();
  await receiver.stop();
});

test('at most 5 attempts (1 s, 2 s, 4 s, 8 s apart), then the delivery fails; the next one goes on', async () => {
  const receiver = await new Receiver().start();
  receiver.fallback = 502;
  const { publisher, attempts, hooks, clock } = setup(receiver);
  publisher.publish(event('ringing', 2));
  publisher.publish(event('answered', 3));
  for (let n = 1; n <= 5; n++) {
    await attempts.count(n);
    if (n < 5) {
      assert.equal(attempts.reports[n - 1]!.retryInMs, 1000 * 2 ** (n - 1));
      clock.advance(attempts.reports[n - 1]!.retryInMs!);
    }
  }
  assert.equal(attempts.reports[4]!.outcome, 'failed');
  receiver.fallback = 200;
  await attempts.count(6);
  assert.equal(attempts.reports[5]!.outcome, 'delivered');
  assert.equal(JSON.parse(receiver.received[5]!.body).kind, 'answered');
  const stats = hooks.stats()[`${receiver.url}/all`]!;
  assert.equal(stats.failed, 1);
  assert.equal(stats.delivered, 1);
  hooks.stop();
  await receiver.stop();
});

test('an attempt that gets no answer times out and is retried; a 4xx is not retried; redirects are not followed', async () => {
  const receiver = await new Receiver().start();
  receiver.script = ['hang', 200, 400, 302];
  const { publisher, attempts, hooks, clock } = setup(receiver, { limits: { attemptTimeoutMs: 5000, maxAttempts: 2 } });
  publisher.publish(event('ringing', 2));
  const deadline = Date.now() + 2000;
  while (receiver.received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  clock.advance(5000);
  await attempts.count(1);
  assert.equal(attempts.reports[0]!.error, 'timeout');
  assert.equal(attempts.reports[0]!.outcome, 'retry');
  clock.advance(1000);
  await attempts.count(2);
  assert.equal(attempts.reports[1]!.outcome, 'delivered');
  publisher.publish(event('answered', 3));
  await attempts.count(3);
  assert.deepEqual([attempts.reports[2]!.status, attempts.reports[2]!.outcome], [400, 'failed']);
  publisher.publish(event('connected', 4));
  await attempts.count(4);
  assert.equal(attempts.reports[3]!.status, undefined);
  assert.equal(attempts.reports[3]!.outcome, 'retry');
  assert.ok(!receiver.received.some((r) => r.path === '/elsewhere'), 'the redirect was not followed');
  hooks.stop();
  await receiver.stop();
});

test('the queue is bounded: the oldest waiting delivery is dropped and counted; publishing never waits', async () => {
  const receiver = await new Receiver().start();
  receiver.fallback = 'hang';
  const { publisher, hooks } = setup(receiver, { limits: { maxQueued: 2 } });
  const started = performance.now();
  for (let i = 1; i <= 6; i++) publisher.publish(event('ringing', i));
  assert.ok(performance.now() - started < 50, 'publish only enqueues');
  const stats = hooks.stats()[`${receiver.url}/all`]!;
  assert.equal(stats.inFlight, true);
  assert.equal(stats.queued, 2);
  assert.equal(stats.dropped, 3);
  hooks.stop();
  assert.equal(hooks.stats()[`${receiver.url}/all`]!.dropped, 5, 'stop drops what waits');
  await receiver.stop();
});

test('droppedQueueFull: the queue-full drops of WebhookUrl and statusCallback queues, kept when a callback queue is let go; not the drops of stop()', async () => {
  const receiver = await new Receiver().start();
  receiver.fallback = 'hang';
  const { publisher, attempts, hooks, clock } = setup(receiver, { limits: { maxQueued: 1, maxAttempts: 1, attemptTimeoutMs: 5000 } });
  // A failed assertion must not leave the hanging receiver holding the test process open.
  try {
    const all = `${receiver.url}/all`;
    const cbUrl = `${receiver.url}/cb`;
    assert.equal(hooks.droppedQueueFull, 0);
    // One in flight, one waiting, the rest dropped: one drop for WebhookUrl, two for the callback.
    for (let i = 1; i <= 3; i++) publisher.publish(event('ringing', i));
    const cb = hooks.forCall(cbUrl);
    for (let i = 1; i <= 4; i++) cb(event('ringing', i));
    assert.equal(hooks.droppedQueueFull, 3);
    assert.equal(hooks.droppedCallbacks, 0, 'a full queue is not a refused callback URL');
    assert.equal(hooks.stats()[cbUrl]!.dropped, 2);
    // Every attempt times out (one attempt each): both queues empty, and the callback's is let go.
    clock.advance(5000);
    await attempts.count(2);
    clock.advance(5000);
    await attempts.count(4);
    assert.deepEqual(Object.keys(hooks.stats()), [all], 'the idle statusCallback queue is gone, with its stats');
    assert.equal(hooks.droppedQueueFull, 3, 'its drops still count');
    // stop() drops what waits: counted in stats, but the queue was not full.
    for (let i = 4; i <= 5; i++) publisher.publish(event('ringing', i));
    assert.equal(hooks.stats()[all]!.queued, 1);
    hooks.stop();
    assert.equal(hooks.stats()[all]!.dropped, 2);
    assert.equal(hooks.droppedQueueFull, 3);
  } finally {
    hooks.stop();
    await receiver.stop();
  }
});

test('statusCallback: only the chosen kinds of that call, with its metadata; no WebhookUrl needed', async () => {
  const receiver = await new Receiver().start();
  const clock = new FakeClock(1_700_000_000_000);
  const attempts = new Attempts();
  let hooks: ReturnType<typeof startWebhooks> | undefined;
  const f = restFixture({
    webhooksFor: (publisher) => (hooks = startWebhooks({ publisher, urls: [], secret: SECRET, timers: clock, onAttempt: attempts.onAttempt })),
  });
  opened.push(() => f.close(), () => hooks?.stop());
  const res = await f.server.app.inject({
    method: 'POST', url: '/v1/calls', headers: { 'content-type': 'application/json', ...auth },
    payload: { initiator: '1001', destination: '1002', statusCallback: `${receiver.url}/cb`, statusCallbackEvents: ['initiated', 'failed'], metadata: { ticket: 'T-9' } },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id;
  assert.equal(res.json().statusCallback, `${receiver.url}/cb`);
  f.engine.emit(id, 'ringing', 'initiator', 180, 'Ringing initiator');
  f.engine.emit(id, 'failed', 'initiator', 486, 'Failed to connect to initiator', { reason: 'busy' });
  await attempts.count(2);
  const bodies = receiver.received.map((r) => JSON.parse(r.body));
  assert.deepEqual(bodies.map((b) => b.kind), ['initiated', 'failed']);
  assert.ok(bodies.every((b) => b.callId === id && b.metadata.ticket === 'T-9'));
  assert.equal(f.publisher.callSubscriptions, 0, 'the per-call listener is gone after the last event');
  hooks!.stop();
  await f.close();
  await receiver.stop();
});

test('statusCallback URLs are bounded: beyond maxCallbackUrls pending, an event for a further URL is dropped and counted until one goes idle', async () => {
  const receiver = await new Receiver().start();
  receiver.fallback = 'hang';
  const { attempts, hooks, clock } = setup(receiver, { urls: [], maxCallbackUrls: 2, limits: { maxAttempts: 1, attemptTimeoutMs: 5000 } });
  const url = (n: number) => `${receiver.url}/cb${n}`;
  const [cb1, cb2, cb3] = [1, 2, 3].map((n) => hooks.forCall(url(n)));
  cb1!(event('initiated', 1));
  cb2!(event('initiated', 1));
  cb2!(event('ringing', 2)); // a URL already pending takes more: queued, not dropped
  cb3!(event('initiated', 1));
  cb3!(event('ringing', 2));
  assert.equal(hooks.droppedCallbacks, 2, 'both events for the third URL are dropped and counted');
  assert.deepEqual(Object.keys(hooks.stats()).sort(), [url(1), url(2)]);
  assert.equal(hooks.stats()[url(2)]!.queued, 1);
  const deadline = Date.now() + 2000;
  while (receiver.received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(receiver.received.map((r) => r.path).sort(), ['/cb1', '/cb2']);
  // Both attempts time out and fail: /cb1 has no work left and gives up its place; /cb2 goes on.
  clock.advance(5000);
  await attempts.count(2);
  assert.deepEqual(Object.keys(hooks.stats()).sort(), [url(2)]);
  cb3!(event('answered', 3));
  assert.equal(hooks.droppedCallbacks, 2, 'not dropped once a place is free');
  while (!receiver.received.some((r) => r.path === '/cb3') && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 10));
  const third = receiver.received.filter((r) => r.path === '/cb3');
  assert.deepEqual(third.map((r) => JSON.parse(r.body).kind), ['answered']);
  hooks.stop();
  await receiver.stop();
});

test('statusCallback without webhooks wired is refused, naming the field', async () => {
  const f = restFixture();
  opened.push(() => f.close());
  const res = await f.server.app.inject({
    method: 'POST', url: '/v1/calls', headers: { 'content-type': 'application/json', ...auth },
    payload: { initiator: '1001', destination: '1002', statusCallback: 'http://127.0.0.1:9/cb' },
  });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().errors[0].field, 'statusCallback');
  assert.equal(f.engine.started.length, 0);
  await f.close();
});
