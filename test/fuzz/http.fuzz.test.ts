/**
 * Fuzz campaign of the HTTP listener and the REST API: mutated queries, JSON bodies and headers
 * through inject(), and raw-socket cases (bad request lines and lengths, header floods, oversized
 * bodies, slow clients). No 500, no internal error, broken JSON → 400, every raw case a 4xx or
 * a close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHttp } from './targets/http.js';
import { assertClean } from './assert-clean.js';

test('HTTP and REST: 2000 mutated requests and the raw-socket cases get clear 4xx', { timeout: 60_000 }, async () => {
  const report = await runHttp({ messages: 2000, seed: Number(process.env.FUZZ_SEED ?? 20261126) });
  assertClean(report, 2000);
  assert.equal(report.extra['raw header flood'], 431);
  assert.equal(report.extra['raw oversized body'], 413);
  assert.equal(report.extra['raw slowloris headers'], 408);
  assert.ok(report.extra.status2xx! > 0 && report.extra.status4xx! > 0);
});
