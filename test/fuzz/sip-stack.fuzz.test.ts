/**
 * Fuzz campaign (issue 7, "bad input"): mutated RFC 4475/5118 messages and recorded-style traffic
 * fed straight into the stack's receive path, 50,000 inputs from a fixed seed. Nothing may throw
 * out of `receive`, no internal error may be counted, and once the clock has run past every
 * timer, no transaction, dialog or timer may be left. `FUZZ_INPUTS` / `FUZZ_SEED` change the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipStack } from '../../src/sip/stack/index.js';
import { CountingTimers } from '../../src/sip/timer.js';
import { FakeClock } from '../support/fake-clock.js';
import { mutate, rng } from './sip-mutations.js';

function seeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const dir of ['test/conformance/rfc4475', 'test/conformance/rfc5118']) {
    for (const f of readdirSync(dir).sort()) out.push(readFileSync(join(dir, f)));
  }
  const lines = (start: string, extra: string[] = [], body = '') => Buffer.from([start,
    'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKfuzz1;rport', 'From: <sip:a@127.0.0.1>;tag=f1', 'To: <sip:b@127.0.0.1>',
    'Call-ID: fuzz-1', ...extra, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  out.push(
    lines('INVITE sip:b@127.0.0.1 SIP/2.0', ['CSeq: 1 INVITE', 'Max-Forwards: 70', 'Contact: <sip:a@127.0.0.1:5080>', 'Content-Type: application/sdp'], 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n'),
    lines('REFER sip:b@127.0.0.1 SIP/2.0', ['CSeq: 2 REFER', 'Max-Forwards: 70', 'Refer-To: <sip:c@127.0.0.1>', 'Referred-By: <sip:a@127.0.0.1>']),
    lines('NOTIFY sip:b@127.0.0.1 SIP/2.0', ['CSeq: 3 NOTIFY', 'Max-Forwards: 70', 'Event: refer;id=2', 'Subscription-State: active;expires=60', 'Content-Type: message/sipfrag'], 'SIP/2.0 180 Ringing\n'),
    lines('SIP/2.0 200 OK', ['CSeq: 1 INVITE', 'Contact: <sip:b@127.0.0.1>']),
    lines('OPTIONS sip:b@127.0.0.1 SIP/2.0', ['CSeq: 9 OPTIONS', 'Max-Forwards: 0']),
  );
  return out;
}

test('50,000 mutated SIP messages: no throw, no internal error, nothing left behind', () => {
  const inputs = Number(process.env.FUZZ_INPUTS ?? 50_000);
  const seed = Number(process.env.FUZZ_SEED ?? 20261126);
  const clock = new FakeClock();
  const timers = new CountingTimers(clock);
  let sent = 0;
  const internal: unknown[] = [];
  const stack = new SipStack({
    transport: {
      send: (_d, _t, cb) => { sent++; cb?.(); },
      local: (t) => ({ address: '127.0.0.1', port: t === 'udp' ? 5072 : 5073 }),
    },
    timers,
    maxHeaders: 200,
    onEvent: (e) => { if (e.type === 'internal-error') internal.push(e.error); },
  });
  // The stack answers what it can: INVITEs get 403 from this handler, others the defaults.
  stack.onRequest('INVITE', (req, tx) => stack.inviteServer(req, tx).reject(403));
  const corpus = seeds();
  const r = rng(seed);
  for (let i = 0; i < inputs; i++) {
    const data = mutate(corpus[Math.floor(r() * corpus.length)]!, r);
    const transport = r() < 0.8 ? 'udp' : 'tcp';
    assert.doesNotThrow(() => stack.receive({
      data, transport, remote: { address: '127.0.0.1', port: 5080 + (i % 7) }, local: { address: '127.0.0.1', port: 5072 }, connectionId: transport === 'tcp' ? 1 : undefined,
    }));
    if (i % 1000 === 999) clock.advance(40_000); // let wait states run out as time passes
  }
  assert.deepEqual(internal, [], 'internal errors');
  assert.ok(stack.counters.parseErrors > inputs / 10, `most mutations are malformed (${stack.counters.parseErrors})`);
  assert.ok(sent > 0, 'some inputs were answered');
  clock.advance(120_000);
  clock.advance(120_000);
  assert.deepEqual(stack.counts(), { transactions: 0, dialogs: 0, inviteServers: 0, pendingRefers: 0 });
  assert.equal(timers.armed, 0);
});
