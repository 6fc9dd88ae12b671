/**
 * Fuzz campaign over real SIP sockets on 127.0.0.1. UDP: datagrams, answerable malformed requests
 * answered 400 on the wire, too-large ones dropped. TCP and TLS: batches cut at random
 * places, bad Content-Lengths, CRLF floods, oversize messages. Every connection ends with its
 * probe answered or closed by the server, clean batches keep the framer in step (probe 200,
 * every answerable malformed request 400), no connection is left, the server still answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSipDatagrams } from './targets/sip-datagram.js';
import { runSipStream } from './targets/sip-stream.js';
import { assertClean } from './assert-clean.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);

for (const [transport, inputs] of [['tcp', 3000], ['tls', 1500]] as const) {
  test(`SIP over ${transport.toUpperCase()}: ${inputs} inputs in random pieces, each connection answered or closed`, { timeout: 60_000 }, async () => {
    const report = await runSipStream(transport, { messages: inputs, seed: SEED });
    assertClean(report, inputs);
    assert.ok(report.extra.cleanRounds! > 0 && report.extra.probesAnswered! >= report.extra.cleanRounds!, 'clean rounds ran and were answered');
    assert.ok(report.extra.cleanTimedOut! <= report.extra.cleanRounds! / 10, `clean rounds cut by the fuzz timeouts: ${report.extra.cleanTimedOut}`);
    assert.ok(report.extra.closedByServer! > 0, 'the server closed connections that lost their framing');
    assert.equal(report.extra.connectionsLeft, 0);
  });
}

test('SIP over UDP sockets: 3000 datagrams, 400s on the wire, too-large ones dropped, nothing left', { timeout: 60_000 }, async () => {
  const report = await runSipDatagrams({ messages: 3000, seed: SEED });
  assertClean(report, 3000);
  assert.ok(report.extra.droppedTooLarge! > 0, 'too-large datagrams were dropped by the transport');
  assert.ok(report.extra.parseErrors! > 300, `parse errors: ${report.extra.parseErrors}`);
});
