// Child process for test/e2e/store-crash.test.ts: writes calls to the record store as the
// engine would (recordStart, batched events, final events through appendDurable) and prints
// `final <callId> <kind>` on stdout after each durable write returns, until it is killed.
// Usage: node --import tsx test/support/store-crash-child.ts <database file>
import type { CallEvent, CallEventKind, LegName } from '../../src/call/events.js';
import type { CallRequest } from '../../src/call/request.js';
import { realTimers } from '../../src/sip/timer.js';
import { SqliteCallStore } from '../../src/store/sqlite-store.js';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: store-crash-child <database file>\n');
  process.exit(2);
}

const store = new SqliteCallStore({
  path, timers: realTimers, batchMs: 5,
  reportError: (err, where) => process.stderr.write(`store error at ${where}: ${String(err)}\n`),
});
store.open();

const seqs = new Map<string, number>();
function emit(callId: string, kind: CallEventKind, leg: LegName | undefined, code: number, extra: Partial<CallEvent> = {}): CallEvent {
  const seq = (seqs.get(callId) ?? 0) + 1;
  seqs.set(callId, seq);
  const final = kind === 'connected' || kind === 'failed' || kind === 'refused';
  return { callId, seq, time: Date.now(), kind, leg, code, text: kind, final, ...extra };
}

function durable(callId: string, event: CallEvent): void {
  store.appendDurable(event);
  process.stdout.write(`final ${callId} ${event.kind}\n`);
}

function request(id: string): CallRequest {
  return {
    id, rawInitiator: '1001', rawDestination: '2002', initiator: 'sip:1001@x', destination: 'sip:2002@x',
    mode: 'anchored',
    options: { ringTimeoutMs: 60000, maxDurationMs: 14400000, holdOffer: 'c0-inactive', referNotifyTimeoutMs: 32000, transferPolicy: 'handle' },
    client: { address: '127.0.0.1', port: 5000, trigger: 'rest' },
  };
}

/** Calls overlap: each turn starts one and moves older ones on, so some are always in progress. */
const MAX_CALLS = 200_000;
let i = 0;
function turn(): void {
  if (i >= MAX_CALLS) {
    store.close();
    return;
  }
  const id = `crash-${i}`;
  store.recordStart(request(id), Date.now());
  store.append(emit(id, 'initiated', undefined, 100));
  store.append(emit(id, 'ringing', 'initiator', 180));
  const older = i - 3;
  if (older >= 0) {
    const oid = `crash-${older}`;
    switch (older % 3) {
      case 0:
        durable(oid, emit(oid, 'failed', 'initiator', 486, { reason: 'initiator-failed' }));
        break;
      case 1:
        store.append(emit(oid, 'answered', 'initiator', 200));
        durable(oid, emit(oid, 'connected', 'destination', 200));
        break;
      case 2: {
        // Stays connected for a while, then completes.
        store.append(emit(oid, 'answered', 'initiator', 200));
        durable(oid, emit(oid, 'connected', 'destination', 200));
        const late = `crash-${older - 3}`;
        if (older >= 3) durable(late, emit(late, 'completed', undefined, 200, { reason: 'hangup' }));
        break;
      }
    }
  }
  i++;
  setImmediate(turn);
}
turn();
