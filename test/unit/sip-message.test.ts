import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseMessage, parseUri, parseNameAddr, parseVia, SipParseError, SipRequest, SipResponse, uriEquals,
  createResponse, createCancel, createNon2xxAck, splitList,
} from '../../src/sip/message/index.js';

const CRLF = '\r\n';
function msg(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + body);
}

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Content-Type: application/sdp',
  'Content-Length: 4',
];

test('parses a request and exposes its structured headers', () => {
  const m = parseMessage(msg(INVITE, 'v=0\n')) as SipRequest;
  assert.equal(m.isRequest, true);
  assert.equal(m.method, 'INVITE');
  assert.equal(m.uri, 'sip:bob@biloxi.example.com');
  assert.equal(m.requestUri.user, 'bob');
  assert.equal(m.topVia.branch, 'z9hG4bK776asdhds');
  assert.equal(m.topVia.rport, null);
  assert.equal(m.topVia.transport, 'UDP');
  assert.equal(m.from.displayName, 'Alice "A"');
  assert.equal(m.from.tag, '1928301774');
  assert.equal(m.to.tag, undefined);
  assert.equal(m.to.displayName, 'Bob');
  assert.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
  assert.deepEqual(m.cseq, { seq: 314159, method: 'INVITE' });
  assert.equal(m.maxForwards, 70);
  assert.equal(m.contentType, 'application/sdp');
  assert.equal(m.body.toString(), 'v=0\n');
});

test('an unmodified message serializes to its exact bytes; a modified one is rebuilt', () => {
  const bytes = msg(INVITE, 'v=0\n');
  const m = parseMessage(bytes);
  assert.ok(m.serialize().equals(bytes));
  m.set('Max-Forwards', '69');
  const out = m.serialize().toString();
  assert.match(out, /\r\nMax-Forwards: 69\r\n/);
  assert.match(out, /\r\nContent-Length: 4\r\n\r\nv=0\n$/);
  const again = parseMessage(m.serialize());
  assert.equal(again.maxForwards, 69);
  assert.equal(again.from.displayName, 'Alice "A"');
});

test('compact forms, folding, case-insensitive names and lists across lines', () => {
  const m = parseMessage(msg([
    'OPTIONS sip:x@example.com SIP/2.0',
    'v: SIP/2.0/TCP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com:5070;branch=z9hG4bK2',
    'VIA: SIP/2.0/UDP [2001:db8::1]:5080;branch=z9hG4bK3;received=192.0.2.1',
    'f: <sip:a@example.com>;tag=1',
    't: <sip:x@example.com>',
    'i: abc',
    'CSEQ: 1 OPTIONS',
    'Subject: first part',
    '   and the folded part',
    'k: norefersub,',
    ' replaces',
    'Allow: INVITE, ack,BYE',
    'l: 0',
  ]));
  assert.equal(m.vias.length, 3);
  assert.equal(m.vias[1]!.port, 5070);
  assert.equal(m.vias[2]!.host, '2001:db8::1');
  assert.equal(m.vias[2]!.received, '192.0.2.1');
  assert.equal(m.get('subject'), 'first part and the folded part');
  assert.deepEqual(m.supported, ['norefersub', 'replaces']);
  assert.deepEqual(m.allow, ['INVITE', 'ACK', 'BYE']);
  assert.equal(m.callId, 'abc');
  assert.equal(m.get('call-id'), 'abc');
  assert.equal(m.get('I'), 'abc');
});

test('responses: status line with and without a reason phrase', () => {
  const r = parseMessage(msg([
    'SIP/2.0 180 Ringing',
    'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1',
    'From: <sip:a@example.com>;tag=1',
    'To: <sip:b@example.com>;tag=2',
    'Call-ID: c',
    'CSeq: 1 INVITE',
  ])) as SipResponse;
  assert.equal(r.status, 180);
  assert.equal(r.reason, 'Ringing');
  const n = parseMessage(Buffer.from('SIP/2.0 100 \r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n')) as SipResponse;
  assert.equal(n.status, 100);
  assert.equal(n.reason, '');
});

