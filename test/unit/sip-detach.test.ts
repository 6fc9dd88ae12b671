import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachBuffer, detachForWait, detachString } from '../../src/sip/message/detach.js';

test('detachString: the same text, for short, sliced and concatenated strings', () => {
  const text = 'INVITE sip:bob@127.0.0.1 SIP/2.0\r\nTo: <sip:bob@127.0.0.1>;tag=a-long-remote-tag-1234\r\n';
  const tag = text.slice(text.indexOf('tag=') + 4, text.lastIndexOf('\r\n'));
  assert.equal(detachString(tag), 'a-long-remote-tag-1234');
  assert.equal(detachString('short'), 'short');
  assert.equal(detachString('sip:' + tag + '@host'), 'sip:a-long-remote-tag-1234@host');
  assert.equal(detachString(''), '');
});

test('detachBuffer: a view into a larger buffer (a pool slab, a datagram) is copied into memory of its own', () => {
  const datagram = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nv=0\r\n');
  const body = datagram.subarray(datagram.length - 5);
  const own = detachBuffer(body);
  assert.notEqual(own.buffer, datagram.buffer);
  assert.equal(own.byteLength, own.buffer.byteLength);
  assert.equal(own.toString(), 'v=0\r\n');
  datagram.fill(0);
  assert.equal(own.toString(), 'v=0\r\n');
  const exact = Buffer.allocUnsafeSlow(4);
  assert.equal(detachBuffer(exact), exact, 'already its own: no copy');
});

test('detachForWait: views are copied into a shared slab (one ArrayBuffer for many), own buffers kept, large ones apart', () => {
  const pooled = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'); // a view into Node's pool
  const a = detachForWait(pooled);
  const b = detachForWait(Buffer.from('BYE sip:a@127.0.0.1 SIP/2.0\r\n\r\n'));
  assert.equal(a.toString(), pooled.toString());
  assert.equal(a.buffer, b.buffer, 'both in the same wait slab');
  assert.notEqual(a.buffer, pooled.buffer);
  assert.ok(b.byteOffset >= a.byteOffset + a.length, 'no overlap');
  pooled.fill(0);
  assert.equal(a.toString(), 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  const own = Buffer.allocUnsafeSlow(16).fill(1);
  assert.equal(detachForWait(own), own);
  const large = Buffer.alloc(20_000, 0x61).subarray(1);
  const kept = detachForWait(large);
  assert.equal(kept.byteLength, kept.buffer.byteLength, 'a large message gets memory of its own');
  assert.equal(kept.length, 19_999);
});
