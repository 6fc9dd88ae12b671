/**
 * Out-of-dialog REFER both ways (issue 4 §1–§2), server started through its CLI, baresip phones:
 * - received: an application sends REFER to the server (Request-URI = the referee, Refer-To =
 *   the target); closed by default (403, no call placed), digest over UDP, an ACL over TCP only;
 * - sent (mode ood-refer): the server REFERs the initiator's device out of dialog; a device that
 *   refuses gets the INVITE-then-REFER flow.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSipEndpoint, type SipEndpoint } from '../../src/sip/stack/index.js';
import type { ReferEnd } from '../../src/sip/dialog/refer-client.js';
import { BaresipPhone } from '../support/baresip.js';
import { startServerProcess, XmlClient, type ServerProcess } from '../support/server-process.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function phones(): Promise<[BaresipPhone, BaresipPhone]> {
  const a = await BaresipPhone.start({ name: 'alice', timeoutSec: 90 });
  cleanups.push(() => a.stop());
  const b = await BaresipPhone.start({ name: 'bob', timeoutSec: 90 });
  cleanups.push(() => b.stop());
  return [a, b];
}

async function server(a: BaresipPhone, b: BaresipPhone, extra: string[]): Promise<ServerProcess> {
  const s = await startServerProcess([
    'TranslationPattern = ^alice$', `TranslationOutput = ${a.uri}`,
    'TranslationPattern = ^bob$', `TranslationOutput = ${b.uri}`,
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
    ...extra,
  ], { http: false });
  cleanups.push(() => s.stop());
  return s;
}

async function app(creds?: { username: string; password: string }): Promise<SipEndpoint> {
  const ep = await startSipEndpoint({
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }],
    credentialFor: creds ? () => creds : undefined,
  });
  cleanups.push(() => ep.close());
  return ep;
}

interface Outcome { status?: number; progress: number[]; states: string[]; bodies: string[]; end?: ReferEnd }

async function sendRefer(ep: SipEndpoint, srv: ServerProcess, transport: 'udp' | 'tcp'): Promise<Outcome> {
  const t = transport === 'tcp' ? ';transport=tcp' : '';
  const req = ep.stack.createRequest('REFER', `sip:alice@127.0.0.1:${srv.sipPort}${t}`, '<sip:crm@127.0.0.1>', `<sip:alice@127.0.0.1:${srv.sipPort}>`);
  const out: Outcome = { progress: [], states: [], bodies: [] };
  await new Promise<void>((resolve) => {
    ep.stack.refer(req, `sip:bob@127.0.0.1:${srv.sipPort}`, { notifyTimeoutMs: 15_000 }, {
      onResponse: (res) => { out.status = res.status; },
      onProgress: (f, notify) => {
        out.progress.push(f?.status ?? -1);
        out.states.push(notify.get('subscription-state') ?? '');
        out.bodies.push(`${notify.contentType} ${notify.body.toString()}`);
      },
      onEnd: (e) => { out.end = e; resolve(); },
    });
  });
  return out;
}

async function noCallFor(ms: number, ...ps: BaresipPhone[]): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  for (const p of ps) assert.deepEqual(p.events.filter((e) => e.class === 'call').map((e) => e.type), [], `${p.uri} got no call`);
}

test('received, closed by default: 403 and no INVITE to anyone', async () => {
  const [a, b] = await phones();
  const srv = await server(a, b, []);
  const out = await sendRefer(await app(), srv, 'udp');
  assert.equal(out.status, 403);
  assert.equal(out.end?.kind, 'rejected');
  await noCallFor(500, a, b);
});

test('received with digest (ReferUser) over UDP: 401, then 202, the call connects, NOTIFYs report it', async () => {
  const [a, b] = await phones();
  const srv = await server(a, b, ['ReferUser = crm|s3cret']);
  const wrong = await sendRefer(await app({ username: 'crm', password: 'nope' }), srv, 'udp');
  assert.equal(wrong.status, 401);
  await noCallFor(300, a, b);
  const out = await sendRefer(await app({ username: 'crm', password: 's3cret' }), srv, 'udp');
  assert.equal(out.status, 202);
  assert.deepEqual(out.end, { kind: 'final', status: 200, reason: 'OK' });
  assert.equal(out.progress[0], 100);
  assert.equal(out.progress.at(-1), 200);
  // RFC 3515 §2.4.5: message/sipfrag bodies; active until the final one, which terminates.
  assert.equal(out.bodies[0], 'message/sipfrag SIP/2.0 100 Trying\r\n');
  assert.equal(out.bodies.at(-1), 'message/sipfrag SIP/2.0 200 OK\r\n');
  assert.match(out.states[0]!, /^active;expires=\d+$/);
  assert.equal(out.states.at(-1), 'terminated;reason=noresource');
  const est = await b.waitForEvent('CALL_ESTABLISHED', 5000);
  assert.match(est.peeruri ?? '', /alice/);
  await b.hangup();
});

test('received with an ACL: refused over UDP (forgeable), accepted over TCP', async () => {
  const [a, b] = await phones();
  const srv = await server(a, b, ['ReferAllowFrom = 127.0.0.0/8']);
  const udp = await sendRefer(await app(), srv, 'udp');
  assert.equal(udp.status, 403);
  await noCallFor(300, a, b);
  const tcp = await sendRefer(await app(), srv, 'tcp');
  assert.equal(tcp.status, 202);
  assert.equal(tcp.end?.kind, 'final');
  await b.waitForEvent('CALL_ESTABLISHED', 5000);
  await b.hangup();
});

test('received: a REFER without Refer-To is 400, an unsupported scheme 416', async () => {
  const [a, b] = await phones();
  const srv = await server(a, b, ['ReferAllowFrom = 127.0.0.0/8']);
  const ep = await app();
  const statuses: number[] = [];
  for (const referTo of [undefined, '<mailto:bob@example.test>']) {
    const req = ep.stack.createRequest('REFER', `sip:alice@127.0.0.1:${srv.sipPort};transport=tcp`, '<sip:crm@127.0.0.1>', `<sip:alice@127.0.0.1:${srv.sipPort}>`);
    if (referTo) req.set('Refer-To', referTo);
    statuses.push(await new Promise<number>((resolve) => ep.stack.request(req, (s) => resolve(s))));
  }
  assert.deepEqual(statuses, [400, 416]);
  await noCallFor(300, a, b);
});

test('sent (mode ood-refer): baresip refuses the out-of-dialog REFER (501), the server falls back to INVITE-then-REFER', async () => {
  const [a, b] = await phones();
  const srv = await server(a, b, []);
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  xml.send('<ClickToCall><Request><Initiator>alice</Initiator><Destination>bob</Destination><Mode>ood-refer</Mode></Request></ClickToCall>');
  const stream = await xml.waitFor(/Code="200" Leg="Destination"|Code="[3-6]\d\d"/, 20_000);
  const results = [...stream.matchAll(/<Result Code="(\d+)"(?: Leg="(\w+)")?>([^<]*)</g)].map((m) => `${m[1]} ${m[2] ?? '-'} ${m[3]}`);
  assert.deepEqual(results, [
    '100 - In progress',
    '100 - Out-of-dialog REFER refused (501): calling the initiator',
    '180 Initiator Ringing initiator',
    '200 Initiator Connected to initiator',
    '200 Destination Connected to destination',
  ]);
  await b.waitForEvent('CALL_ESTABLISHED', 5000);
  await b.hangup();
});

test('sent (mode ood-refer) to a device that supports OOD-R: it places the call itself, NOTIFYs drive the events', async () => {
  const [, b] = await phones();
  // An SRST-like device: accepts the out-of-dialog REFER and calls the Refer-To target.
  const device = await app();
  const port = device.bound.find((x) => x.transport === 'udp')!.port;
  const referred: string[] = [];
  device.stack.onRequest('REFER', (req, tx) => {
    referred.push(`${req.uri} -> ${req.referTo?.uri} by ${req.referredBy?.uri}`);
    const n = device.stack.referNotifier(req, tx);
    n.accept();
    const target = req.referTo!.uri;
    const inv = device.stack.createRequest('INVITE', target, '<sip:desk@127.0.0.1>', `<${target}>`);
    device.stack.invite(inv, {
      onProgress: (res) => n.notify(res.status, res.reason),
      onAnswer: (_res, s, seq) => { s.ack(seq); n.notify(200, 'OK'); setTimeout(() => s.bye(), 200); },
      onFailure: (st) => n.notify(st, 'Failed'),
    });
  });
  const srv = await startServerProcess([
    'TranslationPattern = ^desk$', `TranslationOutput = sip:desk@127.0.0.1:${port}`,
    'TranslationPattern = ^bob$', `TranslationOutput = ${b.uri}`,
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
  ], { http: false });
  cleanups.push(() => srv.stop());
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  xml.send('<ClickToCall><Request><Initiator>desk</Initiator><Destination>bob</Destination><Mode>ood-refer</Mode></Request></ClickToCall>');
  const stream = await xml.waitFor(/Code="200" Leg="Destination"|Code="[3-6]\d\d"/, 20_000);
  const results = [...stream.matchAll(/<Result Code="(\d+)"(?: Leg="(\w+)")?>([^<]*)</g)].map((m) => `${m[1]} ${m[2] ?? '-'} ${m[3]}`);
  assert.deepEqual(results, ['100 - In progress', '180 Destination Ringing destination', '200 Destination Connected to destination']);
  assert.equal(referred.length, 1);
  assert.match(referred[0]!, new RegExp(`^sip:desk@127\\.0\\.0\\.1:${port} -> ${b.uri.replace(/[.]/g, '\\.')} by sip:clicktocall@`));
  await b.waitForEvent('CALL_ESTABLISHED', 5000);
});
