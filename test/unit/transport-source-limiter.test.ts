import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceLimiter } from '../../src/sip/transport/source-limiter.js';

test('SourceLimiter counts per IPv4 address and refuses beyond the ceiling', () => {
  const limiter = new SourceLimiter(2);
  const r1 = limiter.acquire('192.0.2.1');
  const r2 = limiter.acquire('::ffff:192.0.2.1');
  assert.ok(r1 && r2);
  assert.equal(limiter.acquire('192.0.2.1'), undefined, 'third from the same address');
  assert.ok(limiter.acquire('192.0.2.2'), 'another address has its own count');
  r1();
  r1(); // a second release of the same slot changes nothing
  assert.equal(limiter.count('192.0.2.1'), 1);
  assert.ok(limiter.acquire('192.0.2.1'));
  assert.equal(limiter.acquire('192.0.2.1'), undefined);
});

test('SourceLimiter groups IPv6 sources by /64', () => {
  const limiter = new SourceLimiter(1);
  assert.ok(limiter.acquire('2001:db8:0:1::a'));
  assert.equal(limiter.acquire('2001:db8:0:1::b'), undefined, 'same /64');
  assert.ok(limiter.acquire('2001:db8:0:2::a'), 'another /64');
});
