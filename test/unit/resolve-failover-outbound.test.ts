import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TargetCursor, shouldFailOver } from '../../src/sip/resolve/failover.js';
import { locateVia, outboundRoute, type Locator } from '../../src/sip/resolve/outbound.js';
import type { LocateRequest, Target } from '../../src/sip/resolve/types.js';

const a: Target = { transport: 'udp', address: '127.0.0.1', port: 5060, family: 4 };
const b: Target = { transport: 'tcp', address: '::1', port: 5060, family: 6 };

test('TargetCursor walks the list once, then reports exhaustion', () => {
  const cursor = new TargetCursor([a, b]);
  assert.equal(cursor.current(), a);
  assert.equal(cursor.remaining, 2);
  assert.equal(cursor.next(), b);
  assert.equal(cursor.current(), b);
  assert.equal(cursor.exhausted, false);
  assert.equal(cursor.next(), undefined);
  assert.equal(cursor.current(), undefined);
  assert.equal(cursor.exhausted, true);
  assert.equal(cursor.next(), undefined, 'stays exhausted');
  assert.equal(cursor.remaining, 0);
});

test('TargetCursor copies its list and handles an empty one', () => {
  const list = [a];
  const cursor = new TargetCursor(list);
  list.push(b);
  assert.equal(cursor.next(), undefined);
  const empty = new TargetCursor([]);
  assert.equal(empty.current(), undefined);
  assert.equal(empty.exhausted, true);
});

test('shouldFailOver: timeout, transport error and 503 only (RFC 3263 §4.3)', () => {
  assert.equal(shouldFailOver('timeout'), true);
  assert.equal(shouldFailOver('transport-error'), true);
  assert.equal(shouldFailOver({ status: 503 }), true);
  for (const status of [200, 302, 404, 408, 486, 500, 502, 504, 603]) {
    assert.equal(shouldFailOver({ status }), false, String(status));
  }
});

test('outboundRoute adds ;lr once and wraps in angle brackets', () => {
  assert.equal(outboundRoute('sip:proxy.example.test'), '<sip:proxy.example.test;lr>');
  assert.equal(outboundRoute(' sip:proxy.example.test:5070;transport=tcp '), '<sip:proxy.example.test:5070;transport=tcp;lr>');
  assert.equal(outboundRoute('<sip:proxy.example.test;lr>'), '<sip:proxy.example.test;lr>');
  assert.equal(outboundRoute('sip:proxy.example.test;LR=on;transport=udp'), '<sip:proxy.example.test;LR=on;transport=udp>');
  assert.equal(outboundRoute('sips:[::1]:5061'), '<sips:[::1]:5061;lr>');
  assert.equal(outboundRoute('proxy.example.test'), '<sip:proxy.example.test;lr>');
});

test('outboundRoute: ";lr" inside the user part or a longer name does not count; headers stay last', () => {
  assert.equal(outboundRoute('sip:a;lr@proxy.example.test'), '<sip:a;lr@proxy.example.test;lr>');
  assert.equal(outboundRoute('sip:proxy.example.test;lrx'), '<sip:proxy.example.test;lrx;lr>');
  assert.equal(outboundRoute('sip:proxy.example.test?h=1'), '<sip:proxy.example.test;lr?h=1>');
  assert.throws(() => outboundRoute('  '), /empty/);
});

test('locateVia: the proxy is located instead of the target; without a proxy, the target', async () => {
  const asked: LocateRequest[] = [];
  const locator: Locator = {
    locate: async (request) => {
      asked.push(request);
      return [a];
    },
  };
  const target: LocateRequest = { host: 'callee.example.test', secure: false };
  assert.deepEqual(await locateVia(locator, undefined, target), [a]);
  await locateVia(locator, { host: 'proxy.example.test', port: 5070, transport: 'tcp', secure: false }, target);
  await locateVia(locator, { host: 'proxy.example.test', secure: false }, { host: 'callee.example.test', secure: true });
  assert.deepEqual(asked, [
    target,
    { host: 'proxy.example.test', port: 5070, transport: 'tcp', secure: false },
    { host: 'proxy.example.test', secure: true }, // a sips: request keeps TLS on the first hop
  ]);
});
