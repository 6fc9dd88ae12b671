/**
 * The web page in a real browser (issue 5): Debian's chromium driven by playwright-core places a
 * REFER call between two in-test phones on loopback from the form, sees the legs ring and the
 * call connect in the live table (SSE), opens the SIP ladder and finds the INVITE … REFER,
 * 202, NOTIFY rows, reads a message whole, moves through the ladder with the keyboard, and saves
 * a screenshot to test-artifacts/web-page.png. The server runs in this process.
 *
 * While src/server.ts does not serve the page yet, the test serves it itself beside the server
 * (createHttpServer + the REST plugin + the page + the trace route, all on the server's engine);
 * once the server answers /app.js, the server's own HTTP listener is used.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { parseConfigText, type Config } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createHttpServer, type HttpServer } from '../../src/api/http/index.js';
import { pagePlugin, PAGE_CSP } from '../../src/api/http/page.js';
import { traceRoutes } from '../../src/api/http/trace-route.js';
import { restPlugin, ApiKeyRing } from '../../src/api/rest/index.js';
import { restAuthHook } from '../../src/api/rest/auth.js';
import type { CallDeps } from '../../src/api/calls.js';
import { findFreeTcpPort } from '../support/baresip.js';
import { TestPhone } from '../support/sip-phone.js';
import { launchChromium, requireChromium } from '../support/chromium.js';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'web-page.png');
const WAIT_MS = 8000;

const cleanups: (() => Promise<unknown> | void)[] = [];
let base = '';
let server: RunningServer;
let alice: TestPhone;
let bob: TestPhone;
let context: BrowserContext;
let page: Page;
/** Console errors, uncaught exceptions and CSP violations in the page. */
const pageErrors: string[] = [];

after(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // the remaining clean-ups still run
    }
  }
});

/** The page's own HTTP server, for as long as src/server.ts does not serve it. */
function ownHttp(config: Config, running: RunningServer): HttpServer {
  const calls: CallDeps = {
    engine: running.engine,
    publisher: running.publisher,
    prepare: {
      rules: config.translationRules,
      defaultMode: config.defaultMode,
      defaults: {
        ringTimeoutMs: config.ringTimeout * 1000,
        maxDurationMs: config.maxCallDuration * 1000,
        holdOffer: config.holdOffer,
        referNotifyTimeoutMs: config.referNotifyTimeout * 1000,
        transferPolicy: config.transferPolicy,
      },
      newId: randomUUID,
    },
  };
  return createHttpServer({ hosts: ['127.0.0.1'], port: 0 }, {
    plugins: [
      restPlugin({ calls, apiKeys: [] }),
      pagePlugin(),
      traceRoutes(running.trace, { authenticate: restAuthHook({ keys: new ApiKeyRing([]) }) }),
    ],
  });
}

