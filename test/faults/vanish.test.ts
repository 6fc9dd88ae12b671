/**
 * Issue #7 "Faults" — phones that vanish, requests that are never answered, TCP connections reset
 * mid-message. The server runs in this process on a FakeClock (its SIP timers, ring timeout,
 * MaxCallDuration and ReferNotifyTimeout are virtual: no test sleeps through a protocol timeout);
 * the phones run on real short timers. A phone "vanishes" behind its LossyRelay: from that moment
 * every datagram to or from it is dropped, as when a phone loses power or network.
 *
 * The last three tests found a bug of src/call/session.ts, since fixed: a party leaving while the
 * initiator's re-INVITE was out ended the session with no final event, then published events
 * after the end and left a MaxCallDuration timer armed.
 *
 * Covered elsewhere, not repeated here:
 * - a destination that rings and never answers (ring timeout → CANCEL → 408): test/e2e/
 *   clicktocall-anchored.test.ts "destination does not answer" and clicktocall-initiator.test.ts
 *   "initiator does not answer"; release counts with real phones: test/interop/engine-release.test.ts;
 * - a live phone that accepts the REFER and never sends a NOTIFY (ReferNotifyTimeout → 408
 *   Destination): test/e2e/clicktocall-refer.test.ts "REFER accepted, no NOTIFY ever";
 * - MaxCallDuration with both phones present: clicktocall-anchored.test.ts "MaxCallDuration".
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { FakeClock } from '../support/fake-clock.js';
import { TestPhone, type PhoneBehaviour } from '../support/sip-phone.js';
import { LossyRelay } from '../support/lossy-relay.js';
import { nothingLeft, startFaultServer, waitUntil, type FaultServer } from './fault-server.js';
import type { CallEvent } from '../../src/call/events.js';

/** Server SipT1 on the virtual clock: Timer B = Timer F = 64·T1 = 6.4 s (virtual). */
const T1 = 100;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  fs: FaultServer;
  clock: FakeClock;
  /** Moves virtual time on in small steps, letting real I/O run in between, until `until` or `maxMs`. */
  drive(until: () => boolean, maxMs: number, what: string): Promise<void>;
  /** Moves virtual time on by `ms` (in steps). */
  pass(ms: number): Promise<void>;
  kinds(id: string): string[];
  event(id: string, kind: CallEvent['kind']): CallEvent | undefined;
  /** First lines the server sent to `port`. */
  sentTo(port: number): string[];
}

async function rig(settings: string[] = []): Promise<Rig> {
  const clock = new FakeClock(Date.now());
  const fs = await startFaultServer({ timers: clock, settings: [`SipT1 = ${T1}`, `SipT2 = ${8 * T1}`, 'SipT4 = 500', ...settings] });
  cleanups.push(() => fs.stop());
  const STEP = 20;
  const step = async () => {
    clock.advance(STEP);
    await new Promise((r) => setTimeout(r, 2));
  };
  return {
    fs,
    clock,
    async drive(until, maxMs, what) {
      for (let t = 0; !until(); t += STEP) {
        if (t > maxMs) throw new Error(`virtual ${maxMs} ms passed waiting for ${what}`);
        await step();
      }
    },
    async pass(ms) {
      for (let t = 0; t < ms; t += STEP) await step();
    },
    kinds: (id) => (fs.events.get(id) ?? []).map((e) => (e.kind === 'failed' ? `failed ${e.code} ${e.leg} ${e.reason}` : e.kind === 'ringing' ? `ringing ${e.leg}` : e.kind)),
    event: (id, kind) => fs.events.get(id)?.find((e) => e.kind === kind),
    sentTo: (port) => fs.sentLines.filter((l) => l.port === port).map((l) => l.line.split(' ')[0]!),
  };
}

async function phoneBehindRelay(name: string, behaviour: PhoneBehaviour): Promise<{ phone: TestPhone; relay: LossyRelay }> {
  const phone = await TestPhone.start({ name, behaviour });
  const relay = await LossyRelay.start({ phonePort: phone.endpoint.bound.find((b) => b.transport === 'udp')!.port });
  cleanups.push(() => phone.stop(), () => relay.close());
  return { phone, relay };
}

