// How a CallRecord derives from the CallRequest and the CallEvents (src/store/record.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallEvent, CallEventKind, LegName } from '../../src/call/events.js';
import type { CallRequest } from '../../src/call/request.js';
import { applyEvent, isEnded, recordFromEvent, recordFromRequest, type CallRecord } from '../../src/store/record.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

function request(id = 'c1'): CallRequest {
  return {
    id, rawInitiator: '1001', rawDestination: '2002',
    initiator: 'sip:1001@pbx.example', destination: 'sip:2002@pbx.example', mode: 'refer',
    options: { ringTimeoutMs: 60000, maxDurationMs: 14400000, holdOffer: 'c0-inactive', referNotifyTimeoutMs: 32000, transferPolicy: 'handle' },
    client: { address: '127.0.0.1', port: 40000, trigger: 'xml' },
  };
}

function feed(record: CallRecord, steps: [CallEventKind, LegName | undefined, number, Partial<CallEvent>?][]): void {
  let seq = record.events.length;
  for (const [kind, leg, code, extra] of steps) {
    seq++;
    const final = kind === 'connected' || kind === 'failed' || kind === 'refused';
    applyEvent(record, { callId: record.id, seq, time: T0 + seq * 1000, kind, leg, code, text: `${kind} text`, final, ...extra });
  }
}

test('REFER success: connected, then completed (referred) when the server leaves', () => {
  const r = recordFromRequest(request(), T0);
  assert.equal(r.state, 'in-progress');
  feed(r, [
    ['initiated', undefined, 100, { translatedInitiator: 'sip:1001@pbx.example', translatedDestination: 'sip:2002@pbx.example' }],
    ['ringing', 'initiator', 180], ['answered', 'initiator', 200], ['ringing', 'destination', 180],
    ['connected', 'destination', 200],
  ]);
  assert.equal(r.state, 'connected');
  assert.equal(isEnded(r), false);
  assert.equal(r.endedAt, undefined);
  feed(r, [['completed', undefined, 200, { reason: 'referred' }]]);
  assert.equal(r.state, 'completed');
  assert.equal(r.reason, 'referred');
  assert.equal(r.finalCode, 200);
  assert.equal(r.finalText, 'connected text');
  assert.deepEqual(r.legs.initiator, { ringingAt: T0 + 2000, answeredAt: T0 + 3000, endedAt: T0 + 6000 });
  assert.deepEqual(r.legs.destination, { ringingAt: T0 + 4000, answeredAt: T0 + 5000, endedAt: T0 + 6000 });
  assert.equal(r.endedAt, T0 + 6000);
  assert.equal(r.events.length, 6);
  assert.equal(isEnded(r), true);
});

test('anchored after a REFER fallback, completed by a hang-up', () => {
  const r = recordFromRequest({ ...request(), mode: 'anchored' }, T0);
  feed(r, [
    ['initiated', undefined, 100], ['answered', 'initiator', 200],
    ['fallback', undefined, 100, { reason: 'refer-refused' }],
    ['connected', 'destination', 200], ['completed', undefined, 200, { reason: 'hangup' }],
  ]);
  assert.equal(r.fallbackAt, T0 + 3000);
  assert.equal(r.legs.initiator.ringingAt, undefined);
  assert.equal(r.legs.destination.answeredAt, T0 + 4000);
  assert.equal(r.state, 'completed');
  assert.equal(r.reason, 'hangup');
  assert.equal(r.mode, 'anchored');
});

test('failure of the initiator leg ends that leg; failure of the destination ends the answered initiator too', () => {
  const a = recordFromRequest(request('a'), T0);
  feed(a, [['initiated', undefined, 100], ['ringing', 'initiator', 180], ['failed', 'initiator', 486, { reason: 'initiator-failed' }]]);
  assert.equal(a.state, 'failed');
  assert.equal(a.finalCode, 486);
  assert.equal(a.reason, 'initiator-failed');
  assert.deepEqual(a.legs.initiator, { ringingAt: T0 + 2000, endedAt: T0 + 3000 });
  assert.deepEqual(a.legs.destination, {});

  const b = recordFromRequest(request('b'), T0);
  feed(b, [['answered', 'initiator', 200], ['failed', 'destination', 404, { reason: 'destination-failed' }]]);
  assert.equal(b.legs.initiator.endedAt, T0 + 2000);
  assert.equal(b.legs.destination.endedAt, T0 + 2000);
  assert.equal(b.finalCode, 404);
});

test('a refusal seen without its request still makes a record from the event', () => {
  const e: CallEvent = {
    callId: 'r1', seq: 1, time: T0, kind: 'refused', leg: undefined, code: 403, text: 'Refused: destination not allowed',
    reason: 'destination-denied', final: true, translatedInitiator: 'sip:a@x', translatedDestination: 'sip:b@y',
  };
  const r = recordFromEvent(e);
  applyEvent(r, e);
  assert.equal(r.state, 'refused');
  assert.equal(r.initiator, 'sip:a@x');
  assert.equal(r.destination, 'sip:b@y');
  assert.equal(r.finalCode, 403);
  assert.equal(r.reason, 'destination-denied');
  assert.equal(r.endedAt, T0);
  assert.equal(r.mode, undefined);
  assert.equal(r.rawInitiator, undefined);
});

test('transfers: requested (target from the text), ringing, connected; then a failed one recovered', () => {
  const r = recordFromRequest({ ...request(), mode: 'anchored' }, T0);
  feed(r, [
    ['answered', 'initiator', 200], ['connected', 'destination', 200],
    ['transfer-requested', 'destination', 202, { text: 'Transfer to sip:3003@pbx.example requested by the destination', reason: 'handle' }],
    ['transfer-ringing', 'destination', 180], ['transfer-connected', 'destination', 200],
    ['transfer-requested', 'initiator', 202, { text: 'Transfer to sip:4004@x requested by the initiator', reason: 'handle' }],
    ['transfer-failed', 'initiator', 486, { reason: 'target-failed' }],
    ['transfer-recovered', 'destination', 200],
  ]);
  assert.equal(r.transfers.length, 2);
  assert.deepEqual(r.transfers[0], {
    requestedAt: T0 + 3000, by: 'destination', target: 'sip:3003@pbx.example', policy: 'handle',
    outcome: 'connected', code: 200, text: 'transfer-connected text', endedAt: T0 + 5000,
  });
  assert.equal(r.transfers[1]!.target, 'sip:4004@x');
  assert.equal(r.transfers[1]!.outcome, 'recovered');
  assert.equal(r.transfers[1]!.reason, 'target-failed');
  assert.equal(r.transfers[1]!.endedAt, T0 + 7000);
  assert.equal(r.state, 'connected');
});

test('an event already applied is ignored; a late one is kept in seq order', () => {
  const r = recordFromRequest({ ...request(), mode: 'anchored' }, T0);
  const ev = (seq: number, kind: CallEventKind, leg?: LegName): CallEvent =>
    ({ callId: r.id, seq, time: T0 + seq, kind, leg, code: 200, text: kind, final: kind === 'connected' });
  assert.equal(applyEvent(r, ev(1, 'initiated')), true);
  assert.equal(applyEvent(r, ev(3, 'transfer-requested', 'destination')), true);
  assert.equal(applyEvent(r, ev(2, 'connected', 'destination')), true);
  assert.equal(applyEvent(r, ev(3, 'transfer-requested', 'destination')), false);
  assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(r.transfers.length, 1);
});