before(async () => {
  const executable = await requireChromium();
  const dir = mkdtempSync(join(tmpdir(), 'c2c-web-page-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const httpPort = await findFreeTcpPort();
  const { config, errors } = parseConfigText([
    `DatabaseFile = ${join(dir, 'calls.db')}`, 'RecordRetentionDays = 0',
    'IPAddress = 127.0.0.1', 'UDPTCPPort = 0', 'TLSPort = 0', `HttpPort = ${httpPort}`, 'XmlRpcPort = 0',
    'SipT1 = 20', 'SipT2 = 80', 'SipT4 = 100', 'SipTimerD = 500', 'LogLevel = NONE',
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
  ].join('\n'), 'test.config');
  assert.deepEqual(errors, []);
  server = await startServer(config, { logger: quiet });
  cleanups.push(() => server.shutdown(0));

  const probe = await fetch(`http://127.0.0.1:${httpPort}/app.js`, { redirect: 'manual' });
  if (probe.status === 200) {
    base = `http://127.0.0.1:${httpPort}/`;
  } else {
    const http = ownHttp(config, server);
    const [bound] = await http.listen();
    cleanups.push(() => http.close());
    base = `http://127.0.0.1:${bound!.port}/`;
  }

  alice = await TestPhone.start({ name: 'alice', behaviour: { ring: 300, answer: 2500, onRefer: 'execute' } });
  bob = await TestPhone.start({ name: 'bob', behaviour: { ring: 200, answer: 2000 } });
  cleanups.push(async () => {
    for (const p of [alice, bob]) await p.hangup().catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
  });
  // Registered before the phones' hang-up so that it runs after it (clean-ups run in reverse).
  cleanups.unshift(async () => {
    for (const p of [alice, bob]) await p.stop();
  });

  const profile = join(dir, 'profile');
  context = await launchChromium(profile, executable);
  cleanups.push(() => context.close());
  context.setDefaultTimeout(WAIT_MS);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => pageErrors.push(`exception: ${err.message}`));
});

test('the page and its files: content types, no-cache, a strict CSP, no inline script, 304 on a matching ETag', async () => {
  const types: Record<string, RegExp> = {
    '': /^text\/html; charset=utf-8$/,
    'index.html': /^text\/html; charset=utf-8$/,
    'app.js': /^text\/javascript; charset=utf-8$/,
    'style.css': /^text\/css; charset=utf-8$/,
  };
  for (const [path, type] of Object.entries(types)) {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', type, path);
    assert.equal(res.headers.get('cache-control'), 'no-cache', path);
    assert.equal(res.headers.get('content-security-policy'), PAGE_CSP, path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    const body = await res.text();
    if (path === '' || path === 'index.html') {
      assert.doesNotMatch(body, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
      assert.doesNotMatch(body, /\son[a-z]+=/i, 'no inline event handler');
      assert.doesNotMatch(body, /\sstyle=/i, 'no inline style');
    }
    assert.doesNotMatch(body, /https?:\/\//i, `${path || '/'}: nothing fetched from elsewhere`);
    const again = await fetch(base + path, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304, path);
  }
  assert.match(PAGE_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(PAGE_CSP, /unsafe-/);
  const trace = await fetch(`${base}v1/calls/no-such-call/trace`);
  assert.equal(trace.status, 404);
  assert.match(trace.headers.get('content-type') ?? '', /^application\/problem\+json/);
});

test('a REFER call from the form: ringing then connected in the live table, the ladder with INVITE … REFER, 202, NOTIFY', async () => {
  await page.goto(base);
  await page.locator('#stream-status[data-stream="live"]').waitFor();
  assert.equal(await page.locator('#no-calls').isVisible(), true);

  assert.deepEqual(pageErrors, [], 'the page loads without errors');
  // A refusal from the API is shown with its problem detail.
  await page.getByLabel('Initiator').fill('not-a-sip-uri');
  await page.getByLabel('Destination').fill(bob.uri);
  await page.getByRole('button', { name: 'Call', exact: true }).click();
  await page.locator('#feedback.error').waitFor();
  assert.match(await page.locator('#feedback').innerText(), /^Error: 400 field initiator/);
  // Chromium logs the refused request itself; nothing else.
  assert.deepEqual(pageErrors.splice(0), ['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);

  await page.getByLabel('Initiator').fill(alice.uri);
  await page.getByLabel('Destination').fill(bob.uri);
  await page.getByLabel('Mode').selectOption('refer');
  await page.getByRole('button', { name: 'Call', exact: true }).click();
  await page.locator('#feedback.ok').waitFor();
  const row = page.locator('#call-rows tr[data-call-id]').first();
  const callId = await row.getAttribute('data-call-id');
  assert.ok(callId, 'the row names its call');
  assert.match(await page.locator('#feedback').innerText(), new RegExp(`^Call ${callId.slice(0, 8)} placed: `));
  assert.match(await row.locator('td.route').innerText(), new RegExp(`${escape(alice.uri)} → ${escape(bob.uri)}`));
  assert.equal(await row.locator('td').nth(1).innerText(), 'refer');

  // The initiator rings (300 ms … 2.5 s: a window wide enough for a loaded machine), then the destination through the REFER (NOTIFY 180).
  await row.locator('td[data-leg="initiator"][data-state="ringing"]').waitFor();
  const elapsedAtRing = seconds(await row.locator('td.elapsed').innerText());
  await row.locator('td[data-leg="destination"][data-state="ringing"]').waitFor();
  assert.equal(await row.locator('td[data-leg="initiator"]').getAttribute('data-state'), 'answered');
  assert.ok(seconds(await row.locator('td.elapsed').innerText()) > elapsedAtRing, 'the elapsed timer ticks');
  await row.locator('td.outcome[data-outcome="connected"], td.outcome[data-outcome="completed"]').waitFor();
  assert.equal(await row.locator('td[data-leg="destination"]').getAttribute('data-state'), 'answered');
  assert.match(await row.locator('td[data-leg="destination"] .times').innerText(), /^rang \+\d+\.\d s · answered \+\d+\.\d s$/);
  assert.match(await row.locator('td.outcome').innerText(), /^(connected|completed: connected, the phones talk directly)$/);
  await row.locator('td.outcome[data-outcome="completed"]').waitFor();

  // The ladder: the server's dialog with alice, INVITE … REFER/NOTIFY in time order.
  await row.getByRole('button', { name: `SIP ladder of call ${callId.slice(0, 8)}` }).click();
  assert.equal(await row.getByRole('button', { name: /^SIP ladder/ }).getAttribute('aria-expanded'), 'true');
  // The phones talk to each other after the REFER: the destination leg is not shown as ended.
  assert.equal(await row.locator('td[data-leg="destination"]').getAttribute('data-state'), 'answered');
  assert.equal(await row.locator('td[data-leg="initiator"]').getAttribute('data-state'), 'ended');
  await page.locator('#ladder-section').waitFor();
  const messages = page.locator('#ladder button.msg');
  await page.locator('#ladder button.msg[data-summary="NOTIFY"]').first().waitFor();
  const summaries: string[] = [];
  for (let i = 0, n = await messages.count(); i < n; i++) summaries.push((await messages.nth(i).getAttribute('data-summary')) ?? '');
  const expected = ['INVITE', '180 Ringing', '200 OK', 'ACK', 'REFER', '202 Accepted', 'NOTIFY'];
  let at = -1;
  for (const summary of expected) {
    const found = summaries.indexOf(summary, at + 1);
    assert.ok(found > at, `${summary} after ${expected[expected.indexOf(summary) - 1] ?? 'the start'} in ${summaries.join(', ')}`);
    at = found;
  }
  const head = await page.locator('#ladder .ladder-head').innerText();
  assert.match(head, /clicktocall \(this server\)/);
  assert.match(head, new RegExp(`initiator ${escape(alice.uri.replace(/^sip:alice@/, ''))}`));
  assert.match(await page.locator('#ladder-status').innerText(), /^\d+ SIP messages\./);
  assert.match(await page.locator('#event-list').innerText(), /ringing \(initiator\) 180 Ringing initiator/);

  // Clicking an arrow shows the whole message; Down moves to the next one, Enter opens it.
  const refer = page.locator('#ladder button.msg[data-summary="REFER"]').first();
  await refer.click();
  assert.equal(await refer.getAttribute('aria-pressed'), 'true');
  const text = await page.locator('#message-text').innerText();
  assert.match(text, /^REFER sip:/);
  assert.match(text, new RegExp(`Refer-To: ?<?${escape(bob.uri)}`, 'i'));
  assert.match(await page.locator('#message-title').innerText(), /^REFER — sent to 127\.0\.0\.1:\d+ over udp at \+\d+\.\d{3} s$/);
  const referIndex = Number(await refer.getAttribute('data-index'));
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate('document.activeElement.dataset.index'), String(referIndex + 1));
  await page.keyboard.press('Enter');
  assert.equal(await messages.nth(referIndex + 1).getAttribute('aria-pressed'), 'true');
  assert.equal(await refer.getAttribute('aria-pressed'), 'false');
  // The next row is the next message in time: the 202 — unless a retransmission slipped in
  // between under load; either way it is the row after the REFER that opened.
  const next = await messages.nth(referIndex + 1).getAttribute('data-summary');
  assert.match(await page.locator('#message-text').innerText(), new RegExp(`^(SIP/2\\.0 )?${escape(next ?? '')}`));
  assert.ok(await page.locator('#ladder button.msg[data-summary="202 Accepted"]').count() >= 1, 'a 202 Accepted row');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(statSync(SCREENSHOT).size > 10_000, 'a screenshot with something in it');

  assert.deepEqual(pageErrors, []);
  assert.equal(server.counters.internalErrors, 0);
  assert.deepEqual([...alice.errors, ...bob.errors], []);
});

test('an anchored call: both legs in one ladder between three lifelines, live until a phone hangs up', async () => {
  await page.getByLabel('Initiator').fill(alice.uri);
  await page.getByLabel('Destination').fill(bob.uri);
  await page.getByLabel('Mode').selectOption('anchored');
  await page.getByRole('button', { name: 'Call', exact: true }).click();
  await page.locator('#call-rows tr[data-call-id]').nth(1).waitFor();
  const row = page.locator('#call-rows tr[data-call-id]').first();
  const callId = (await row.getAttribute('data-call-id')) ?? '';
  assert.equal(await row.locator('td').nth(1).innerText(), 'anchored');
  await row.locator('td.outcome[data-outcome="connected"]').waitFor();
  assert.equal(await row.locator('td.outcome').innerText(), 'connected');

  await row.getByRole('button', { name: `SIP ladder of call ${callId.slice(0, 8)}` }).click();
  await page.locator('#ladder .arrow.leg-2').first().waitFor();
  const head = await page.locator('#ladder .ladder-head').innerText();
  const hostPort = (uri: string) => escape(uri.replace(/^sip:\w+@/, ''));
  assert.match(head, new RegExp(`initiator ${hostPort(alice.uri)}[\\s\\S]*clicktocall \\(this server\\)[\\s\\S]*destination ${hostPort(bob.uri)}`));
  assert.match(await page.locator('#ladder-legend').innerText(), /^Leg 1 \(solid lines\) and leg 2 \(dashed lines\) are the server's two SIP dialogs/);
  assert.ok(await page.locator('#ladder button.msg[data-summary="INVITE"]').count() >= 2, 'an INVITE on each leg');

  // The destination hangs up: the server ends the other leg, the row and the open ladder follow.
  const byes = page.locator('#ladder button.msg[data-summary="BYE"]');
  await bob.hangup();
  await row.locator('td.outcome[data-outcome="completed"]').waitFor();
  assert.equal(await row.locator('td[data-leg="initiator"]').getAttribute('data-state'), 'ended');
  assert.equal(await row.locator('td[data-leg="destination"]').getAttribute('data-state'), 'ended');
  const elapsed = await row.locator('td.elapsed').innerText();
  await byes.nth(1).waitFor(); // the BYE of each leg, drawn without a click on Refresh
  assert.equal(await row.locator('td.elapsed').innerText(), elapsed, 'the timer stopped');
  await page.screenshot({ path: join(ARTIFACTS, 'web-page-anchored.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
  assert.equal(server.counters.internalErrors, 0);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `12.3 s` or `m:ss` → seconds. */
function seconds(text: string): number {
  const m = /^(\d+(?:\.\d)?) s$/.exec(text.trim());
  if (m) return Number(m[1]);
  const [mm, ss] = text.trim().split(':').map(Number);
  return (mm ?? 0) * 60 + (ss ?? 0);
}
