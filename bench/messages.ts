/** A typical INVITE (about 900 bytes with its SDP) used by the parser benchmarks. */
export function typicalInvite(): Buffer {
  const sdp = [
    'v=0', 'o=- 3958327283 3958327283 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    'm=audio 36100 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', '',
  ].join('\r\n');
  const head = [
    'INVITE sip:1001@127.0.0.1:25161;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK3f9a1c0e2d7b4a65;rport',
    'Max-Forwards: 70',
    'From: "Click-To-Call: 1002" <sip:clicktocall@127.0.0.1:5072>;tag=8d2e4f61',
    'To: <sip:1001@127.0.0.1:25161;transport=udp>',
    'Call-ID: 5a0c9b2e7f1d4c38a6e2@127.0.0.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:clicktocall@127.0.0.1:5072>',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE',
    'Supported: replaces, norefersub, timer',
    'Session-Expires: 1800',
    'Min-SE: 90',
    'User-Agent: clicktocall/0.1.0',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '', '',
  ].join('\r\n');
  return Buffer.from(head + sdp);
}
