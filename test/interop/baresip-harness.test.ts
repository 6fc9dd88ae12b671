// Proves the baresip harness with real baresip phones talking to each other on 127.0.0.1.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BaresipPhone, type BaresipEvent, type BaresipPhoneOptions } from '../support/baresip.js';
import { requireCommand } from '../support/prerequisites.js';

test('requireCommand returns a path, or names the Debian package to install', () => {
  const bin = mkdtempSync(join(tmpdir(), 'require-command-'));
  const tool = join(bin, 'clicktocall-fake-tool');
  writeFileSync(tool, '#!/bin/sh\n', { mode: 0o755 });
  const savedPath = process.env.PATH;
  try {
    process.env.PATH = `/nonexistent${delimiter}${bin}`;
    assert.equal(requireCommand('clicktocall-fake-tool', 'fake-tool'), tool);
  } finally {
    process.env.PATH = savedPath;
    rmSync(bin, { recursive: true, force: true });
  }
  assert.throws(
    () => requireCommand('clicktocall-no-such-command', 'no-such-package'),
    {
      message:
        'missing clicktocall-no-such-command: install the Debian package no-such-package (apt-get install -y no-such-package)',
    },
  );
});

describe('baresip harness', () => {
  const phones: BaresipPhone[] = [];
  async function phone(opts: BaresipPhoneOptions): Promise<BaresipPhone> {
    const started = await BaresipPhone.start({ timeoutSec: 30, ...opts });
    phones.push(started);
    return started;
  }
  /** Stops the phones of one test now, so no test leaves baresip running into the next. */
  async function stopAll(): Promise<void> {
    await Promise.all(phones.splice(0).map((p) => p.stop()));
  }
  const inRange = (source: string | undefined, owner: BaresipPhone): boolean => {
    const m = /^127\.0\.0\.1:(\d+)$/.exec(source ?? '');
    const port = Number(m?.[1]);
    return m !== null && port >= owner.rtpPorts.min && port < owner.rtpPorts.max;
  };
  const summary = (events: BaresipEvent[]): string =>
    events
      .filter((e) => !['CALL_RTCP', 'CALL_LOCAL_SDP', 'CALL_REMOTE_SDP'].includes(e.type))
      .map((e) => `${e.type}(${e.direction ?? ''} ${e.peeruri ?? ''} ${e.param ?? ''})`)
      .join(' ');

  // BaresipPhone.start() calls requireCommand for baresip and sox: without them every test
  // here fails naming the Debian package (decisions.md §8: never skipped).
  after(stopAll);

  for (const transport of ['udp', 'tcp'] as const) {
    test(`${transport}: A dials B, both establish, RTP flows both ways, A hangs up`, async () => {
      const [a, b] = await Promise.all([phone({ name: 'a', transport }), phone({ name: 'b', transport })]);
      assert.equal(b.uri, `sip:b@127.0.0.1:${b.port}${transport === 'tcp' ? ';transport=tcp' : ''}`);

      await a.dial(b.uri);
      const [aUp, bUp] = await Promise.all([a.waitForEvent('CALL_ESTABLISHED'), b.waitForEvent('CALL_ESTABLISHED')]);
      assert.equal(aUp.direction, 'outgoing');
      assert.equal(bUp.direction, 'incoming');
      assert.equal(aUp.id, bUp.id, 'one Call-ID on both sides');
      assert.ok(aUp.peeruri?.startsWith(`sip:b@127.0.0.1:${b.port}`), aUp.peeruri);
      assert.ok(a.events.some((e) => e.type === 'CALL_RINGING'), 'A saw ringing first');
      if (transport === 'tcp') await a.waitForLog(/^TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);

      const rtp = /incoming rtp for 'audio' established, receiving from 127\.0\.0\.1:\d+/;
      await Promise.all([a.waitForLog(rtp), b.waitForLog(rtp)]);
      assert.ok(inRange(a.rtpReceivingFrom(), b), `A hears B: ${a.rtpReceivingFrom()} in ${JSON.stringify(b.rtpPorts)}`);
      assert.ok(inRange(b.rtpReceivingFrom(), a), `B hears A: ${b.rtpReceivingFrom()} in ${JSON.stringify(a.rtpPorts)}`);

      await a.hangup();
      const [aDown, bDown] = await Promise.all([a.waitForEvent('CALL_CLOSED'), b.waitForEvent('CALL_CLOSED')]);
      assert.equal(aDown.id, aUp.id);
      assert.equal(bDown.id, bUp.id);
      await stopAll();
    });
  }

  test('manual answer: B rings until answer(); a dial over the wrong transport is refused', async () => {
    const [a, b] = await Promise.all([phone({ name: 'a' }), phone({ name: 'b', answerMode: 'manual' })]);
    await assert.rejects(a.dial(`sip:x@127.0.0.1:${b.port};transport=tcp`), /a speaks udp/);
    await a.dial(b.uri);
    await Promise.all([b.waitForEvent('CALL_INCOMING'), a.waitForEvent('CALL_RINGING')]);
    assert.ok(!b.events.some((e) => e.type === 'CALL_ESTABLISHED'), 'not answered yet');
    await b.answer();
    await Promise.all([a.waitForEvent('CALL_ESTABLISHED'), b.waitForEvent('CALL_ESTABLISHED')]);
    await b.hangup();
    await a.waitForEvent('CALL_CLOSED');
    await stopAll();
  });

  test('blind transfer: A, in a call with B, transfers B to C; C gets a call from B', async (t) => {
    const [a, b, c] = await Promise.all([phone({ name: 'a' }), phone({ name: 'b' }), phone({ name: 'c' })]);
    await a.dial(b.uri);
    const firstCall = await b.waitForEvent('CALL_ESTABLISHED');
    await a.waitForEvent('CALL_ESTABLISHED');

    await a.transfer(c.uri);
    // Stable: B (the transferee) reports the REFER and calls C, which answers.
    const referred = await b.waitForEvent('TRANSFER');
    assert.equal(referred.param, c.uri);
    assert.equal(referred.id, firstCall.id, 'REFER came in the A–B dialog');
    const cUp = await c.waitForEvent('CALL_ESTABLISHED');
    assert.equal(cUp.direction, 'incoming');
    assert.ok(cUp.peeruri?.startsWith(`sip:b@127.0.0.1:${b.port}`), cUp.peeruri);
    const bToC = await b.waitForEvent((e) => e.type === 'CALL_ESTABLISHED' && e.direction === 'outgoing');
    assert.equal(bToC.id, cUp.id);
    // The transferor ends its own call; B's first call closes too.
    await a.waitForEvent('CALL_CLOSED');
    await b.waitForEvent((e) => e.type === 'CALL_CLOSED' && e.id === firstCall.id);
    await c.waitForLog(/incoming rtp for 'audio' established/);
    assert.ok(inRange(c.rtpReceivingFrom(), b), `C hears B: ${c.rtpReceivingFrom()}`);
    assert.match(a.logText(), /^REFER sip:b-[^ ]+ SIP\/2\.0$/m);

    t.diagnostic(`A: ${summary(a.events)}`);
    t.diagnostic(`B: ${summary(b.events)}`);
    t.diagnostic(`C: ${summary(c.events)}`);
    await b.hangup();
    await c.waitForEvent('CALL_CLOSED');
    await stopAll();
  });

  test('stop() ends baresip and removes its folder, and can be called twice', async () => {
    const a = await phone({ name: 'a' });
    const pid = a.pid!;
    await a.stop();
    await a.stop();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(a.dir), false);
    await assert.rejects(a.command('hangup'), /not connected/);
    await assert.rejects(a.waitForEvent('NEVER', 50), /has exited/);
  });
});