/** Everything released: no transaction, dialog, INVITE server, pending REFER, session, timer or subscription. */
async function assertReleased(r: Rig, maxVirtualMs = 64 * T1 + 2000): Promise<void> {
  await r.drive(() => nothingLeft(r.fs.leftovers()), maxVirtualMs, 'the server to release everything')
    .catch((err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(r.fs.leftovers())}`); });
  assert.equal(r.fs.server.counters.internalErrors, 0, 'no internal error');
}

test('anchored: the destination vanishes mid-call; MaxCallDuration ends it; the unanswered BYE is retransmitted until Timer F and everything is released', async () => {
  const r = await rig();
  const a = await phoneBehindRelay('alice', { ring: 10, answer: 30 });
  const b = await phoneBehindRelay('bob', { ring: 10, answer: 30 });
  const id = r.fs.start(a.relay.uriFor('alice'), b.relay.uriFor('bob'), 'anchored', { maxDurationMs: 10_000 });
  await r.drive(() => r.event(id, 'connected') !== undefined, 3000, 'connected');
  b.relay.vanish();
  const reachedBob = b.relay.stats.toPhone.forwarded;
  // Nothing notices a silent phone until MaxCallDuration (no session timer is negotiated).
  await r.pass(5000);
  assert.equal(r.fs.server.engine.activeCalls, 1, 'the call is still up before MaxCallDuration');
  await r.drive(() => r.fs.ended(id), 6000, 'MaxCallDuration');
  assert.deepEqual(r.kinds(id), ['initiated', 'ringing initiator', 'answered', 'ringing destination', 'connected', 'completed']);
  assert.equal(r.event(id, 'completed')!.reason, 'max-duration');
  const byeAt = r.clock.now();
  // RFC 3261 §15.1.1: the session is over as soon as the BYE is handed to its transaction; the
  // dialog goes at once. §17.1.2.2: the BYE is retransmitted (E: T1, 2T1 … capped at T2) until
  // Timer F (64·T1) gives up with a timeout, which §15.1.1 also takes as "terminated".
  assert.equal(r.fs.leftovers().dialogs, 0, 'both dialogs released when the BYEs went out');
  await a.phone.waitFor(() => a.phone.liveCalls().length === 0, 3000, 'alice hung up by the server');
  await assertReleased(r);
  assert.ok(r.clock.now() - byeAt >= 64 * T1 - 2 * 20, 'the BYE transaction lived until Timer F');
  const byes = r.sentTo(b.relay.port).filter((m) => m === 'BYE').length;
  // E fires at 1, 3, 7, 15 T1, then every T2 (8 T1): 23, 31 … 63 T1 → 11 sends in all before F.
  assert.ok(byes >= 9 && byes <= 12, `BYE sent ${byes} times to the vanished phone`);
  assert.equal(b.relay.stats.toPhone.forwarded, reachedBob, 'none of it reached bob');
});

test('REFER mode: the initiator accepts the REFER and vanishes; no NOTIFY: ReferNotifyTimeout → 408 Destination; the BYE times out; everything released', async () => {
  const r = await rig();
  const a = await phoneBehindRelay('alice', { ring: 10, answer: 30, onRefer: 'accept-no-notify' });
  const b = await phoneBehindRelay('bob', { ring: 10, answer: 30 });
  const id = r.fs.start(a.relay.uriFor('alice'), b.relay.uriFor('bob'), 'refer', { referNotifyTimeoutMs: 4000 });
  await r.drive(() => r.fs.receivedLines.some((l) => l.line.startsWith('SIP/2.0 202')), 3000, 'the 202 to the REFER at the server');
  a.relay.vanish();
  await r.drive(() => r.fs.ended(id), 6000, 'the REFER to time out');
  // RFC 6665 §4.1.2.4 (Timer N): no NOTIFY within the wait → the subscription failed.
  assert.deepEqual(r.kinds(id), ['initiated', 'ringing initiator', 'answered', 'failed 408 destination refer-notify-timeout']);
  await assertReleased(r);
  assert.ok(r.sentTo(a.relay.port).filter((m) => m === 'BYE').length >= 9, 'the BYE to the vanished initiator was retransmitted until Timer F');
  assert.equal(b.phone.received('INVITE').length, 0, 'bob was never called');
});

for (const ringTimeout of [30, 2] as const) {
  test(`anchored: the destination is gone before the call (no answer at all), RingTimeout ${ringTimeout} s: Timer B → 408 Destination, no CANCEL (§9.1), the initiator gets BYE`, async () => {
    const r = await rig([`RingTimeout = ${ringTimeout}`]);
    const a = await phoneBehindRelay('alice', { ring: 10, answer: 30 });
    const b = await phoneBehindRelay('bob', { ring: 10, answer: 30 });
    b.relay.vanish();
    const id = r.fs.start(a.relay.uriFor('alice'), b.relay.uriFor('bob'), 'anchored');
    await r.drive(() => r.event(id, 'answered') !== undefined, 3000, 'alice answering');
    const invitedAt = r.clock.now();
    await r.drive(() => r.fs.ended(id), 64 * T1 + 1000, 'the destination leg to fail');
    // §17.1.1.2: Timer B (64·T1) ends the INVITE transaction with a timeout, reported as 408
    // (§8.1.3.1). Even when the ring timeout runs out first, §9.1 forbids a CANCEL before any
    // provisional response: the INVITE is left to Timer B, and the result is the same 408.
    assert.deepEqual(r.kinds(id), ['initiated', 'ringing initiator', 'answered', 'failed 408 destination destination-failed']);
    assert.ok(r.clock.now() - invitedAt >= 64 * T1 - 200, `failed at Timer B, not before (${r.clock.now() - invitedAt} ms)`);
    const toBob = r.sentTo(b.relay.port);
    assert.equal(toBob.filter((m) => m === 'CANCEL').length, 0, 'no CANCEL without a provisional response');
    // A fires at 0, 1, 3, 7, 15, 31, 63 T1: 7 sends.
    assert.ok(toBob.filter((m) => m === 'INVITE').length >= 6 && toBob.filter((m) => m === 'INVITE').length <= 7, `INVITE sends: ${toBob.join(',')}`);
    await a.phone.waitFor(() => a.phone.received('BYE').length === 1, 3000, 'BYE to alice');
    await assertReleased(r);
  });
}

test('anchored over TCP: the destination vanishes (its connection reset, its port closed); the initiator hangs up; the BYE cannot be delivered, everything is released anyway', async () => {
  const r = await rig();
  const a = await phoneBehindRelay('alice', { ring: 10, answer: 30 });
  const bob = await TestPhone.start({ name: 'bob', transport: 'tcp', behaviour: { ring: 10, answer: 30 } });
  cleanups.push(() => bob.stop());
  const bobPort = bob.endpoint.bound.find((x) => x.transport === 'tcp')!.port;
  const id = r.fs.start(a.relay.uriFor('alice'), bob.uri, 'anchored');
  await r.drive(() => r.event(id, 'connected') !== undefined, 3000, 'connected');
  assert.equal(r.fs.server.sip.transport.stats().connections, 1, 'one TCP connection to bob');
  await bob.stop();
  await waitUntil(() => r.fs.server.sip.transport.stats().connections === 0, 3000, 'the server to see the connection close');
  // alice hangs up; the server BYEs bob: the connection attempt is refused (§18.4 / §8.1.3.1: a
  // transport error is a 503 for the BYE), and the dialog is gone anyway (§15.1.1).
  await a.phone.hangup();
  await r.drive(() => r.fs.ended(id), 3000, 'the call to end');
  assert.deepEqual(r.kinds(id), ['initiated', 'ringing initiator', 'answered', 'ringing destination', 'connected', 'completed']);
  assert.equal(r.event(id, 'completed')!.reason, 'initiator-hung-up');
  await assertReleased(r);
  // §17.1.2.2: no retransmission on a reliable transport — one BYE, which could not be delivered.
  assert.deepEqual(r.sentTo(bobPort).filter((m) => m === 'BYE'), ['BYE']);
});

// ── TCP reset mid-message ────────────────────────────────────────────────────────

function rawTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function options(uri: string, callId: string): string {
  return [
    `OPTIONS ${uri} SIP/2.0`, 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-' + callId, 'Max-Forwards: 70',
    'From: <sip:probe@127.0.0.1>;tag=p1', `To: <${uri}>`, `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
  ].join('\r\n');
}

