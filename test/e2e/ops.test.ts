/**
 * Operations endpoints and shutdown (issue 5): /healthz, /readyz, /metrics after a call, and
 * SIGTERM draining: new calls refused with 503 while the server stops, exit status 0.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { TestPhone, waitFor } from '../support/sip-phone.js';
import { startServerProcess, XmlClient, type ServerProcess } from '../support/server-process.js';
import { LossyRelay, NO_LOSS } from '../support/lossy-relay.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** A call placed over XML and connected (its final 200 on the Destination leg); the XML client is closed after the file. */
async function connectedCall(srv: ServerProcess, initiator: string, destination: string, anchored: boolean): Promise<XmlClient> {
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  xml.send(`<ClickToCall><Request><Initiator>${initiator}</Initiator><Destination>${destination}</Destination>${anchored ? '<AnchorCall>true</AnchorCall>' : ''}</Request></ClickToCall>`);
  await xml.waitFor(/Code="200" Leg="Destination"/, 8000);
  return xml;
}

/** alice and bob, who ring and answer at once, stopped after the file. */
async function answeringPhones(): Promise<[TestPhone, TestPhone]> {
  const a = await TestPhone.start({ name: 'alice', behaviour: { ring: 10, answer: 20 } });
  const b = await TestPhone.start({ name: 'bob', behaviour: { ring: 10, answer: 20 } });
  cleanups.push(() => a.stop(), () => b.stop());
  return [a, b];
}

test('/healthz, /readyz and /metrics (calls, setup latency, SIP messages, internal errors)', async () => {
  const srv = await startServerProcess(['SipT1 = 20', 'SipT4 = 100', 'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1']);
  cleanups.push(() => srv.stop());
  const a = await TestPhone.start({ name: 'alice', behaviour: { ring: 10, answer: 20, onRefer: 'execute' } });
  const b = await TestPhone.start({ name: 'bob', behaviour: { ring: 10, answer: 20 } });
  cleanups.push(() => a.stop(), () => b.stop());
  const base = `http://127.0.0.1:${srv.httpPort}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready', checks: { sip: 'ok', store: 'ok' } });
  const gauge = (t: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(t)?.[1] ?? NaN);
  const idleTimers = gauge(await (await fetch(`${base}/metrics`)).text(), 'clicktocall_timers_armed');
  assert.ok(Number.isInteger(idleTimers), 'the armed-timer gauge is exported');
  const xml = await connectedCall(srv, a.uri, b.uri, false);
  await a.hangup();
  // `completed` is counted once the store has committed it (group commit: a few ms).
  let text = '';
  for (const until = Date.now() + 3000; Date.now() < until;) {
    text = await (await fetch(`${base}/metrics`)).text();
    if (/^clicktocall_calls_ended_total\{/m.test(text)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(text, /^clicktocall_calls_started_total\{mode="refer",trigger="xml"\} 1$/m);
  assert.match(text, /^clicktocall_calls_ended_total\{mode="refer",outcome="completed",reason="referred"\} 1$/m);
  assert.match(text, /^clicktocall_setup_connected_seconds_count 1$/m);
  // At least once: under load, a short T1 may retransmit (the retransmissions are counted too).
  assert.match(text, /^clicktocall_sip_messages_total\{direction="out",transport="udp",kind="request",name="REFER"\} [1-9]\d*$/m);
  assert.match(text, /^clicktocall_sip_messages_total\{direction="in",transport="udp",kind="response",name="202"\} [1-9]\d*$/m);
  assert.match(text, /^clicktocall_calls_active 0$/m);
  assert.match(text, /^clicktocall_nodejs_eventloop_lag_seconds /m);
  assert.doesNotMatch(text, /^clicktocall_internal_errors_total\{/m);
  assert.match(text, /^clicktocall_log_lines_dropped_total\{destination="console"\} 0$/m, 'the CLI wires the log\'s counts');
  // Once the wait states are over (64×T1 = 1.3 s here), every timer the call armed is gone (the
  // XML connection's idle timer too, once it is closed).
  xml.close();
  let timersNow = NaN;
  for (const until = Date.now() + 5000; Date.now() < until;) {
    const t = await (await fetch(`${base}/metrics`)).text();
    timersNow = gauge(t, 'clicktocall_timers_armed');
    if (gauge(t, 'clicktocall_sip_transactions') === 0 && timersNow <= idleTimers) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(timersNow <= idleTimers, `timers back to their idle value ${idleTimers}: ${timersNow}`);
  // The record of the call, through the REST API (loopback, no ApiKey: open) and as CSV.
  const list = await (await fetch(`${base}/v1/calls`)).json() as { calls: { id: string; state: string; mode: string }[] };
  assert.equal(list.calls.length, 1);
  assert.equal(list.calls[0]!.mode, 'refer');
  const csv = await fetch(`${base}/v1/records.csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  assert.ok((await csv.text()).includes(list.calls[0]!.id));
});

