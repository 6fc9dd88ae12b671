import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachBuffer, detachString } from '../../src/sip/message/detach.js';

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
