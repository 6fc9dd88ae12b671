import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NaptrRecord, SrvRecord } from 'node:dns';
import { orderSrvRecords } from '../../src/sip/resolve/srv-order.js';
import { selectNaptrRecords } from '../../src/sip/resolve/naptr.js';
import type { SipTransport } from '../../src/sip/resolve/types.js';

const srv = (name: string, priority: number, weight: number, port = 5060): SrvRecord => ({ name, priority, weight, port });
const naptr = (order: number, preference: number, service: string, replacement: string, flags = 's'): NaptrRecord => ({
  order,
  preference,
  service,
  replacement,
  flags,
  regexp: '',
});
/** A random source returning the given values in turn. */
const sequence = (...values: number[]) => () => values.shift() ?? 0;
const all = new Set<SipTransport>(['udp', 'tcp', 'tls']);

test('SRV: lower priority first whatever the weights', () => {
  const ordered = orderSrvRecords([srv('c.example.test', 20, 100), srv('a.example.test', 5, 0), srv('b.example.test', 10, 1)], () => 0.5);
  assert.deepEqual(ordered.map((r) => r.name), ['a.example.test', 'b.example.test', 'c.example.test']);
});

test('SRV: weighted pick within a priority follows the random number (RFC 2782)', () => {
  const records = [srv('w60.example.test', 10, 60), srv('w40.example.test', 10, 40)];
  // sum 100 → pick = floor(r * 101); running sums 60, 100.
  assert.deepEqual(orderSrvRecords(records, sequence(0.1, 0)).map((r) => r.name), ['w60.example.test', 'w40.example.test']);
  assert.deepEqual(orderSrvRecords(records, sequence(0.7, 0)).map((r) => r.name), ['w40.example.test', 'w60.example.test']);
  // Boundary: pick 60 still selects the first (running sum >= pick); 61 the second.
  assert.equal(orderSrvRecords(records, sequence(60 / 101 + 1e-9, 0))[0]!.name, 'w60.example.test');
  assert.equal(orderSrvRecords(records, sequence(61 / 101 + 1e-9, 0))[0]!.name, 'w40.example.test');
});

test('SRV: zero-weight records go first in the draw and are picked only by a zero pick', () => {
  const records = [srv('heavy.example.test', 1, 10), srv('zero.example.test', 1, 0)];
  assert.equal(orderSrvRecords(records, sequence(0, 0))[0]!.name, 'zero.example.test');
  assert.equal(orderSrvRecords(records, sequence(0.5, 0))[0]!.name, 'heavy.example.test');
  // All zero: order kept, never loops.
  const zeros = [srv('z1.example.test', 1, 0), srv('z2.example.test', 1, 0), srv('z3.example.test', 1, 0)];
  assert.deepEqual(orderSrvRecords(zeros, () => 0.99).map((r) => r.name), ['z1.example.test', 'z2.example.test', 'z3.example.test']);
});

test('SRV: "." target means no service; a broken random source cannot break ordering', () => {
  assert.deepEqual(orderSrvRecords([srv('.', 0, 0)], Math.random), []);
  const ordered = orderSrvRecords([srv('a.example.test', 1, 5), srv('b.example.test', 1, 5)], () => NaN);
  assert.equal(ordered.length, 2);
  const high = orderSrvRecords([srv('a.example.test', 1, 5), srv('b.example.test', 1, 5)], () => 7);
  assert.deepEqual(high.map((r) => r.name), ['b.example.test', 'a.example.test']);
});

test('NAPTR: sorted by order then preference, unsupported and malformed records skipped', () => {
  const records = [
    naptr(20, 10, 'SIP+D2U', '_sip._udp.example.test'),
    naptr(10, 50, 'SIP+D2T', '_sip._tcp.example.test'),
    naptr(10, 20, 'SIPS+D2T', '_sips._tcp.example.test'),
    naptr(5, 10, 'SIP+D2S', '_sip._sctp.example.test'), // SCTP: not ours
    naptr(5, 10, 'E2U+sip', 'x.example.test'), // not a SIP service
    naptr(5, 10, 'SIP+D2U', 'a.example.test', 'a'), // wrong flag
    naptr(5, 10, 'SIP+D2T', '.'), // no replacement
  ];
  assert.deepEqual(selectNaptrRecords(records, false, all), [
    { transport: 'tls', srvName: '_sips._tcp.example.test' },
    { transport: 'tcp', srvName: '_sip._tcp.example.test' },
    { transport: 'udp', srvName: '_sip._udp.example.test' },
  ]);
  const withRegexp = { ...naptr(1, 1, 'SIP+D2U', ''), regexp: '!^.*$!sip:x@example.test!' };
  assert.deepEqual(selectNaptrRecords([withRegexp], false, all), []);
});

test('NAPTR: transports we do not run are skipped; sips keeps SIPS+D2T only; service case-insensitive', () => {
  const records = [naptr(1, 1, 'sips+d2t', '_sips._tcp.example.test'), naptr(2, 1, 'sip+d2u', '_sip._udp.example.test')];
  assert.deepEqual(selectNaptrRecords(records, false, new Set<SipTransport>(['udp'])), [
    { transport: 'udp', srvName: '_sip._udp.example.test' },
  ]);
  assert.deepEqual(selectNaptrRecords(records, true, all), [{ transport: 'tls', srvName: '_sips._tcp.example.test' }]);
  assert.deepEqual(selectNaptrRecords(records, true, new Set<SipTransport>(['udp', 'tcp'])), []);
});
