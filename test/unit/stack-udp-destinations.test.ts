// Shared UDP destinations (stack/udp-destinations.ts): what waiting transactions keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { udpDestination } from '../../src/sip/stack/udp-destinations.js';

test('one frozen object per address and port, equal fields, whatever string the address came in', () => {
  const host = 'x127.0.0.1'.slice(1);
  const a = udpDestination(host, 5070);
  const b = udpDestination('127.0.0.1', 5070);
  assert.equal(a, b);
  assert.deepEqual({ ...a }, { transport: 'udp', address: '127.0.0.1', port: 5070 });
  assert.ok(Object.isFrozen(a));
  assert.notEqual(udpDestination('127.0.0.1', 5071), a);
  assert.notEqual(udpDestination('::1', 5070), a);
});

test('bounded: past the limit the table starts over and still answers right', () => {
  const first = udpDestination('127.0.0.2', 1);
  for (let port = 2; port <= 5000; port++) assert.equal(udpDestination('127.0.0.2', port).port, port);
  const again = udpDestination('127.0.0.2', 1);
  assert.deepEqual({ ...again }, { ...first });
  assert.notEqual(again, first, 'the table was cleared on the way (4,096 entries at most)');
});