const INVITE_HEAD = (uri: string) => [
  `INVITE ${uri} SIP/2.0`, 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-half', 'Max-Forwards: 70',
  'From: <sip:x@127.0.0.1>;tag=h1', `To: <${uri}>`, 'Call-ID: half-1', 'CSeq: 1 INVITE',
  'Contact: <sip:x@127.0.0.1:9;transport=tcp>', 'Content-Type: application/sdp', 'Content-Length: 200', '', 'v=0\r\no=x 1 1 IN IP4 127.0',
].join('\r\n');

for (const where of ['headers', 'body'] as const) {
  test(`TCP reset in the middle of a message (${where}): nothing leaks, the server keeps serving (OPTIONS, then a call)`, async () => {
    const r = await rig();
    const tcp = r.fs.server.sip.bound.find((b) => b.transport === 'tcp')!;
    const uri = `sip:clicktocall@127.0.0.1:${tcp.port};transport=tcp`;
    const s = await rawTcp(tcp.port);
    const text = INVITE_HEAD(uri);
    // Half the header section, or all of it and part of the 200-byte body.
    s.write(where === 'headers' ? text.slice(0, text.indexOf('Call-ID')) : text);
    await waitUntil(() => r.fs.server.sip.transport.stats().connections === 1, 2000, 'the connection at the server');
    s.resetAndDestroy();
    await waitUntil(() => r.fs.server.sip.transport.stats().connections === 0, 2000, 'the server to drop the reset connection');
    assert.equal(r.fs.server.sip.stack.counters.received, 0, 'the half message never reached the stack');
    // Still serving: an OPTIONS on a new connection is answered.
    const probe = await rawTcp(tcp.port);
    let answer = '';
    probe.on('data', (d: Buffer) => { answer += d.toString(); });
    probe.write(options(uri, 'probe-1'));
    await waitUntil(() => answer.includes('\r\n\r\n'), 2000, 'the OPTIONS answer');
    assert.match(answer, /^SIP\/2\.0 200 /);
    probe.destroy();
    // And a call over TCP.
    const alice = await TestPhone.start({ name: 'alice', transport: 'tcp', behaviour: { ring: 10, answer: 30 } });
    const bob = await TestPhone.start({ name: 'bob', transport: 'tcp', behaviour: { ring: 10, answer: 30 } });
    cleanups.push(() => alice.stop(), () => bob.stop());
    const id = r.fs.start(alice.uri, bob.uri, 'anchored');
    await r.drive(() => r.event(id, 'connected') !== undefined, 3000, 'connected');
    await alice.hangup();
    await r.drive(() => r.fs.ended(id), 3000, 'the call to end');
    assert.equal(r.event(id, 'completed')?.reason, 'initiator-hung-up');
    await assertReleased(r);
  });
}

