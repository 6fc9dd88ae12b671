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

test('the messages live in a ring of bytes: a call whose first message is overwritten is forgotten whole, later calls stay complete', () => {
  const t = new CallTrace({ maxCalls: 100, ringBytes: 2048, redact: (s) => s });
  const sizes: number[] = [];
  for (let c = 1; c <= 30; c++) {
    t.addLeg(`c${c}`, `sip-${c}`);
    for (const first of ['INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'BYE sip:a@b SIP/2.0']) {
      const m = msg(first, `sip-${c}`);
      sizes.push(m.length);
      t.observe('out', m, 'udp', peer);
    }
  }
  assert.ok(sizes.reduce((a, b) => a + b, 0) > 3 * 2048, 'the test writes several times the ring');
  assert.equal(t.get('c1'), undefined, 'the oldest calls were forgotten');
  const all = Array.from({ length: 30 }, (_, i) => t.get(`c${i + 1}`));
  const kept = all.filter((e) => e !== undefined);
  assert.ok(all.slice(30 - kept.length).every((e) => e !== undefined), 'the kept calls are the latest ones');
  assert.ok(kept.length >= 2 && kept.length < 30, `some calls kept (${kept.length})`);
  for (const entries of kept) {
    assert.deepEqual(entries!.map((e) => e.summary), ['INVITE', '200 OK', 'BYE']);
  }
  assert.equal(t.get('c30')![2]!.sipCallId, 'sip-30');
});

test('a call larger than the ring keeps its latest messages, in order; a message is cut at maxMessageBytes', () => {
  const t = new CallTrace({ maxCalls: 10, ringBytes: 1024, maxMessageBytes: 100, redact: (s) => s });
  t.addLeg('big', 'sip-big');
  for (let i = 0; i < 40; i++) t.observe('in', msg(`MESSAGE sip:${i}@b SIP/2.0`, 'sip-big'), 'tcp', { address: '::1', port: 5060 + i });
  const entries = t.get('big')!;
  assert.ok(entries.length > 3 && entries.length < 40, `${entries.length} kept`);
  const ports = entries.map((e) => Number(/\]:(\d+)$/.exec(e.peer)![1]));
  assert.deepEqual(ports, ports.map((_, i) => 5060 + 40 - entries.length + i), 'the latest ones, in order');
  assert.equal(entries.at(-1)!.text.length, 100);
  assert.equal(entries[0]!.transport, 'tcp');
  assert.equal(entries[0]!.direction, 'in');
});
