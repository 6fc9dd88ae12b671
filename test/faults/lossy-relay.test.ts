/**
 * The lossy relay itself (test/support/lossy-relay.ts): the same seed drops the same datagrams,
 * the counts add up, and the SIP-aware rewrite is exact both ways (a peer and the phone each see
 * the other at the relay, and a round trip gives back the original bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { LossyRelay, seededRandom } from '../support/lossy-relay.js';
import { waitUntil } from './fault-server.js';

async function udp(): Promise<{ socket: Socket; port: number; inbox: { data: string; port: number }[] }> {
  const socket = createSocket('udp4');
  const inbox: { data: string; port: number }[] = [];
  socket.on('message', (d, r) => inbox.push({ data: d.toString('latin1'), port: r.port }));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { socket, port: socket.address().port, inbox };
}

const close = (s: Socket) => new Promise<void>((r) => s.close(() => r()));

test('seededRandom: the same seed gives the same sequence, another seed another', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const sa = Array.from({ length: 20 }, () => a());
  assert.deepEqual(Array.from({ length: 20 }, () => b()), sa);
  assert.notDeepEqual(Array.from({ length: 20 }, () => c()), sa);
  assert.ok(sa.every((x) => x >= 0 && x < 1));
});

test('drops and duplicates follow the seed; forwarded = received − dropped + duplicated', async () => {
  const runOnce = async (seed: number) => {
    const phone = await udp();
    const peer = await udp();
    const relay = await LossyRelay.start({
      phonePort: phone.port, random: seededRandom(seed),
      profile: { dropToPhone: 0.3, dropFromPhone: 0, duplicate: 0.2, reorder: 0 },
    });
    // One at a time, so that the arrival order (and so the PRNG draws) cannot vary.
    for (let i = 0; i < 60; i++) {
      const before = relay.stats.toPhone.received;
      peer.socket.send(`ping ${i}`, relay.port, '127.0.0.1');
      await waitUntil(() => relay.stats.toPhone.received > before, 2000, `datagram ${i}`);
    }
    const s = relay.stats.toPhone;
    await waitUntil(() => phone.inbox.length === s.forwarded, 2000, 'the forwarded datagrams');
    await relay.close();
    await close(phone.socket);
    await close(peer.socket);
    return { stats: { ...s }, got: phone.inbox.map((m) => m.data) };
  };
  const first = await runOnce(5);
  const again = await runOnce(5);
  assert.deepEqual(again, first, 'the same seed drops and duplicates the same datagrams');
  const s = first.stats;
  assert.equal(s.received, 60);
  assert.ok(s.dropped > 5 && s.dropped < 35, `about 30 % dropped: ${s.dropped}`);
  assert.ok(s.duplicated > 0, 'some duplicated');
  assert.equal(s.forwarded, s.received - s.dropped + s.duplicated);
});

test('SIP rewrite: the phone sees the peer at its inner socket, the peer sees the phone at the relay; replies find their way back', async () => {
  const phone = await udp();
  const peer = await udp();
  const relay = await LossyRelay.start({ phonePort: phone.port });
  const body = 'v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n';
  const request = [
    `INVITE sip:bob@127.0.0.1:${relay.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK1;rport`,
    `Contact: <sip:srv@127.0.0.1:${peer.port}>`,
    `Content-Length: ${body.length}`, '', body,
  ].join('\r\n');
  peer.socket.send(request, relay.port, '127.0.0.1');
  await waitUntil(() => phone.inbox.length === 1, 2000, 'the INVITE at the phone');
  const got = phone.inbox[0]!;
  assert.notEqual(got.port, peer.port, 'it comes from the inner socket');
  assert.match(got.data, new RegExp(`^INVITE sip:bob@127\\.0\\.0\\.1:${phone.port} SIP/2\\.0\\r\\n`));
  assert.ok(got.data.includes(`Via: SIP/2.0/UDP 127.0.0.1:${got.port};branch=z9hG4bK1;rport\r\n`));
  assert.ok(got.data.includes(`Contact: <sip:srv@127.0.0.1:${got.port}>`));
  assert.ok(got.data.endsWith(`\r\n\r\n${body}`), 'the body is untouched');
  // The phone answers to where it saw the request come from, stamping rport.
  const response = [
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP 127.0.0.1:${got.port};branch=z9hG4bK1;rport=${got.port}`,
    `Contact: <sip:bob@127.0.0.1:${phone.port}>`, 'Content-Length: 0', '', '',
  ].join('\r\n');
  phone.socket.send(response, got.port, '127.0.0.1');
  await waitUntil(() => peer.inbox.length === 1, 2000, 'the 200 at the peer');
  assert.equal(peer.inbox[0]!.port, relay.port, 'the answer comes from the relay');
  assert.equal(peer.inbox[0]!.data, [
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK1;rport=${peer.port}`,
    `Contact: <sip:bob@127.0.0.1:${relay.port}>`, 'Content-Length: 0', '', '',
  ].join('\r\n'));
  // vanish(): nothing gets through any more, either way.
  relay.vanish();
  peer.socket.send(request, relay.port, '127.0.0.1');
  await waitUntil(() => relay.stats.toPhone.dropped === 1, 2000, 'the drop');
  assert.equal(phone.inbox.length, 1);
  await relay.close();
  await close(phone.socket);
  await close(peer.socket);
});