// ── a party leaves while the initiator's re-INVITE is out (RFC 3725 flow I, step 3) ──────────────


for (const initiator of ['answers the re-INVITE late', 'never answers the re-INVITE'] as const) {
  test(`anchored: the initiator goes silent after its ACK, the destination answers and gives up waiting for our ACK (BYE); the initiator ${initiator}: one final event by the end, none after, nothing left`, async () => {
    const r = await rig();
    const a = await phoneBehindRelay('alice', { ring: 10, answer: 30 });
    const b = await phoneBehindRelay('bob', { ring: 10, answer: 30 });
    const id = r.fs.start(a.relay.uriFor('alice'), b.relay.uriFor('bob'), 'anchored');
    await r.drive(() => a.phone.received('ACK').length === 1, 3000, "alice's ACK");
    a.relay.vanish();
    await r.drive(() => r.sentTo(a.relay.port).filter((m) => m === 'INVITE').length === 2, 3000, 'bob answering and our re-INVITE to alice');
    // Our ACK to bob waits for alice's answer to the re-INVITE (flow I); bob's 2xx goes
    // unacknowledged until his 64·T1 runs out (real time, his own timers) and he sends BYE
    // (RFC 3261 §13.3.1.4). The server's clock stands still meanwhile: the re-INVITE is still out.
    await waitUntil(() => r.fs.receivedLines.some((l) => l.line.startsWith('BYE ')), 5000, 'bob\'s BYE at the server');
    // The final event is published once the record store has committed it, and a group commit
    // that follows another within 5 ms waits on the server's clock — standing still here. A
    // few steps of it let the commit run (far from the re-INVITE's Timer B, 64·T1).
    await r.drive(() => r.fs.ended(id), 1000, 'the session to end on bob\'s BYE');
    const atEnd = (r.fs.events.get(id) ?? []).length;
    assert.equal(b.phone.sent('BYE').length, 1, 'bob gave up with a BYE');
    assert.deepEqual(r.kinds(id).slice(0, 4), ['initiated', 'ringing initiator', 'answered', 'ringing destination']);
    // One final event by the time the session ended: the destination's call ended before it
    // was connected to the initiator (proposed: 487, like an initiator hanging up at that point).
    const last = r.fs.events.get(id)?.at(-1);
    assert.ok(last?.final && last.kind === 'failed' && last.leg === 'destination', `a final event by the time the session ended: ${r.kinds(id).join(', ')}`);
    if (initiator === 'answers the re-INVITE late') a.relay.profile = { dropToPhone: 0, dropFromPhone: 0, duplicate: 0, reorder: 0 };
    // The re-INVITE is retransmitted (and answered 200, or times out at Timer B).
    await r.pass(64 * T1 + 1000);
    assert.equal((r.fs.events.get(id) ?? []).length, atEnd, `no event after the end: ${r.kinds(id).join(', ')}`);
    await assertReleased(r);
  });
}

