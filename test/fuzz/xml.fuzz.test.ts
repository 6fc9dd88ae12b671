/**
 * Fuzz campaign of the XML interface over TCP: mutated documents, truncated and unclosed ones,
 * billion laughs, external entities (never fetched), huge and deep documents, binary garbage,
 * thousands of pipelined requests on one connection. Each connection is answered or closed,
 * every complete invalid document gets 400, the server still answers afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runXml } from './targets/xml.js';
import { assertClean } from './assert-clean.js';

test('XML interface: 3000 documents of every kind, answered or closed, no entity fetched', { timeout: 60_000 }, async () => {
  const report = await runXml({ messages: 3000, seed: Number(process.env.FUZZ_SEED ?? 20261126) });
  assertClean(report, 3000);
  assert.equal(report.extra.entityFetches, 0);
  assert.ok(report.extra.cleanTimedOut! <= report.extra.cleanRounds! / 10, `clean rounds cut by the fuzz idle timeout: ${report.extra.cleanTimedOut}`);
  assert.ok(report.extra.closedByServer! > 0, 'connections that lost their framing were closed');
  assert.equal(report.extra.connectionsLeft, 0);
});
