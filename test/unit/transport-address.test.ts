import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains,
  familyOf,
  formatHostPort,
  isLoopback,
  normaliseAddress,
  parseCidr,
  parseIpBytes,
  sourceKey,
} from '../../src/sip/transport/address.js';

test('normaliseAddress reduces IPv4-mapped IPv6 to IPv4 and strips brackets', () => {
  assert.equal(normaliseAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normaliseAddress('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(normaliseAddress('0:0:0:0:0:ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(normaliseAddress('[::1]'), '::1');
  assert.equal(normaliseAddress('[::ffff:1.2.3.4]'), '1.2.3.4');
  assert.equal(normaliseAddress('2001:db8::1'), '2001:db8::1');
  assert.equal(normaliseAddress('64:ff9b::1.2.3.4'), '64:ff9b::1.2.3.4', 'NAT64 prefix is not a mapped address');
  assert.equal(normaliseAddress('192.0.2.1'), '192.0.2.1');
  assert.equal(normaliseAddress('example.com'), 'example.com');
});

test('familyOf tells IPv4, IPv6 and names apart', () => {
  assert.equal(familyOf('127.0.0.1'), 4);
  assert.equal(familyOf('::1'), 6);
  assert.equal(familyOf('[::1]'), 6);
  assert.equal(familyOf('fe80::1%eth0'), 6);
  assert.equal(familyOf('localhost'), undefined);
  assert.equal(familyOf('256.0.0.1'), undefined);
  assert.equal(familyOf(''), undefined);
});

test('isLoopback covers 127/8, ::1 in any spelling and mapped 127/8', () => {
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('127.255.0.9'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('0:0:0:0:0:0:0:1'), true);
  assert.equal(isLoopback('::ffff:127.0.0.1'), true);
  assert.equal(isLoopback('[::1]'), true);
  assert.equal(isLoopback('128.0.0.1'), false);
  assert.equal(isLoopback('::2'), false);
  assert.equal(isLoopback('::'), false);
  assert.equal(isLoopback('10.0.0.1'), false);
  assert.equal(isLoopback('localhost'), false, 'names are not resolved');
});

test('formatHostPort brackets IPv6 only', () => {
  assert.equal(formatHostPort('127.0.0.1', 5060), '127.0.0.1:5060');
  assert.equal(formatHostPort('::1', 5061), '[::1]:5061');
  assert.equal(formatHostPort('[::1]', 5061), '[::1]:5061');
  assert.equal(formatHostPort('::ffff:10.0.0.1', 5060), '10.0.0.1:5060');
  assert.equal(formatHostPort('sip.example.com', 5060), 'sip.example.com:5060');
});

test('parseIpBytes expands ::, embedded IPv4 and zones', () => {
  assert.deepEqual([...parseIpBytes('1.2.3.4')!], [1, 2, 3, 4]);
  assert.deepEqual([...parseIpBytes('::1')!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...parseIpBytes('2001:db8::ff00:42:8329')!], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29]);
  assert.deepEqual([...parseIpBytes('::ffff:1.2.3.4')!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  assert.deepEqual([...parseIpBytes('fe80::1%eth0')!].slice(0, 2), [0xfe, 0x80]);
  assert.deepEqual([...parseIpBytes('1::')!], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parseIpBytes('1.2.3'), undefined);
  assert.equal(parseIpBytes('nonsense'), undefined);
});

test('sourceKey groups IPv6 by /64 and keeps IPv4 whole', () => {
  assert.equal(sourceKey('192.0.2.1'), '192.0.2.1');
  assert.equal(sourceKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(sourceKey('2001:db8:1:2:aaaa::1'), sourceKey('2001:db8:1:2:bbbb::2'));
  assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
  assert.equal(sourceKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
});

test('parseCidr and cidrContains for IPv4', () => {
  const ten = parseCidr('10.0.0.0/8');
  assert.equal(ten.family, 4);
  assert.equal(ten.prefix, 8);
  assert.equal(cidrContains(ten, '10.255.1.2'), true);
  assert.equal(cidrContains(ten, '11.0.0.0'), false);
  assert.equal(cidrContains(ten, '::ffff:10.9.9.9'), true, 'mapped peers are normalised first');
  assert.equal(cidrContains(ten, '::1'), false);
  assert.equal(cidrContains(ten, 'garbage'), false);
  const odd = parseCidr('192.168.1.130/25');
  assert.deepEqual([...odd.bytes], [192, 168, 1, 128], 'host bits are cleared');
  assert.equal(cidrContains(odd, '192.168.1.129'), true);
  assert.equal(cidrContains(odd, '192.168.1.127'), false);
  const host = parseCidr('203.0.113.5');
  assert.equal(host.prefix, 32);
  assert.equal(cidrContains(host, '203.0.113.5'), true);
  assert.equal(cidrContains(host, '203.0.113.6'), false);
  const all = parseCidr('0.0.0.0/0');
  assert.equal(cidrContains(all, '8.8.8.8'), true);
  assert.equal(cidrContains(all, '::1'), false, 'an IPv4 CIDR never matches a real IPv6 address');
});

test('parseCidr and cidrContains for IPv6', () => {
  const doc = parseCidr('2001:db8::/32');
  assert.equal(doc.family, 6);
  assert.equal(cidrContains(doc, '2001:db8:ffff::1'), true);
  assert.equal(cidrContains(doc, '2001:db9::1'), false);
  assert.equal(cidrContains(doc, '10.0.0.1'), false);
  const loop = parseCidr('::1/128');
  assert.equal(cidrContains(loop, '::1'), true);
  assert.equal(cidrContains(loop, '0:0:0:0:0:0:0:1'), true);
  assert.equal(cidrContains(loop, '::2'), false);
  const nibble = parseCidr('fd00::/7');
  assert.equal(cidrContains(nibble, 'fdff::1'), true);
  assert.equal(cidrContains(nibble, 'fc00::1'), true);
  assert.equal(cidrContains(nibble, 'fe00::1'), false);
  const mapped = parseCidr('::ffff:0:0/96');
  assert.equal(cidrContains(mapped, '1.2.3.4'), true, 'an IPv4 address matches an IPv6 CIDR through its mapped form');
  assert.equal(cidrContains(parseCidr('[::1]/128'), '::1'), true);
});

test('parseCidr rejects bad text with a message naming it', () => {
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', 'host/8', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8x', '']) {
    assert.throws(() => parseCidr(bad), (e: unknown) => e instanceof RangeError && e.message.includes(`'${bad}'`), bad);
  }
});