test('anchored: the API hangs up while the initiator\'s re-INVITE is out; its late 200 is acknowledged and connects nothing: no event after the end, no MaxCallDuration timer left', async () => {
  const r = await rig();
  const a = await phoneBehindRelay('alice', { ring: 10, answer: 30 });
  const b = await phoneBehindRelay('bob', { ring: 10, answer: 30 });
  const id = r.fs.start(a.relay.uriFor('alice'), b.relay.uriFor('bob'), 'anchored');
  await r.drive(() => a.phone.received('ACK').length === 1, 3000, "alice's ACK");
  a.relay.vanish();
  await r.drive(() => r.sentTo(a.relay.port).filter((m) => m === 'INVITE').length === 2, 3000, 'bob answering and our re-INVITE to alice');
  assert.equal(r.fs.server.engine.hangup(id), 'ok');
  await r.drive(() => r.fs.ended(id), 1000, 'the final event'); // the store commits it at the end of the turn
  assert.deepEqual(r.kinds(id), ['initiated', 'ringing initiator', 'answered', 'ringing destination', 'failed 487 destination hangup']);
  const atEnd = r.kinds(id).length;
  // alice is back, but our BYE to her (sent at the hang-up) is still lost: the re-INVITE's
  // retransmission reaches her first and she answers 200. Then the BYE gets through too.
  a.relay.profile = { dropToPhone: 0, dropFromPhone: 0, duplicate: 0, reorder: 0, dropIf: (line) => line.startsWith('BYE ') };
  await r.drive(() => a.phone.sent('INVITE', true).some((m) => (m as { status?: number }).status === 200 && m.cseq.seq > 1), 64 * T1, "alice's 200 to the re-INVITE");
  a.relay.profile = { dropToPhone: 0, dropFromPhone: 0, duplicate: 0, reorder: 0 };
  await r.pass(64 * T1 + 1000);
  assert.equal(r.kinds(id).length, atEnd, `no event after the end: ${r.kinds(id).join(', ')}`);
  await assertReleased(r);
});
