/**
 * Blind transfer during an anchored call (RFC 5589 §6.1, TransferPolicy handle), with real
 * baresip phones: alice (initiator) and bob (destination) are connected through the server;
 * bob transfers alice to carol; the server calls carol, moves alice onto her, tells bob it
 * worked and ends bob's leg. A failed transfer reconnects alice with bob.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BaresipPhone } from '../support/baresip.js';
import { startServerProcess, XmlClient, type ServerProcess } from '../support/server-process.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function phone(name: string, answerMode: 'auto' | 'manual' = 'auto'): Promise<BaresipPhone> {
  const p = await BaresipPhone.start({ name, timeoutSec: 90, answerMode });
  cleanups.push(() => p.stop());
  return p;
}

async function anchoredCall(srv: ServerProcess, a: BaresipPhone, b: BaresipPhone): Promise<void> {
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  xml.send(`<ClickToCall><Request><Initiator>${a.uri}</Initiator><Destination>${b.uri}</Destination><AnchorCall>true</AnchorCall></Request></ClickToCall>`);
  await xml.waitFor(/Code="200" Leg="Destination"/, 15_000);
}

function events(srv: ServerProcess): string[] {
  return srv.output().split('\n').filter((l) => l.includes('"kind":"transfer')).map((l) => {
    const j = JSON.parse(l) as { kind: string; code: number; leg?: string };
    return `${j.kind} ${j.code} ${j.leg ?? '-'}`;
  });
}

/** The audio port in the last INVITE (re-INVITE) the phone received, from its SIP trace. */
function lastAudioPortOffered(p: BaresipPhone): number | undefined {
  const log = p.logText();
  // SIP trace blocks start with "UDP <from> -> <to>"; keep the INVITEs sent to this phone.
  const inbound = [...log.matchAll(/-> 127\.0\.0\.1:(\d+)\r?\nINVITE sip:/g)].filter((m) => Number(m[1]) === p.port);
  const last = inbound.at(-1);
  if (!last) return undefined;
  const m = /m=audio (\d+)/.exec(log.slice(last.index));
  return m ? Number(m[1]) : undefined;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('handle: bob transfers alice to carol; alice ends up talking to carol, bob leaves', async () => {
  const srv = await startServerProcess(['TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1'], { http: false });
  cleanups.push(() => srv.stop());
  const a = await phone('alice');
  const b = await phone('bob');
  const c = await phone('carol');
  await anchoredCall(srv, a, b);
  await b.waitForEvent('CALL_ESTABLISHED', 5000);
  await b.transfer(c.uri);
  const est = await c.waitForEvent('CALL_ESTABLISHED', 10_000);
  assert.ok(est.peeruri, 'carol is in a call');
  await b.waitForEvent('CALL_CLOSED', 10_000);
  await waitFor(() => events(srv).some((e) => e.startsWith('transfer-connected')), 10_000, 'transfer-connected');
  assert.deepEqual(events(srv), ['transfer-requested 202 destination', 'transfer-ringing 180 destination', 'transfer-connected 200 destination']);
  // Alice now holds carol's media address: the last re-INVITE she received carried carol's offer.
  await waitFor(() => lastAudioPortOffered(a) !== undefined, 5000, 'a re-INVITE at alice');
  const port = lastAudioPortOffered(a)!;
  assert.ok(port >= c.rtpPorts.min && port <= c.rtpPorts.max, `alice was given port ${port}; carol's RTP ports are ${c.rtpPorts.min}-${c.rtpPorts.max}`);
  assert.match(est.peeruri ?? '', /alice/, 'carol sees the transferee (alice) as the caller');
  await a.hangup();
  await c.waitForEvent('CALL_CLOSED', 5000);
});

test('handle: the target rejects; the transferor hears the failure and (baresip) hangs up, ending the call', async () => {
  const srv = await startServerProcess(['TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1'], { http: false });
  cleanups.push(() => srv.stop());
  const a = await phone('alice');
  const b = await phone('bob');
  const c = await phone('carol', 'manual');
  await anchoredCall(srv, a, b);
  await b.waitForEvent('CALL_ESTABLISHED', 5000);
  await b.transfer(c.uri);
  await c.waitForEvent('CALL_INCOMING', 10_000);
  await c.hangup(); // carol rejects the incoming call: 486
  // baresip reports the failure to its user, then ends its call anyway (its transferor always does).
  await b.waitForEvent('TRANSFER_FAILED', 10_000);
  await a.waitForEvent('CALL_CLOSED', 10_000);
  await waitFor(() => srv.output().includes('"kind":"completed"'), 5000, 'completed');
  const ev = events(srv);
  assert.deepEqual(ev.slice(0, 3), ['transfer-requested 202 destination', 'transfer-ringing 180 destination', 'transfer-failed 486 destination']);
});

test('transfer hook: signed JSON with the transfer parties; it rewrites the target, or denies (603)', async () => {
  const { createServer } = await import('node:http');
  const { verify } = await import('../../src/api/hooks/signature.js');
  const seen: { body: Record<string, string>; signed: boolean }[] = [];
  let answer: object = {};
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      seen.push({ body: JSON.parse(body), signed: verify('hook-secret', body, String(req.headers['clicktocall-signature'] ?? '')) });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => hook.close(() => r())));
  const hookPort = (hook.address() as { port: number }).port;
  const srv = await startServerProcess([
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
    `TransferHookUrl = http://127.0.0.1:${hookPort}/transfer`, 'HookSecret = hook-secret',
  ], { http: false });
  cleanups.push(() => srv.stop());
  const a = await phone('alice');
  const b = await phone('bob');
  const c = await phone('carol');
  // 1. The application rewrites the target: bob asks for "dave", carol is called.
  answer = { action: 'approve', target: c.uri, policy: 'handle' };
  await anchoredCall(srv, a, b);
  await b.waitForEvent('CALL_ESTABLISHED', 5000);
  await b.transfer('sip:dave@127.0.0.1:9');
  await c.waitForEvent('CALL_ESTABLISHED', 10_000);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.signed, true, 'Clicktocall-Signature verifies');
  assert.equal(seen[0]!.body.referTarget, 'sip:dave@127.0.0.1:9');
  assert.equal(seen[0]!.body.transferor, b.uri);
  assert.equal(seen[0]!.body.transferee, a.uri);
  assert.ok(seen[0]!.body.callId);
  await a.hangup();
  await c.waitForEvent('CALL_CLOSED', 5000);
  // 2. The application denies: bob's REFER gets 603 and no call goes to carol.
  answer = { action: 'deny' };
  const before = c.events.length;
  await anchoredCall(srv, a, b);
  await waitFor(() => b.events.filter((e) => e.type === 'CALL_ESTABLISHED').length >= 2, 5000, 'second call at bob');
  await b.transfer(c.uri);
  await b.waitForEvent('TRANSFER_FAILED', 5000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.events.slice(before).filter((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_ESTABLISHED').length, 0);
  await waitFor(() => srv.output().includes('"reason":"hook-deny"'), 5000, 'the hook refusal in the log (buffered)');
  await a.hangup();
});
