/**
 * Click-to-call end to end, the server started through its CLI with a config file written by the
 * test, real baresip phones as initiator and destination, requests over the XML interface:
 * REFER mode (the phone dials the destination; we leave) and anchored mode (RFC 3725: each
 * phone ends up sending RTP to the other).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BaresipPhone } from '../support/baresip.js';
import { startServerProcess, XmlClient, type ServerProcess } from '../support/server-process.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function phone(name: string): Promise<BaresipPhone> {
  const p = await BaresipPhone.start({ name, timeoutSec: 90 });
  cleanups.push(() => p.stop());
  return p;
}

async function server(extra: string[] = []): Promise<ServerProcess> {
  const s = await startServerProcess(['TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1', ...extra]);
  cleanups.push(() => s.stop());
  return s;
}

function request(initiator: string, destination: string, anchor: boolean): string {
  return `<ClickToCall>\r\n<Request>\r\n<Initiator>${initiator}</Initiator>\r\n<Destination>${destination}</Destination>\r\n<AnchorCall>${anchor}</AnchorCall>\r\n</Request>\r\n</ClickToCall>\r\n`;
}

function results(stream: string): string[] {
  return [...stream.matchAll(/<Result Code="(\d+)"(?: Leg="(\w+)")?>([^<]*)<\/Result>/g)].map((m) => `${m[1]} ${m[2] ?? '-'} ${m[3]}`);
}

test('REFER mode over XML: initiator rings, answers, is referred to the destination; the server leaves', async () => {
  const srv = await server();
  const a = await phone('alice');
  const b = await phone('bob');
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  const doc = request(a.uri, b.uri, false);
  xml.send(doc);
  const stream = await xml.waitFor(/Code="200" Leg="Destination"|Code="[3-6]\d\d"/, 20_000);
  assert.deepEqual(results(stream), [
    '100 - In progress',
    '180 Initiator Ringing initiator',
    '200 Initiator Connected to initiator',
    '200 Destination Connected to destination',
  ]);
  // The first answer, byte for byte (decisions.md §4): the request echoed through its root end
  // tag (what follows the document is not part of it) with the response inside.
  const first = doc.trimEnd().replace('</Request>\r\n', `</Request>\r\n\r\n  <Response>\r\n    <TranslatedInitiator>${a.uri}</TranslatedInitiator>\r\n    <TranslatedDestination>${b.uri}</TranslatedDestination>\r\n    <Result Code="100">In progress</Result>\r\n  </Response>\r\n`);
  assert.ok(stream.startsWith(first), `first answer:\n${stream.slice(0, first.length + 40)}`);
  // The destination is in a call with the initiator's phone, and the server's leg to it ended.
  const est = await b.waitForEvent('CALL_ESTABLISHED', 5000);
  assert.match(est.peeruri ?? '', /alice/);
  await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 5000);
  await a.hangup().catch(() => {});
});

test('anchored mode over XML: RFC 3725 flow, each phone receives RTP from the other', async () => {
  const srv = await server();
  const a = await phone('alice');
  const b = await phone('bob');
  const xml = await XmlClient.connect(srv.xmlPort);
  cleanups.push(() => xml.close());
  xml.send(request(a.uri, b.uri, true));
  const stream = await xml.waitFor(/Code="200" Leg="Destination"|Code="[3-6]\d\d"/, 20_000);
  assert.deepEqual(results(stream), [
    '100 - In progress',
    '180 Initiator Ringing initiator',
    '200 Initiator Connected to initiator',
    '180 Destination Ringing destination',
    '200 Destination Connected to destination',
  ]);
  // Media flows directly between the phones: each one's RTP comes from the other's RTP port.
  await a.waitForLog(/incoming rtp for 'audio' established/, 8000);
  await b.waitForLog(/incoming rtp for 'audio' established/, 8000);
  const fromB = a.rtpReceivingFrom()!;
  const fromA = b.rtpReceivingFrom()!;
  const portOf = (s: string) => Number(s.split(':').pop());
  assert.ok(portOf(fromB) >= b.rtpPorts.min && portOf(fromB) <= b.rtpPorts.max, `alice hears ${fromB}, bob's RTP ports are ${b.rtpPorts.min}-${b.rtpPorts.max}`);
  assert.ok(portOf(fromA) >= a.rtpPorts.min && portOf(fromA) <= a.rtpPorts.max, `bob hears ${fromA}, alice's RTP ports are ${a.rtpPorts.min}-${a.rtpPorts.max}`);
  // The initiator hangs up: the server ends the destination's leg too.
  await a.hangup();
  const closed = await b.waitForEvent('CALL_CLOSED', 5000);
  assert.equal(closed.param, 'Connection reset by peer');
});

test('legacy HTTP GET: the page confirms at once, the call connects anchored', async () => {
  const srv = await server();
  const a = await phone('alice');
  const b = await phone('bob');
  const url = `http://127.0.0.1:${srv.httpPort}/clicktocall.html?initiator=${encodeURIComponent(a.uri)}&destination=${encodeURIComponent(b.uri)}&anchor=true`;
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const page = await res.text();
  assert.match(page, new RegExp(`Initiating ClickToCall from ${a.uri.replace(/[.]/g, '\\.')}\\(${a.uri.replace(/[.]/g, '\\.')}\\) to .* \\(anchored\\)\\.\\.\\.`));
  const est = await b.waitForEvent('CALL_ESTABLISHED', 10_000);
  assert.ok(est.peeruri, 'bob is in a call');
  const missing = await fetch(`http://127.0.0.1:${srv.httpPort}/clicktocall.html?initiator=x`);
  assert.equal(missing.status, 400);
  assert.match(await missing.text(), /Missing initiator or destination URL parameters\./);
  await a.hangup();
  await b.waitForEvent('CALL_CLOSED', 5000);
});
