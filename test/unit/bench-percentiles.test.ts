/**
 * The load bench's latency summary (issue 6): nearest-rank p50/p99, and the share of requests over
 * the p99 bound, which says how far off a missed target is (the p99 is under the bound exactly when
 * at most 1 % of the samples are over it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize } from '../../bench/c2c/percentiles.js';

test('p50, p99 and max by nearest rank; no bound, no share', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => i + 1); // 1 … 1000
  const s = summarize(samples.reverse());
  assert.deepEqual({ count: s.count, min: s.min, p50: s.p50, p99: s.p99, max: s.max }, { count: 1000, min: 1, p50: 500, p99: 990, max: 1000 });
  assert.equal(s.over, undefined);
  assert.deepEqual(summarize([]), { count: 0 });
});

test('the share over a bound counts samples strictly above it', () => {
  const samples = [0.5, 1, 2, 2, 2.01, 3, 9, 1.5, 0.2, 2.5];
  assert.deepEqual(summarize(samples, 2).over, { ms: 2, share: 0.4 });
  assert.deepEqual(summarize(samples, 10).over, { ms: 10, share: 0 });
  assert.deepEqual(summarize(samples, 0).over, { ms: 0, share: 1 });
});

test('a p99 under the bound goes with at most 1 % over it, and a p99 over it with more', () => {
  const under = [...Array.from({ length: 990 }, () => 1), ...Array.from({ length: 10 }, () => 5)];
  const u = summarize(under, 2);
  assert.equal(u.p99, 1);
  assert.equal(u.over!.share, 0.01);
  const over = [...Array.from({ length: 989 }, () => 1), ...Array.from({ length: 11 }, () => 5)];
  const o = summarize(over, 2);
  assert.equal(o.p99, 5);
  assert.ok(o.over!.share > 0.01);
});
