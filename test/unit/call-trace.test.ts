import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallTrace } from '../../src/call/trace.js';
import { redactSipCredentials } from '../../src/log/index.js';

const msg = (first: string, callId: string, extra = '') =>
  Buffer.from(`${first}\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK1\r\nCall-ID: ${callId}\r\n${extra}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
const peer = { address: '127.0.0.1', port: 25161 };

test('keeps the messages of traced calls only, in order, with credentials redacted', () => {
  let now = 1000;
  const t = new CallTrace({ maxCalls: 10, redact: redactSipCredentials, now: () => now++ });
  t.addLeg('c1', 'sip-a');
  t.observe('out', msg('INVITE sip:alice@127.0.0.1 SIP/2.0', 'sip-a', 'Authorization: Digest username="x", response="secret"\r\n'), 'udp', peer);
  t.observe('in', msg('SIP/2.0 180 Ringing', 'sip-a'), 'udp', peer);
  t.observe('in', msg('SIP/2.0 200 OK', 'other'), 'udp', peer);
  const entries = t.get('c1')!;
  assert.deepEqual(entries.map((e) => `${e.direction} ${e.summary}`), ['out INVITE', 'in 180 Ringing']);
  assert.equal(entries[0]!.peer, '127.0.0.1:25161');
  assert.doesNotMatch(entries[0]!.text, /secret/);
  assert.equal(entries[1]!.time, 1001);
});

test('bounded: the oldest call is dropped beyond maxCalls; 0 turns tracing off', () => {
  const t = new CallTrace({ maxCalls: 2, redact: (s) => s });
  for (const id of ['c1', 'c2', 'c3']) t.addLeg(id, `sip-${id}`);
  t.observe('out', msg('INVITE sip:a@b SIP/2.0', 'sip-c1'), 'udp', peer);
  assert.equal(t.get('c1'), undefined);
  assert.deepEqual(t.get('c3'), []);
  const off = new CallTrace({ maxCalls: 0, redact: (s) => s });
  off.addLeg('c1', 'x');
  assert.equal(off.get('c1'), undefined);
  assert.equal(off.enabled, false);
});

test('takes the Call-ID from the parsed message when the stack passes it, and keeps its own copy of a view into a larger buffer', () => {
  const t = new CallTrace({ maxCalls: 10, redact: (s) => s.replace('secret', '***') });
  t.addLeg('c1', 'sip-a');
  t.addLeg('c1', 'sip-b');
  const wire = Buffer.concat([msg('BYE sip:a@127.0.0.1 SIP/2.0', 'sip-b', 'X-Note: secret\r\n'), Buffer.from('next message in the same read')]);
  const first = wire.subarray(0, wire.indexOf('next message'));
  // The Call-ID in the bytes says sip-b; the message object is what counts when given.
  t.observe('in', first, 'tcp', { address: '::1', port: 5060 }, { callId: 'sip-a' });
  wire.fill(0); // the transport reuses its read buffer
  const [entry] = t.get('c1')!;
  assert.equal(entry!.sipCallId, 'sip-a');
  assert.equal(entry!.summary, 'BYE');
  assert.equal(entry!.peer, '[::1]:5060');
  assert.match(entry!.text, /^BYE sip:a@127\.0\.0\.1 SIP\/2\.0\r\n/);
  assert.match(entry!.text, /X-Note: \*\*\*/);
});