test('malformed requests: answerable ones carry the partial message and a reason', () => {
  const mismatch = [...INVITE];
  mismatch[6] = 'CSeq: 1 BYE';
  mismatch[9] = 'Content-Length: 0';
  assert.throws(() => parseMessage(msg(mismatch)), (e: unknown) => {
    assert.ok(e instanceof SipParseError);
    assert.equal(e.status, 400);
    assert.equal(e.answerable, true);
    assert.ok(e.partial instanceof SipRequest);
    assert.match(e.reason, /CSeq/);
    return true;
  });
  const noVia = INVITE.filter((l) => !l.startsWith('Via'));
  assert.throws(() => parseMessage(msg(noVia, 'v=0\n')), (e: unknown) => e instanceof SipParseError && !e.answerable);
  const bigCl = [...INVITE];
  bigCl[9] = 'Content-Length: 400';
  assert.throws(() => parseMessage(msg(bigCl, 'v=0\n')), (e: unknown) => e instanceof SipParseError && /exceeds/.test(e.reason));
  const version = [...INVITE];
  version[0] = 'INVITE sip:bob@biloxi.example.com SIP/7.0';
  assert.throws(() => parseMessage(msg(version, 'v=0\n')), (e: unknown) => e instanceof SipParseError && e.status === 505 && e.answerable);
  assert.throws(() => parseMessage(Buffer.from('INVITE  sip:a@b SIP/2.0\r\n\r\n')), SipParseError);
  assert.throws(() => parseMessage(Buffer.from('\r\n\r\n')), SipParseError);
  assert.throws(() => parseMessage(Buffer.from('garbage')), SipParseError);
});

test('header limit', () => {
  const lines = [...INVITE.slice(0, 9)];
  for (let i = 0; i < 50; i++) lines.push(`X-H${i}: ${i}`);
  assert.throws(() => parseMessage(msg(lines), { maxHeaders: 40 }), /Too many headers/);
  assert.equal(parseMessage(msg(lines), { maxHeaders: 100 }).headerCount, 58);
});

