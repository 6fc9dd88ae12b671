/**
 * Fuzz campaign (issue 7, "bad input"), SIP without sockets: 50,000 inputs from a fixed seed —
 * mutated RFC 4475/5118 messages and recorded-style traffic, and fast-check grammar output — fed
 * into the stack's receive path as UDP datagrams and framed TCP messages. Nothing may throw, no
 * internal error may be counted, every answerable malformed request gets 400, and once the clock
 * has run past every timer no transaction, dialog or timer is left. `FUZZ_INPUTS` / `FUZZ_SEED`
 * change the run; `npm run fuzz` runs long ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSipInProcess } from './targets/sip-inproc.js';
import { assertClean } from './assert-clean.js';

test('50,000 mutated and generated SIP messages: no throw, no internal error, 400s, nothing left behind', () => {
  const inputs = Number(process.env.FUZZ_INPUTS ?? 50_000);
  const report = runSipInProcess({ messages: inputs, seed: Number(process.env.FUZZ_SEED ?? 20261126) });
  assertClean(report, inputs);
  assert.ok(report.extra.parseErrors! > inputs / 10, `most mutations are malformed (${report.extra.parseErrors})`);
  assert.ok(report.extra.sent! > 0, 'some inputs were answered');
});
