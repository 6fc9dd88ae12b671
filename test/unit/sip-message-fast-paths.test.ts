// The parser's fast paths (issue 2) must give the same answers as the general readings they
// stand in for: lazily built header lines, the plain Request-URI check, the name-addr and CSeq
// shortcuts, the top-Via-only parse, the ASCII/latin1 decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseMessage, parseUri, parseNameAddr, parseCSeq, SipParseError, SipRequest, Via, ownVia, parseVia,
} from '../../src/sip/message/index.js';
import { isPlainSipUri } from '../../src/sip/message/uri.js';
import { createResponse } from '../../src/sip/message/build.js';
import { parseNameAddrGeneral } from '../../src/sip/message/name-addr.js';
import { parseCSeqGeneral } from '../../src/sip/message/message.js';

const CRLF = '\r\n';

/** Every string made from `seed` by replacing one character with one of `chars`, or deleting it. */
function mutations(seed: string, chars: string[]): string[] {
  const out = [seed];
  for (let i = 0; i < seed.length; i++) {
    out.push(seed.slice(0, i) + seed.slice(i + 1));
    for (const c of chars) out.push(seed.slice(0, i) + c + seed.slice(i + 1));
  }
  return out;
}

function outcome<T>(fn: () => T): { ok: true; value: T } | { ok: false; reason: string } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    return { ok: false, reason: err.reason };
  }
}

const SPECIALS = ['%', '%4', '?', '[', ']', ':', ';', '=', '@', ' ', '\t', '-', '.', 'A', '"', '<', '>', '\u00e9', ',', '&', '99999', ''];

test('isPlainSipUri is true only for URIs parseUri accepts without headers', () => {
  const seeds = [
    'sip:1001@127.0.0.1:25161;transport=udp',
    'sips:alice:secret@example.com;lr;maddr=192.0.2.1',
    'sip:example.com:5060',
    'sip:bob@[2001:db8::1]:5060',
    'sip:user@host?subject=x',
  ];
  let plain = 0;
  let checked = 0;
  for (const seed of seeds) {
    for (const uri of mutations(seed, SPECIALS)) {
      checked++;
      if (!isPlainSipUri(uri)) continue;
      plain++;
      const parsed = outcome(() => parseUri(uri));
      assert.ok(parsed.ok, `isPlainSipUri("${uri}") but parseUri refuses it`);
      assert.equal(parsed.value.headers.size, 0, uri);
    }
  }
  assert.ok(plain > 100 && plain < checked, `${plain} of ${checked} plain`);
  assert.equal(isPlainSipUri('sip:1001@127.0.0.1:25161;transport=udp'), true);
  assert.equal(isPlainSipUri('SIP:1001@127.0.0.1'), false); // left to parseUri
});

test('a Request-URI that is not plain is still checked at parse time', () => {
  const base = (uri: string) => Buffer.from([
    `OPTIONS ${uri} SIP/2.0`, 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>',
    'Call-ID: x', 'CSeq: 1 OPTIONS', '', '',
  ].join(CRLF));
  const headers = outcome(() => parseMessage(base('sip:a@b?Route=%3Csip:x%3E')));
  assert.equal(headers.ok, false);
  const badHost = outcome(() => parseMessage(base('sip:a@[2001:db8::zz]')));
  assert.equal(badHost.ok, false);
  const fine = parseMessage(base('sip:a@b;lr')) as SipRequest;
  assert.equal(fine.requestUri.params.has('lr'), true);
});

test('the name-addr fast path agrees with the general reading', () => {
  const seeds = [
    '"Click-To-Call: 1002" <sip:clicktocall@127.0.0.1:5072>;tag=8d2e4f61',
    '<sip:1001@127.0.0.1:25161;transport=udp>',
    '"" <sip:a@b>;tag=1;x',
    '"A \\"B\\"" <sip:a@b>',
  ];
  for (const seed of seeds) {
    for (const v of mutations(seed, SPECIALS)) {
      const fast = outcome(() => parseNameAddr(v));
      const general = outcome(() => parseNameAddrGeneral(v));
      assert.equal(fast.ok, general.ok, `"${v}": ${JSON.stringify(fast)} vs ${JSON.stringify(general)}`);
      if (!fast.ok && !general.ok) assert.equal(fast.reason, general.reason, v);
      if (fast.ok && general.ok) {
        assert.equal(fast.value.displayName, general.value.displayName, v);
        assert.equal(fast.value.uri, general.value.uri, v);
        assert.deepEqual([...fast.value.params], [...general.value.params], v);
      }
    }
  }
});