test('SIP URIs: user, password, IPv6, params, headers, escapes', () => {
  const u = parseUri('sips:alice%20x:secret@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  assert.equal(u.scheme, 'sips');
  assert.equal(u.user, 'alice x');
  assert.equal(u.password, 'secret');
  assert.equal(u.host, '2001:db8::10');
  assert.equal(u.port, 5061);
  assert.equal(u.transport, 'tcp');
  assert.equal(u.params.get('lr'), null);
  assert.equal(u.headers.get('subject'), 'project x');
  assert.equal(u.toString(), 'sips:alice%20x:secret@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  const semi = parseUri('sip:user;par=u%40example.net@example.com');
  assert.equal(semi.user, 'user;par=u@example.net');
  assert.equal(semi.host, 'example.com');
  const tel = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  assert.equal(tel.scheme, 'tel');
  assert.equal(tel.user, '+1-201-555-0123');
  const other = parseUri('http://example.com/x');
  assert.equal(other.scheme, 'http');
  assert.equal(other.opaque, '//example.com/x');
  for (const bad of ['sip:', 'sip:user@', 'sip:a@[2001:db8::1', 'sip:a@b:99999', 'sip:a b@c', 'nocolon', 'sip:a@b;=x', 'sip:%zz@b']) {
    assert.throws(() => parseUri(bad), SipParseError, bad);
  }
});

test('URI comparison per RFC 3261 §19.1.4', () => {
  assert.ok(uriEquals(parseUri('sip:%61lice@atlanta.com;transport=TCP'), parseUri('sip:alice@AtLanTa.CoM;Transport=tcp')));
  assert.ok(!uriEquals(parseUri('sip:alice@atlanta.com'), parseUri('sip:ALICE@atlanta.com')));
  assert.ok(!uriEquals(parseUri('sip:bob@biloxi.com'), parseUri('sip:bob@biloxi.com:5060')));
  assert.ok(!uriEquals(parseUri('sip:bob@biloxi.com;transport=udp'), parseUri('sip:bob@biloxi.com')));
  assert.ok(uriEquals(parseUri('sip:carol@chicago.com;security=on'), parseUri('sip:carol@chicago.com')));
});

test('name-addr and addr-spec forms', () => {
  const a = parseNameAddr('"Click-To-Call: 1001" <sip:c2c@127.0.0.1;transport=udp>;tag=abc');
  assert.equal(a.displayName, 'Click-To-Call: 1001');
  assert.equal(a.uri, 'sip:c2c@127.0.0.1;transport=udp');
  assert.equal(a.tag, 'abc');
  assert.equal(a.parsedUri.transport, 'udp');
  const b = parseNameAddr('sip:bob@example.com;tag=xyz');
  assert.equal(b.uri, 'sip:bob@example.com');
  assert.equal(b.tag, 'xyz');
  const c = parseNameAddr('Bob  Smith <sip:bob@example.com>');
  assert.equal(c.displayName, 'Bob Smith');
  assert.equal(c.toString(), '"Bob Smith" <sip:bob@example.com>');
  const d = parseNameAddr('<sip:b@x?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>');
  assert.equal(d.parsedUri.headers.get('Replaces'), 'abc@h;to-tag=1;from-tag=2');
  for (const bad of ['"unterminated <sip:a@b>', '<sip:a@b', 'Bob <>']) {
    assert.throws(() => parseNameAddr(bad), SipParseError, bad);
  }
});

test('Via with spaces around the slashes and parameters', () => {
  const v = parseVia('SIP / 2.0 / UDP  host.example.com : 5060 ; branch = z9hG4bKx ; received=10.0.0.1;rport=5070');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.host, 'host.example.com');
  assert.equal(v.port, 5060);
  assert.equal(v.branch, 'z9hG4bKx');
  assert.equal(v.rport, 5070);
  assert.throws(() => parseVia('SIP/2.0 host'), SipParseError);
});

test('splitList keeps commas inside quotes and angle brackets', () => {
  assert.deepEqual(splitList('"a, b" <sip:x@y;p=1,2>, <sip:z@w>'), ['"a, b" <sip:x@y;p=1,2>', '<sip:z@w>']);
});

test('REFER-related headers', () => {
  const m = parseMessage(msg([
    'NOTIFY sip:a@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK9',
    'From: <sip:b@127.0.0.1>;tag=7',
    'To: <sip:a@127.0.0.1>;tag=8',
    'Call-ID: n1',
    'CSeq: 3 NOTIFY',
    'o: refer;id=2',
    'Subscription-State: terminated;reason=noresource',
    'r: <sip:c@127.0.0.1>',
    'b: <sip:a@127.0.0.1>',
    'Replaces: 123@h;to-tag=1;from-tag=2;early-only',
    'Refer-Sub: false',
    'Content-Type: message/sipfrag;version=2.0',
    'Content-Length: 0',
  ]));
  assert.equal(m.event?.type, 'refer');
  assert.equal(m.event?.id, '2');
  assert.equal(m.subscriptionState?.state, 'terminated');
  assert.equal(m.subscriptionState?.reason, 'noresource');
  assert.equal(m.referTo?.uri, 'sip:c@127.0.0.1');
  assert.equal(m.referredBy?.uri, 'sip:a@127.0.0.1');
  assert.deepEqual(m.replaces, { callId: '123@h', toTag: '1', fromTag: '2', earlyOnly: true });
  assert.equal(m.referSub, false);
  assert.equal(m.contentType, 'message/sipfrag');
});

test('responses, CANCEL and ACK built from requests (§8.2.6, §9.1, §17.1.1.3)', () => {
  const inv = parseMessage(msg(INVITE, 'v=0\n')) as SipRequest;
  const r = createResponse(inv, 486, undefined, 'totag');
  assert.equal(r.status, 486);
  assert.equal(r.reason, 'Busy Here');
  assert.equal(r.to.tag, 'totag');
  assert.equal(r.topVia.branch, 'z9hG4bK776asdhds');
  assert.deepEqual(r.cseq, { seq: 314159, method: 'INVITE' });
  const trying = createResponse(inv, 100, undefined, 'totag');
  assert.equal(trying.to.tag, undefined);
  const cancel = createCancel(inv);
  assert.equal(cancel.method, 'CANCEL');
  assert.deepEqual(cancel.cseq, { seq: 314159, method: 'CANCEL' });
  assert.equal(cancel.topVia.branch, 'z9hG4bK776asdhds');
  const ack = createNon2xxAck(inv, r);
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.to.tag, 'totag');
  assert.equal(ack.topVia.branch, 'z9hG4bK776asdhds');
  const reparsed = parseMessage(ack.serialize()) as SipRequest;
  assert.equal(reparsed.method, 'ACK');
});

