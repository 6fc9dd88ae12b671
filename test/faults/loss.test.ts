/**
 * Issue #7 "Faults" — packet loss, duplication and reordering on UDP. Every phone sits behind its
 * own LossyRelay (seeded PRNG); the server runs in this process with SipT1 = 50 ms so that a
 * session lasts well under 2 s even with retransmissions. For REFER and anchored sessions at
 * 10 % loss + 5 % duplication + 5 % reordering, and at 30 % loss (each way): every session ends
 * (connected then completed, or failed with a timeout code — never stuck, never a 500), its
 * events carry no duplicate and no gap, and afterwards the server holds no transaction, dialog,
 * session, timer or subscription. The figures are printed as test diagnostics; the big run is
 * scripts/reliability-loss.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureCodes, runLossCase, TIMEOUT_CODES, type LossCase, type LossReport } from './loss-run.js';
import { eventProblems } from './fault-server.js';
import type { CallEvent } from '../../src/call/events.js';

const SESSIONS = 25;
const LIGHT = { dropToPhone: 0.1, dropFromPhone: 0.1, duplicate: 0.05, reorder: 0.05 };
const HEAVY = { dropToPhone: 0.3, dropFromPhone: 0.3, duplicate: 0, reorder: 0 };

function summary(r: LossReport): string {
  return `${r.mode} loss ${r.profile.dropToPhone * 100}% dup ${r.profile.duplicate * 100}%: ${r.completed}/${r.sessions} completed, `
    + `failed ${JSON.stringify(r.failed)}, retransmissions/session ${r.retransmissions.perSession.toFixed(1)} `
    + `(server ${r.retransmissions.server}, phones ${r.retransmissions.phones}), dropped ${r.relays.toPhone.dropped}+${r.relays.fromPhone.dropped}, `
    + `duplicated ${r.relays.toPhone.duplicated + r.relays.fromPhone.duplicated}, longest session ${r.longestSessionMs} ms, run ${r.durationMs} ms`;
}

/** What every lossy run must show, whatever the loss. */
function assertSound(r: LossReport, c: LossCase): void {
  assert.equal(r.stuck, 0, 'no session is stuck');
  assert.deepEqual(r.eventProblems, [], 'no duplicated, missing or misplaced event');
  assert.equal(r.completed + Object.values(r.failed).reduce((a, b) => a + b, 0), c.sessions, 'every session ended once');
  for (const code of failureCodes(r)) assert.ok(TIMEOUT_CODES.has(code), `failure code ${code} is a timeout code (${JSON.stringify(r.failed)})`);
  assert.ok(r.clean, `the server holds nothing: ${JSON.stringify(r.leftovers)}`);
  assert.equal(r.internalErrors, 0, 'no internal error in the server');
  assert.equal(r.phoneErrors, 0, 'no internal error in the phones');
  assert.equal(r.busyPhones, 0, 'every phone is idle');
  // The network really was lossy both ways (else the test proves nothing).
  assert.ok(r.relays.toPhone.dropped > 0 && r.relays.fromPhone.dropped > 0, 'datagrams were dropped both ways');
  if (c.profile.duplicate > 0) assert.ok(r.relays.toPhone.duplicated + r.relays.fromPhone.duplicated > 0, 'datagrams were duplicated');
  assert.ok(r.retransmissions.server > 0, 'the server retransmitted');
}

for (const mode of ['refer', 'anchored'] as const) {
  test(`${mode}: ${SESSIONS} sessions at 10 % loss, 5 % duplication, 5 % reordering all complete`, async (t) => {
    const c: LossCase = { mode, sessions: SESSIONS, profile: LIGHT, seed: 7 };
    const r = await runLossCase(c);
    t.diagnostic(summary(r));
    assertSound(r, c);
    // Each transaction gets ≥ 7 tries before its timer runs out, so at 10 % loss a failure needs
    // ~(0.19)^7 bad luck: with this seed every session completes.
    assert.equal(r.completed, SESSIONS, `every session completes: ${JSON.stringify(r.failed)}`);
  });

  test(`${mode}: ${SESSIONS} sessions at 30 % loss each way end completed or with 408`, async (t) => {
    const c: LossCase = { mode, sessions: SESSIONS, profile: HEAVY, seed: 11 };
    const r = await runLossCase(c);
    t.diagnostic(summary(r));
    assertSound(r, c);
    // A round trip fails half the time at 30 % each way; most sessions still get through.
    assert.ok(r.completed >= SESSIONS * 0.8, `most sessions complete: ${r.completed}/${SESSIONS}`);
  });
}

test('the event check of the loss runs does catch a duplicate, a gap and a missing end', () => {
  const e = (seq: number, kind: CallEvent['kind'], final = false): CallEvent =>
    ({ callId: 'x', seq, time: seq, kind, leg: 'destination', code: 200, text: '', final });
  const good = [e(1, 'initiated'), e(2, 'answered'), e(3, 'connected', true), e(4, 'completed')];
  assert.deepEqual(eventProblems(good), []);
  assert.ok(eventProblems([e(1, 'initiated'), e(2, 'answered'), e(3, 'answered'), e(4, 'connected', true), e(5, 'completed')]).some((p) => p.includes('answered 2 times')));
  assert.ok(eventProblems([e(1, 'initiated'), e(3, 'connected', true), e(4, 'completed')]).some((p) => p.includes('seq 3')));
  assert.ok(eventProblems([e(1, 'initiated'), e(2, 'connected', true)]).some((p) => p.includes('last event is connected')));
  assert.ok(eventProblems([e(1, 'initiated'), e(2, 'failed', true), e(3, 'failed', true)]).some((p) => p.includes('2 final events')));
});