test('the CSeq fast path agrees with the general reading', () => {
  for (const v of mutations('314159 INVITE', [' ', '\t', 'a', '0', '99999999999', ':', ''])) {
    const fast = outcome(() => parseCSeq(v));
    const general = outcome(() => parseCSeqGeneral(v));
    assert.deepEqual(fast, general, v);
  }
  assert.deepEqual(parseCSeq('4294967295 BYE'), { seq: 4294967295, method: 'BYE' });
  assert.throws(() => parseCSeq('4294967296 BYE'), SipParseError);
});

test('header lines built lazily are the ones an eager parse gives, folding and odd spellings included', () => {
  const m = parseMessage(Buffer.from([
    'OPTIONS sip:x@example.com SIP/2.0',
    'v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1',
    'VIA :  SIP/2.0/TCP b.example.com;branch=z9hG4bK2  ',
    'From: <sip:a@example.com>;tag=1',
    't: <sip:x@example.com>',
    'call-id: abc',
    'CSeq: 1 OPTIONS',
    'X-Long-Header-Name-Not-Known: one',
    '  two',
    'Max-Forwards\t: 70',
    'Content-Length: 0',
    '', '',
  ].join(CRLF)));
  assert.deepEqual(m.headers.map((h) => [h.name, h.key, h.value]), [
    ['v', 'via', 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1'],
    ['VIA', 'via', 'SIP/2.0/TCP b.example.com;branch=z9hG4bK2'],
    ['From', 'from', '<sip:a@example.com>;tag=1'],
    ['t', 'to', '<sip:x@example.com>'],
    ['call-id', 'call-id', 'abc'],
    ['CSeq', 'cseq', '1 OPTIONS'],
    ['X-Long-Header-Name-Not-Known', 'x-long-header-name-not-known', 'one two'],
    ['Max-Forwards', 'max-forwards', '70'],
    ['Content-Length', 'content-length', '0'],
  ]);
  assert.equal(m.maxForwards, 70);
  assert.equal(m.callId, 'abc');
  // A folded core header: the parser reads the joined value.
  const folded = parseMessage(Buffer.from([
    'OPTIONS sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP a.example.com', ' ;branch=z9hG4bK1',
    'From: <sip:a@example.com>', ' ;tag=7', 'To: <sip:x@example.com>', 'Call-ID: abc', 'CSeq: 1 OPTIONS', '', '',
  ].join(CRLF)));
  assert.equal(folded.from.tag, '7');
  assert.equal(folded.topVia.branch, 'z9hG4bK1');
});

test('headers can be replaced before they were ever built', () => {
  const m = parseMessage(Buffer.from([
    'OPTIONS sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1',
    'To: <sip:c@d>', 'Call-ID: abc', 'CSeq: 1 OPTIONS', '', '',
  ].join(CRLF)));
  m.headers = [{ name: 'Call-ID', key: 'call-id', value: 'other' }];
  assert.equal(m.get('call-id'), 'other');
  assert.equal(m.headerCount, 1);
});

test('only the top Via is parsed with the message; a bad lower Via fails when read', () => {
  const m = parseMessage(Buffer.from([
    'SIP/2.0 200 OK', 'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP bad host', 'From: <sip:a@b>;tag=1',
    'To: <sip:c@d>;tag=2', 'Call-ID: abc', 'CSeq: 1 OPTIONS', '', '',
  ].join(CRLF)));
  assert.equal(m.topVia.host, 'a.example.com');
  assert.throws(() => m.vias, SipParseError);
  const missing = outcome(() => parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: ,\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: a\r\nCSeq: 1 A\r\n\r\n')));
  assert.deepEqual(missing, { ok: false, reason: 'Missing Via header' });
});

test('replaceTopVia rewrites the first Via value only and keeps the parsed object', () => {
  const m = parseMessage(Buffer.from([
    'INVITE sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport, SIP/2.0/UDP b;branch=z9hG4bK2',
    'Via: SIP/2.0/UDP c;branch=z9hG4bK3', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>', 'Call-ID: abc', 'CSeq: 1 INVITE', '', '',
  ].join(CRLF))) as SipRequest;
  const top = m.topVia;
  top.params.set('rport', '5062');
  top.params.set('received', '192.0.2.1');
  m.replaceTopVia(top);
  assert.equal(m.topVia, top);
  assert.deepEqual(m.getAll('via'), [
    'SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport=5062;received=192.0.2.1',
    'SIP/2.0/UDP b;branch=z9hG4bK2',
    'SIP/2.0/UDP c;branch=z9hG4bK3',
  ]);
  assert.equal(m.vias[0], top);
  assert.equal(m.vias.length, 3);
  const again = parseMessage(m.serialize());
  assert.equal(again.topVia.rport, 5062);
  assert.ok(top instanceof Via);
});

test('a Via stamped before the lines are built, and a response built from unbuilt lines, match the eager results', () => {
  const requests = [
    // Core lines out of the usual order, a compact Via, a list Via, an unknown header between.
    ['INVITE sip:x@example.com SIP/2.0', 'CSeq: 1 INVITE', 'v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport, SIP/2.0/UDP b;branch=z9hG4bK2',
      'X-Other: 1', 'Via: SIP/2.0/UDP c;branch=z9hG4bK3', 't: <sip:c@d>', 'From: <sip:a@b>;tag=1', 'Call-ID: abc', '', ''],
    // A folded line: the response copies come from the built lines.
    ['INVITE sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport', 'From: <sip:a@b>', ' ;tag=1',
      'To: <sip:c@d>', 'Call-ID: abc', 'CSeq: 1 INVITE', '', ''],
  ];
  for (const [n, lines] of requests.entries()) {
    const text = lines.join(CRLF);
    const lazy = parseMessage(Buffer.from(text)) as SipRequest;
    const eager = parseMessage(Buffer.from(text)) as SipRequest;
    void eager.headers; // built before the stamp
    for (const m of [lazy, eager]) {
      const top = m.topVia;
      top.params.set('rport', '5062');
      top.params.set('received', '192.0.2.1');
      m.replaceTopVia(top);
    }
    const fromLazy = createResponse(lazy, 180, undefined, 'tt');
    const fromEager = createResponse(eager, 180, undefined, 'tt');
    assert.deepEqual(fromLazy.headers, fromEager.headers);
    assert.equal(fromLazy.serialize().toString(), fromEager.serialize().toString());
    assert.equal(fromLazy.vias[0]!.received, '192.0.2.1');
    assert.equal(fromLazy.to.tag, 'tt');
    const viaLines = n === 0 ? ['via', 'via'] : ['via'];
    assert.deepEqual(fromLazy.headers.map((h) => h.key), [...viaLines, 'from', 'to', 'call-id', 'cseq']);
    // The stamped request itself, when its lines are built afterwards, carries the stamp.
    assert.deepEqual(lazy.headers, eager.headers);
    assert.equal(lazy.serialize().toString(), eager.serialize().toString());
  }
});

test('responses to one request share its copied lines until the request changes', () => {
  const req = parseMessage(Buffer.from([
    'INVITE sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP a;branch=z9hG4bK1;rport', 'From: <sip:a@b>;tag=1',
    'To: <sip:c@d>', 'Call-ID: abc', 'CSeq: 1 INVITE', '', '',
  ].join(CRLF))) as SipRequest;
  const trying = createResponse(req, 100);
  const ringing = createResponse(req, 180, undefined, 'x');
  assert.equal(trying.to.tag, undefined, '100 Trying gets no To tag (§8.2.6.2)');
  assert.equal(ringing.to.tag, 'x');
  ringing.set('Call-ID', 'changed-in-the-response');
  assert.equal(createResponse(req, 200, undefined, 'x').callId, 'abc', 'a response changing its copy leaves the request alone');
  req.set('Call-ID', 'def');
  assert.equal(createResponse(req, 200, undefined, 'x').callId, 'def');
  const top = req.topVia;
  top.params.set('received', '192.0.2.9');
  req.replaceTopVia(top);
  assert.equal(createResponse(req, 200, undefined, 'x').topVia.received, '192.0.2.9');
});

test('a Via built with its text reads as the text parses, IPv6 included', () => {
  for (const [host, transport] of [['192.0.2.7', 'UDP'], ['::1', 'TCP'], ['pbx.example.com', 'TLS']] as const) {
    const { via, text } = ownVia(transport, host, 5070, 'z9hG4bKabc');
    const parsed = parseVia(text);
    for (const v of [via, parsed]) {
      assert.equal(v.host, host);
      assert.equal(v.port, 5070);
      assert.equal(v.transport, transport);
      assert.equal(v.branch, 'z9hG4bKabc');
      assert.equal(v.rport, null);
      assert.equal(v.received, undefined);
    }
    assert.equal(via.toString(), parsed.toString());
    assert.deepEqual([...via.params], [...parsed.params]);
    const req = new SipRequest('OPTIONS', 'sip:x@example.com', [{ name: 'Via', key: 'via', value: 'SIP/2.0/UDP old;branch=z9hG4bK0' }]);
    req.prependTopVia(via, text);
    assert.equal(req.topVia, via);
    assert.deepEqual(req.getAll('via'), [text, 'SIP/2.0/UDP old;branch=z9hG4bK0']);
    assert.equal(req.vias[1]!.host, 'old');
  }
});

test('non-ASCII headers and bodies, and bare-LF line ends, take the general decoding with the same results', () => {
  const body = Buffer.from('caf\u00e9 \u2603', 'utf8');
  const head = [
    'MESSAGE sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'From: "J\u00fcrgen" <sip:j@b>;tag=1',
    'To: <sip:c@d>', 'Call-ID: abc', 'CSeq: 1 MESSAGE', `Content-Length: ${body.length}`, '', '',
  ].join(CRLF);
  const m = parseMessage(Buffer.concat([Buffer.from(head, 'utf8'), body]));
  assert.equal(m.from.displayName, 'J\u00fcrgen');
  assert.ok(m.body.equals(body));
  const asciiHeadUtf8Body = parseMessage(Buffer.concat([Buffer.from(head.replace('J\u00fcrgen', 'J'), 'utf8'), body]));
  assert.ok(asciiHeadUtf8Body.body.equals(body));
  const lf = parseMessage(Buffer.from(head.replace(/\r\n/g, '\n').replace('J\u00fcrgen', 'J') + 'abc\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007'.slice(0, body.length)));
  assert.equal(lf.callId, 'abc');
  assert.equal(lf.body.length, body.length);
  // No blank line at all: headers only, no body.
  const noBlank = parseMessage(Buffer.from('OPTIONS sip:x@e SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: a\r\nCSeq: 1 OPTIONS'));
  assert.equal(noBlank.body.length, 0);
  assert.equal(noBlank.cseq.method, 'OPTIONS');
});

test('name-addr parameters read lazily behave like a Map filled at parse time', () => {
  const a = parseNameAddr('"A" <sip:a@b>;tag=1;X=Y;tag=2;lr');
  assert.equal(a.tag, '2'); // the last one, as Map.set leaves it
  assert.deepEqual([...a.params], [['tag', '2'], ['x', 'Y'], ['lr', null]]);
  const b = parseNameAddr('<sip:a@b>;tag');
  assert.equal(b.tag, undefined);
  assert.equal(b.params.get('tag'), null);
  const c = parseNameAddr('<sip:a@b>;tag=9');
  c.tag = 'new';
  assert.equal(c.toString(), '<sip:a@b>;tag=new');
  const d = parseNameAddr('<sip:a@b>;tag=9;foo');
  const e = d.clone();
  e.params.delete('foo');
  assert.equal(d.toString(), '<sip:a@b>;tag=9;foo');
  assert.equal(e.toString(), '<sip:a@b>;tag=9');
  const f = parseNameAddr('<sip:a@b>');
  assert.equal(f.tag, undefined);
  assert.equal(f.params.size, 0);
  f.params = new Map([['tag', 'x']]);
  assert.equal(f.tag, 'x');
  assert.throws(() => parseNameAddr('<sip:a@b>;=x'), SipParseError); // still checked at parse time
});

test('Via parameters read lazily behave like a Map filled at parse time', () => {
  const { parseVia } = { parseVia: (v: string) => parseMessage(Buffer.from(`SIP/2.0 200 OK\r\nVia: ${v}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\n\r\n`)).topVia };
  const v = parseVia('SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport;Received=192.0.2.1;x=1');
  assert.equal(v.branch, 'z9hG4bK1');
  assert.equal(v.rport, null);
  assert.equal(v.received, '192.0.2.1');
  assert.deepEqual([...v.params], [['branch', 'z9hG4bK1'], ['rport', null], ['received', '192.0.2.1'], ['x', '1']]);
  v.params.set('rport', '5070');
  assert.equal(v.rport, 5070);
  assert.equal(v.toString(), 'SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport=5070;received=192.0.2.1;x=1');
  const w = parseVia('SIP/2.0/TCP h;branch');
  assert.equal(w.branch, undefined);
  assert.equal(w.rport, undefined);
  assert.equal(w.transport, 'TCP');
  assert.throws(() => parseVia('SIP/2.0/UDP h;rport=x'), SipParseError);
});
