import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrListContains, clientKeyFor, isLoopbackAddress, normalizePeerAddress, parseCidr, type CidrBlock } from '../../src/config/cidr.js';

function blocks(...texts: string[]): CidrBlock[] {
  return texts.map((t) => {
    const b = parseCidr(t);
    assert.notEqual(typeof b, 'string', String(b));
    return b as CidrBlock;
  });
}

test('parseCidr: canonical text, host bits cleared, bare address = /32 or /128', () => {
  assert.deepEqual(blocks('10.1.2.3/8', '192.168.1.7', '2001:DB8:0:0:1::1/32', '::1', '::ffff:127.0.0.1').map((b) => b.text),
    ['10.0.0.0/8', '192.168.1.7/32', '2001:db8::/32', '::1/128', '127.0.0.1/32']);
  assert.equal(blocks('0.0.0.0/0')[0]?.text, '0.0.0.0/0');
  assert.equal(blocks('fe80::1:2:3:4/64')[0]?.text, 'fe80::/64');
});

test('parseCidr errors', () => {
  assert.equal(parseCidr('10.0.0.0/33'), '"10.0.0.0/33": the prefix length must be 0-32');
  assert.equal(parseCidr('::/129'), '"::/129": the prefix length must be 0-128');
  assert.equal(parseCidr('10.0.0.0/x'), '"10.0.0.0/x": the prefix length must be 0-32');
  assert.equal(parseCidr('host.example'), '"host.example" is not an IP address or CIDR block');
  assert.equal(parseCidr('10.0.0.256'), '"10.0.0.256" is not an IP address or CIDR block');
});

test('cidrListContains uses the normalised peer address', () => {
  const list = blocks('10.0.0.0/8', '2001:db8::/32', '127.0.0.1');
  assert.equal(cidrListContains(list, '10.200.3.4'), true);
  assert.equal(cidrListContains(list, '::ffff:10.200.3.4'), true);
  assert.equal(cidrListContains(list, '::FFFF:127.0.0.1'), true);
  assert.equal(cidrListContains(list, '11.0.0.1'), false);
  assert.equal(cidrListContains(list, '2001:db8:ffff::1'), true);
  assert.equal(cidrListContains(list, '2001:db9::1'), false);
  assert.equal(cidrListContains(list, 'garbage'), false);
  assert.equal(cidrListContains([], '10.0.0.1'), false);
  assert.equal(cidrListContains(blocks('0.0.0.0/0'), '8.8.8.8'), true);
  assert.equal(cidrListContains(blocks('0.0.0.0/0'), '::2'), false);
});

test('loopback and normalisation', () => {
  assert.equal(normalizePeerAddress('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(normalizePeerAddress('2001:db8::1'), '2001:db8::1');
  for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['10.0.0.1', '::', '::2', '::ffff:10.0.0.1', 'localhost']) assert.equal(isLoopbackAddress(a), false, a);
});

test('per-client key: IPv4 address, IPv6 /64', () => {
  assert.equal(clientKeyFor('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(clientKeyFor('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKeyFor('2001:db8:1:2:bbbb::9'), '2001:db8:1:2::/64');
});