test('clicktocall_setup_invite_seconds: one observation per call and trigger, none for a call that opens with an out-of-dialog REFER', async () => {
  const srv = await startServerProcess(['SipT1 = 20', 'SipT4 = 100', 'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1']);
  cleanups.push(() => srv.stop());
  // Busy at once: each call is over as soon as its INVITE is answered. Our stack answers an
  // out-of-dialog REFER 405, so an ood-refer call falls back to INVITE-then-REFER.
  const a = await TestPhone.start({ name: 'alice', behaviour: { reject: 486 } });
  const b = await TestPhone.start({ name: 'bob', behaviour: { ring: 10, answer: 20 } });
  cleanups.push(() => a.stop(), () => b.stop());
  const base = `http://127.0.0.1:${srv.httpPort}`;
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  const request = (mode: string) => `<ClickToCall><Request><Initiator>${a.uri}</Initiator><Destination>${b.uri}</Destination>${mode}</Request></ClickToCall>`;
  xml.send(request(''));
  await xml.waitFor(/Code="486" Leg="Initiator"/, 8000);
  xml.send(request('<Mode>ood-refer</Mode>'));
  await waitFor(() => (xml.text().match(/Code="486" Leg="Initiator"/g) ?? []).length === 2, 8000, 'the ood-refer call to fall back and fail');
  assert.match(xml.text(), /Out-of-dialog REFER refused \(\d+\): calling the initiator/);
  const rest = await fetch(`${base}/v1/calls`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ initiator: a.uri, destination: b.uri }),
  });
  assert.equal(rest.status, 201, await rest.text());
  const legacy = await fetch(`${base}/clicktocall.html?initiator=${encodeURIComponent(a.uri)}&destination=${encodeURIComponent(b.uri)}`);
  assert.equal(legacy.status, 200);
  await waitFor(() => a.received('INVITE').length >= 4, 5000, 'four INVITEs at alice');
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  // The XML call that fell back counted nothing: its first message to alice was the REFER.
  assert.equal(value('clicktocall_setup_invite_seconds_count{trigger="xml"}'), 1, text);
  assert.equal(value('clicktocall_setup_invite_seconds_count{trigger="rest"}'), 1);
  assert.equal(value('clicktocall_setup_invite_seconds_count{trigger="http"}'), 1);
  for (const trigger of ['xml', 'rest', 'http']) {
    assert.equal(value(`clicktocall_setup_invite_seconds_bucket{le="+Inf",trigger="${trigger}"}`), 1, trigger);
    assert.ok(value(`clicktocall_setup_invite_seconds_sum{trigger="${trigger}"}`) > 0, `${trigger}: a time was measured`);
  }
});

test('SIGTERM: calls in progress may finish, new ones get 503, the server exits 0', async () => {
  const srv = await startServerProcess(['SipT1 = 20', 'SipT4 = 100', 'DrainTimeout = 3', 'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1']);
  const [a, b] = await answeringPhones();
  await connectedCall(srv, a.uri, b.uri, true);
  const stopped = srv.stop();
  await waitFor(() => /SIGTERM: draining/.test(srv.output()), 3000, 'the drain to start');
  const late = await fetch(`http://127.0.0.1:${srv.httpPort}/clicktocall.html?initiator=${encodeURIComponent(a.uri)}&destination=${encodeURIComponent(b.uri)}`);
  assert.equal(late.status, 503);
  // The anchored call is ended at the drain deadline: both phones get a BYE.
  assert.equal(await stopped, 0);
  await waitFor(() => a.received('BYE').length === 1 && b.received('BYE').length === 1, 3000, 'BYEs at shutdown');
});

