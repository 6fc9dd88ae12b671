/**
 * Seeds for SIP mutation: the RFC 4475 torture messages, the RFC 5118 IPv6 messages, and
 * recorded-style traffic of this server (INVITE with SDP, REFER, NOTIFY sipfrag, 200, OPTIONS).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function sipSeeds(root = '.'): Buffer[] {
  const out: Buffer[] = [];
  for (const dir of ['test/conformance/rfc4475', 'test/conformance/rfc5118']) {
    const at = join(root, dir);
    for (const f of readdirSync(at).sort()) out.push(readFileSync(join(at, f)));
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
