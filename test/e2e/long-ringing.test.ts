/**
 * Issue 3: "The destination may ring as long as the ring timeout allows (test with 40 s) without
 * the initiator's leg timing out" — on the injected clock (decisions.md §8): the server runs in
 * this process with a FakeClock for its SIP stack and engine; the destination rings for 40
 * virtual seconds, then answers, and the anchored call connects.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/index.js';
import { startServer } from '../../src/server.js';
import { startSipEndpoint } from '../../src/sip/stack/index.js';
import type { InviteServer } from '../../src/sip/dialog/invite-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { findFreeTcpPort } from '../support/baresip.js';
import { XmlClient } from '../support/server-process.js';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const SDP = (port: number) => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;

test('the destination rings 40 s (virtual) and answers: connected, the initiator leg never timed out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-ring40-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // Phones on real timers.
  const alice = await startSipEndpoint({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] });
  const bob = await startSipEndpoint({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] });
  cleanups.push(() => alice.close(), () => bob.close());
  const aliceUri = `sip:alice@127.0.0.1:${alice.bound[0]!.port}`;
  const bobUri = `sip:bob@127.0.0.1:${bob.bound[0]!.port}`;
  const aliceSeen: string[] = [];
  alice.stack.onRequest('INVITE', (req, tx) => {
    const s = alice.stack.inviteServer(req, tx).accept({ body: SDP(40000) })!;
    s.handler = {
      onReinvite: (ri) => { aliceSeen.push('re-INVITE'); ri.respond(200, { body: SDP(40000) }); },
      onBye: () => aliceSeen.push('BYE'),
    };
  });
  let bobInvite: InviteServer | undefined;
  bob.stack.onRequest('INVITE', (req, tx) => {
    bobInvite = bob.stack.inviteServer(req, tx);
    bobInvite.progress(180);
    bobInvite.onCancel = () => aliceSeen.push('CANCEL at bob');
  });
  // The server: SIP stack and engine on the fake clock.
  const clock = new FakeClock(Date.now());
  const { config, errors } = parseConfigText([
    'IPAddress = 127.0.0.1', 'UDPTCPPort = 0', 'TLSPort = 0', 'HttpPort = 0', `XmlRpcPort = ${await findFreeTcpPort()}`,
    'RingTimeout = 60', 'LogLevel = NONE', `DatabaseFile = ${join(dir, 'calls.db')}`, 'RecordRetentionDays = 0',
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
  ].join('\n'), 'test.config');
  assert.deepEqual(errors, []);
  const server = await startServer(config, { logger: quiet, timers: clock });
  cleanups.push(() => server.shutdown(0));
  const xml = await XmlClient.connect(config.xmlRpcPort);
  cleanups.push(() => xml.close());
  xml.send(`<ClickToCall><Request><Initiator>${aliceUri}</Initiator><Destination>${bobUri}</Destination><AnchorCall>true</AnchorCall></Request></ClickToCall>`);
  await xml.waitFor(/Code="180" Leg="Destination"/, 5000);
  // 40 seconds of ringing, in steps, as real time would bring them.
  for (let t = 0; t < 40; t++) clock.advance(1000);
  assert.doesNotMatch(xml.text(), /Code="[3-6]\d\d"/, 'nothing failed while the destination rang');
  assert.deepEqual(aliceSeen, [], 'no BYE or CANCEL on the way');
  bobInvite!.accept({ body: SDP(40002) });
  await xml.waitFor(/Code="200" Leg="Destination"/, 5000);
  assert.deepEqual(aliceSeen, ['re-INVITE']);
  assert.equal(server.counters.internalErrors, 0);
});