test('compact() keeps the bytes; every value is read again from them, and edits still work', () => {
  const parsed = parseMessage(msg(INVITE, 'v=0\n')) as SipRequest;
  const before = parsed.serialize();
  assert.equal(parsed.from.tag, '1928301774'); // parsed values cached before compacting
  parsed.compact();
  assert.deepEqual(parsed.serialize(), before);
  assert.equal(parsed.from.tag, '1928301774');
  assert.equal(parsed.topVia.branch, 'z9hG4bK776asdhds');
  assert.equal(parsed.cseq.seq, 314159);
  assert.equal(parsed.requestUri.host, 'biloxi.example.com');
  assert.equal(parsed.body.toString(), 'v=0\n');
  parsed.set('Max-Forwards', '69');
  assert.equal(parsed.maxForwards, 69);
  assert.match(parsed.serialize().toString(), /\r\nMax-Forwards: 69\r\n/);

  // A built message: compact() serializes it once; later reads and sends use those bytes.
  const built = createResponse(parseMessage(msg(INVITE, 'v=0\n')) as SipRequest, 486, 'Busy Here', 'totag');
  const bytes = built.serialize();
  built.compact();
  assert.equal(built.raw !== undefined, true);
  assert.deepEqual(built.serialize(), bytes);
  assert.equal(built.to.tag, 'totag');
  assert.equal(built.status, 486);
  built.compact();
  built.compact(); // idempotent
  assert.deepEqual(built.serialize(), bytes);

  // The body is read from the kept bytes, not from the buffer it was set from (a view into a
  // pool slab or a datagram, which it would keep alive for the whole wait).
  const withBody = createResponse(parseMessage(msg(INVITE, 'v=0\n')) as SipRequest, 200, undefined, 'totag');
  withBody.setBody('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n', 'application/sdp');
  const slab = withBody.body.buffer;
  withBody.compact();
  assert.equal(withBody.body.toString(), 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n');
  assert.notEqual(withBody.body.buffer, slab);
  assert.equal(withBody.body.buffer, withBody.raw!.buffer);
});

test('toStringWithoutTag: a dialog URI is the name-addr without its tag, other parameters kept', () => {
  assert.equal(parseNameAddr('"A" <sip:a@h>;tag=1').toStringWithoutTag(), '"A" <sip:a@h>');
  assert.equal(parseNameAddr('<sip:a@h>;x=1;tag=2').toStringWithoutTag(), '<sip:a@h>;x=1');
  assert.equal(parseNameAddr('<sip:a@h>;tag=2;x').toStringWithoutTag(), '<sip:a@h>;x');
  assert.equal(parseNameAddr('<sip:a@h>').toStringWithoutTag(), '<sip:a@h>');
  assert.equal(parseNameAddr('<sip:a@h>;TAG=3').toStringWithoutTag(), '<sip:a@h>');
  assert.equal(parseNameAddr('sip:a@h;tag=4').toStringWithoutTag(), '<sip:a@h>');
  const built = parseNameAddr('<sip:a@h>;tag=5');
  built.params.set('y', 'z');
  assert.equal(built.toStringWithoutTag(), '<sip:a@h>;y=z');
});

test('get/getAll/has read the header lines before and after they become Header objects alike', () => {
  const lines = [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g;branch=z9hG4bK2',
    'v: SIP/2.0/UDP f;branch=z9hG4bK3',
    'Record-Route: <sip:p1;lr>, <sip:p2;lr>',
    'record-route: <sip:p3;lr>',
    'From: <sip:a@h>;tag=1', 'To: <sip:b@h>;tag=2', 'Call-ID: c', 'CSeq: 1 INVITE',
    'm: <sip:b@10.0.0.1>',
    'Allow:  INVITE, ACK ,BYE ',
    'X-Custom: one', 'x-custom: two',
    'Subject:',
  ];
  const names = ['via', 'record-route', 'Contact', 'allow', 'X-Custom', 'subject', 'supported', 'from'];
  const lazy = parseMessage(msg(lines));
  const eager = parseMessage(msg(lines));
  void eager.headers; // materialized
  for (const n of names) {
    assert.deepEqual(lazy.getAll(n), eager.getAll(n), `getAll ${n}`);
    assert.equal(lazy.get(n), eager.get(n), `get ${n}`);
    assert.equal(lazy.has(n), eager.has(n), `has ${n}`);
  }
  assert.deepEqual(lazy.getAll('record-route'), ['<sip:p1;lr>', '<sip:p2;lr>', '<sip:p3;lr>']);
  assert.equal(lazy.get('contact'), '<sip:b@10.0.0.1>');
  assert.equal(lazy.has('supported'), false);
  // A folded line: the continuation joins its header either way.
  const folded = parseMessage(msg([...lines.slice(0, 9), 'Subject: first', ' second']));
  assert.equal(folded.get('subject'), 'first second');
});