test('DrainHangupTimeout = 4: at shutdown, a BYE that gets no answer is waited for 4 s, not 2, then the server exits 0', async () => {
  // SipT1 = 100 (the test base): the unanswered BYE would go on for 64×T1 = 6.4 s. SipT4 = 100:
  // alice's answered BYE is over at once. DrainTimeout = 1 (the test base).
  const srv = await startServerProcess(['SipT4 = 100', 'DrainHangupTimeout = 4', 'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1']);
  cleanups.push(() => srv.stop());
  const [a, b] = await answeringPhones();
  // bob sits behind a relay that loses every BYE sent to him (and its retransmissions).
  let byeToBob = 0;
  const relay = await LossyRelay.start({
    phonePort: b.endpoint.bound.find((x) => x.transport === 'udp')!.port,
    profile: { ...NO_LOSS, dropIf: (line, direction) => {
      if (direction !== 'toPhone' || !line.startsWith('BYE ')) return false;
      byeToBob ||= Date.now();
      return true;
    } },
  });
  cleanups.push(() => relay.close());
  await connectedCall(srv, a.uri, relay.uriFor('bob'), true);
  const code = await srv.stop(); // SIGTERM; SIGKILL after 8 s
  const exited = Date.now();
  assert.equal(code, 0, 'a clean exit, not a kill');
  assert.ok(byeToBob > 0, 'the server sent bob a BYE at the drain deadline');
  assert.equal(a.received('BYE').length, 1, 'and alice one, which she answered');
  assert.equal(b.received('BYE').length, 0);
  // The wait began as the BYE went out (the relay sees it a moment later) and timers never fire
  // early: about 4 s, plus the closing. The default would stop waiting after 2 s; no bound at
  // all, when the BYE gives up (6.4 s).
  const waited = exited - byeToBob;
  assert.ok(waited >= 3800 && waited < 6000, `the server exited ${waited} ms after its BYE to bob; DrainHangupTimeout is 4 s`);
});

test('DrainHangupTimeout: answered BYEs end the wait at once, though their transactions still wait out T4 and 64×T1', async () => {
  // SipT4 at its default (5 s): each answered BYE's transaction, and the answered INVITEs', stay
  // for seconds after the answers. A shutdown that waited for every transaction to be gone would
  // take all of DrainHangupTimeout here.
  const srv = await startServerProcess(['SipT4 = 5000', 'DrainHangupTimeout = 30', 'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1']);
  cleanups.push(() => srv.stop());
  const [a, b] = await answeringPhones();
  await connectedCall(srv, a.uri, b.uri, true);
  const sigterm = Date.now();
  const code = await srv.stop(); // SIGTERM; SIGKILL after 8 s
  const took = Date.now() - sigterm;
  assert.equal(code, 0, 'a clean exit, not a kill');
  assert.equal(a.received('BYE').length, 1);
  assert.equal(b.received('BYE').length, 1);
  // DrainTimeout (1 s in the test base) for the call, then the BYEs' round trip and the closing.
  assert.ok(took < 5000, `the server exited ${took} ms after SIGTERM: it waited for transactions that had their answers`);
});

test('HttpCloseGrace = 3: at shutdown, an HTTP request still arriving is given 3 s, not 1, before its connection is destroyed', async () => {
  const srv = await startServerProcess(['HttpCloseGrace = 3']);
  cleanups.push(() => srv.stop());
  const socket = tcpConnect(srv.httpPort, '127.0.0.1');
  socket.on('error', () => {}); // the server destroys the connection: a reset is expected
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
  // The headers, and 14 of the 100 bytes the body is said to have: the request stays open.
  socket.write('POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"initiator":');
  // /healthz on another connection answers once the server has read what came before it.
  assert.equal((await fetch(`http://127.0.0.1:${srv.httpPort}/healthz`)).status, 200);
  await new Promise((r) => setTimeout(r, 100));
  const sigterm = Date.now();
  const code = await srv.stop();
  const lived = (await closed) - sigterm;
  assert.equal(code, 0, 'a clean exit, not a kill');
  // No call, no SIP transaction, no XML connection: the shutdown reaches the HTTP close at once.
  // Timers never fire early: not before 3 s; the default would destroy it after 1 s.
  assert.ok(lived >= 2900 && lived < 4500, `the connection was destroyed ${lived} ms after SIGTERM; HttpCloseGrace is 3 s`);
});
