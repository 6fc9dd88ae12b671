// Server transactions (RFC 3261 §17.2.1, §17.2.2, RFC 6026 §7.1/§8.7), every edge on a fake clock,
// over UDP and TCP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipResponse } from '../../src/sip/message/message.js';
import type { ServerTransaction } from '../../src/sip/transaction/server-transaction.js';
import {
  harness, request, again, response, RecordingServerUser, UDP, TCP, type Harness,
} from '../support/transaction-fixtures.js';
import type { SipRequest } from '../../src/sip/message/message.js';

function newTx(h: Harness, req: SipRequest, d = UDP): { tx: ServerTransaction; user: RecordingServerUser } {
  const r = h.layer.receiveRequest(req, d);
  assert.equal(r.kind, 'new');
  const tx = (r as { tx: ServerTransaction }).tx;
  const user = new RecordingServerUser();
  tx.user = user;
  return { tx, user };
}

const statusOf = (m: { isRequest: boolean }) => (m instanceof SipResponse ? m.status : 0);

/** ACK for our non-2xx: same branch as the INVITE (§17.1.1.3). */
function ackFor(invite: SipRequest, toTag = 'totag-1'): SipRequest {
  return request({
    method: 'ACK',
    branch: invite.topVia.branch!,
    viaHost: invite.topVia.host,
    viaPort: invite.topVia.port ?? null,
    transport: invite.topVia.transport,
    callId: invite.callId,
    cseq: invite.cseq.seq,
    fromTag: invite.from.tag!,
    toTag,
  });
}

describe('INVITE server transaction over UDP', () => {
  it('sends 100 Trying at once (no 200 ms wait), untagged, to the response destination', () => {
    const h = harness();
    const req = request();
    const { tx } = newTx(h, req);
    assert.equal(tx.state, 'Proceeding');
    assert.equal(h.wire.sent.length, 1);
    const trying = h.wire.sent[0]!;
    assert.equal(statusOf(trying.message), 100);
    assert.equal(trying.at, 0);
    assert.deepEqual(trying.dest, UDP);
    assert.equal((trying.message as SipResponse).to.tag, undefined, '§17.2.1: tag SHOULD NOT be added to the 100');
    assert.equal(tx.lastResponse, trying.message);
  });

  it('Proceeding: a retransmitted INVITE re-sends the most recent provisional', () => {
    const h = harness();
    const req = request();
    const { tx } = newTx(h, req);
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission', tx });
    assert.deepEqual(h.wire.sent.map((s) => statusOf(s.message)), [100, 100]);
    tx.respond(response(req, 180));
    tx.respond(response(req, 183));
    assert.equal(tx.state, 'Proceeding');
    h.layer.receiveRequest(again(req), UDP);
    assert.deepEqual(h.wire.sent.map((s) => statusOf(s.message)), [100, 100, 180, 183, 183]);
    assert.ok(h.events.some((e) => e.type === 'retransmission' && e.status === 183));
    assert.deepEqual(tx.armedTimers, [], 'provisionals are not retransmitted by the transaction');
  });

  it('Proceeding → Accepted on 2xx: INVITE retransmissions absorbed silently, ACK to the TU, Timer L', () => {
    const h = harness();
    const req = request();
    const { tx, user } = newTx(h, req);
    h.at(1000);
    const ok = response(req, 200, 'uas-tag');
    tx.respond(ok);
    assert.equal(tx.state, 'Accepted');
    assert.deepEqual(tx.armedTimers, ['L']);
    const sentBefore = h.wire.sent.length;
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission', tx });
    assert.equal(h.wire.sent.length, sentBefore, 'RFC 6026 §8.7: absorbed, nothing re-sent');
    // The 2xx is retransmitted by the TU (§13.3.1.4): passed through while Accepted.
    h.at(1500);
    tx.respond(ok);
    assert.equal(h.wire.sent.length, sentBefore + 1);
    assert.ok(h.events.some((e) => e.type === 'retransmission' && e.status === 200));
    // A 2xx ACK normally carries a new branch → no transaction → the dialog layer.
    const ack2xx = request({ method: 'ACK', callId: req.callId, toTag: 'uas-tag' });
    assert.deepEqual(h.layer.receiveRequest(ack2xx, UDP), { kind: 'ack' });
    // One reusing the INVITE's branch matches the Accepted transaction and still goes to the TU.
    assert.deepEqual(h.layer.receiveRequest(ackFor(req, 'uas-tag'), UDP), { kind: 'ack', tx });
    assert.equal(tx.state, 'Accepted');
    // Non-2xx responses after the 2xx are discarded.
    tx.respond(response(req, 486));
    assert.ok(h.events.some((e) => e.type === 'response-discarded' && e.status === 486));
    h.at(1000 + 32_000 - 1);
    assert.equal(tx.state, 'Accepted');
    h.at(1000 + 32_000);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['terminated']);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('Proceeding → Completed on 486: Timer G re-sends at 500 ms, 1 s, 2 s, 4 s, 4 s …; Timer H → onTimeout', () => {
    const h = harness();
    const req = request();
    const { tx, user } = newTx(h, req);
    tx.respond(response(req, 486));
    assert.equal(tx.state, 'Completed');
    h.at(31_999);
    const times = h.wire.times((m) => statusOf(m) === 486);
    assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.deepEqual(times.slice(1).map((t, i) => t - times[i]!), [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
    assert.equal(tx.state, 'Completed');
    h.at(32_000);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.ok(h.events.some((e) => e.type === 'timeout' && e.timer === 'H'));
    assert.equal(h.timers.armed, 0);
    assert.equal(h.layer.size, 0);
  });

  it('Completed: a retransmitted INVITE re-sends the final; ACK → Confirmed, G stops, Timer I = T4 → Terminated', () => {
    const h = harness();
    const req = request();
    const { tx, user } = newTx(h, req);
    h.at(100);
    tx.respond(response(req, 603));
    h.at(300);
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission', tx });
    assert.deepEqual(h.wire.times((m) => statusOf(m) === 603), [100, 300]);
    h.at(1000); // G fired at 600
    assert.deepEqual(h.layer.receiveRequest(ackFor(req), UDP), { kind: 'ack-absorbed' });
    assert.equal(tx.state, 'Confirmed');
    assert.deepEqual(tx.armedTimers, ['I']);
    assert.deepEqual(h.layer.receiveRequest(ackFor(req), UDP), { kind: 'ack-absorbed' }, 'ACK retransmission absorbed');
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission', tx });
    h.at(5999);
    assert.deepEqual(h.wire.times((m) => statusOf(m) === 603), [100, 300, 600], 'no G after the ACK, none on INVITE in Confirmed');
    assert.equal(tx.state, 'Confirmed');
    h.at(6000);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['terminated']);
    assert.equal(h.timers.armed, 0);
  });

  it('a transport error sending a response → onTransportError, Terminated', () => {
    const h = harness();
    const req = request();
    const { tx, user } = newTx(h, req);
    h.wire.fail(new Error('ICMP'), true);
    tx.respond(response(req, 486));
    h.wire.flush();
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal(h.timers.armed, 0);
    tx.respond(response(req, 486));
    assert.equal(h.wire.responses(486).length, 1, 'nothing sent once Terminated');
  });

  it('a failed 100 Trying ends the transaction before the TU sees it; respond() is then discarded', () => {
    const h = harness();
    h.wire.fail();
    const req = request();
    const r = h.layer.receiveRequest(req, UDP);
    assert.equal(r.kind, 'new');
    const tx = (r as { tx: ServerTransaction }).tx;
    assert.equal(tx.state, 'Terminated');
    tx.respond(response(req, 180));
    assert.equal(h.wire.sent.length, 1);
    assert.equal(h.layer.size, 0);
  });
});

describe('INVITE server transaction over TCP', () => {
  it('100 on the connection; 486 → Completed without Timer G, H still 64*T1 → onTimeout', () => {
    const h = harness();
    const req = request({ transport: 'TCP' });
    const { tx, user } = newTx(h, req, TCP);
    assert.deepEqual(h.wire.sent[0]!.dest, TCP);
    tx.respond(response(req, 486));
    assert.deepEqual(tx.armedTimers, ['H']);
    h.at(32_000);
    assert.equal(h.wire.responses(486).length, 1, 'never retransmitted over TCP');
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });

  it('ACK → Confirmed and Timer I = 0: Terminated at once', () => {
    const h = harness();
    const req = request({ transport: 'TCP' });
    const { tx, user } = newTx(h, req, TCP);
    tx.respond(response(req, 480));
    assert.deepEqual(h.layer.receiveRequest(ackFor(req), TCP), { kind: 'ack-absorbed' });
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['terminated']);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('a retransmitted INVITE in Proceeding still re-sends the provisional', () => {
    const h = harness();
    const req = request({ transport: 'TCP' });
    const { tx } = newTx(h, req, TCP);
    tx.respond(response(req, 180));
    h.layer.receiveRequest(again(req), TCP);
    assert.deepEqual(h.wire.sent.map((s) => statusOf(s.message)), [100, 180, 180]);
  });

  it('a transport error on the 2xx → onTransportError, Terminated', () => {
    const h = harness();
    const req = request({ transport: 'TCP' });
    const { tx, user } = newTx(h, req, TCP);
    h.wire.fail(new Error('EPIPE'));
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });

  it('2xx → Accepted with Timer L = 64*T1', () => {
    const h = harness();
    const req = request({ transport: 'TCP' });
    const { tx } = newTx(h, req, TCP);
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Accepted');
    h.at(31_999);
    assert.equal(tx.state, 'Accepted');
    h.at(32_000);
    assert.equal(tx.state, 'Terminated');
    assert.equal(h.timers.armed, 0);
  });
});

describe('non-INVITE server transaction over UDP', () => {
  it('Trying: nothing sent; a retransmission before any response is absorbed silently', () => {
    const h = harness();
    const req = request({ method: 'OPTIONS' });
    const { tx } = newTx(h, req);
    assert.equal(tx.state, 'Trying');
    assert.equal(tx.isInvite, false);
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission', tx });
    assert.equal(h.wire.sent.length, 0);
    assert.deepEqual(tx.armedTimers, []);
  });

  it('Trying → Proceeding (re-send last 1xx) → Completed (re-send final, others discarded) → Timer J 32 s', () => {
    const h = harness();
    const req = request({ method: 'NOTIFY' });
    const { tx, user } = newTx(h, req);
    tx.respond(response(req, 100));
    assert.equal(tx.state, 'Proceeding');
    tx.respond(response(req, 180));
    h.layer.receiveRequest(again(req), UDP);
    assert.deepEqual(h.wire.sent.map((s) => statusOf(s.message)), [100, 180, 180]);
    h.at(2000);
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Completed');
    assert.deepEqual(tx.armedTimers, ['J']);
    tx.respond(response(req, 500));
    tx.respond(response(req, 180));
    assert.equal(h.events.filter((e) => e.type === 'response-discarded').length, 2);
    h.layer.receiveRequest(again(req), UDP);
    assert.deepEqual(h.wire.sent.map((s) => statusOf(s.message)), [100, 180, 180, 200, 200]);
    h.at(2000 + 32_000 - 1);
    assert.equal(tx.state, 'Completed');
    assert.equal(h.wire.responses(200).length, 2, 'no timer-driven retransmission of non-INVITE responses');
    h.at(2000 + 32_000);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['terminated']);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('Trying → Completed directly on a final', () => {
    const h = harness();
    const req = request({ method: 'BYE' });
    const { tx } = newTx(h, req);
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Completed');
    h.at(32_000);
    assert.equal(tx.state, 'Terminated');
  });

  it('a transport error on the response → onTransportError, Terminated', () => {
    const h = harness();
    const req = request({ method: 'BYE' });
    const { tx, user } = newTx(h, req);
    h.wire.fail();
    tx.respond(response(req, 100));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });
});

describe('non-INVITE server transaction over TCP', () => {
  it('final → Completed and Timer J = 0: Terminated at once', () => {
    const h = harness();
    const req = request({ method: 'BYE', transport: 'TCP' });
    const { tx, user } = newTx(h, req, TCP);
    tx.respond(response(req, 100));
    assert.equal(tx.state, 'Proceeding');
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['terminated']);
    assert.deepEqual(h.wire.sent.map((s) => s.dest), [TCP, TCP]);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('a late transport error after Timer J = 0 still reaches the TU', () => {
    const h = harness();
    const req = request({ method: 'BYE', transport: 'TCP' });
    const { tx, user } = newTx(h, req, TCP);
    h.wire.fail(new Error('connection reset'), true);
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Terminated');
    h.wire.flush();
    assert.deepEqual(user.kinds(), ['terminated', 'transport-error']);
  });
});

describe('what a server transaction keeps in its wait state', () => {
  it('non-INVITE Completed (Timer J) and INVITE Accepted (Timer L) let the request go; the last response is re-sent as bytes', () => {
    const h = harness();
    const req = request({ method: 'BYE' });
    const { tx } = newTx(h, req);
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Completed');
    assert.equal(tx.holdsRequest, false);
    assert.equal(tx.method, 'BYE');
    assert.equal(tx.lastResponse, undefined, 'the response object is let go: bytes only');
    assert.equal(tx.lastStatus, 200);
    const first = h.wire.sent.at(-1)!.message.serialize().toString('latin1');
    const before = h.wire.sent.length;
    h.layer.receiveRequest(again(req), UDP);
    assert.equal(h.wire.sent.length, before + 1, 'the retransmitted BYE gets the 200 again');
    assert.equal(h.wire.sent.at(-1)!.message.serialize().toString('latin1'), first, 'the same bytes');
    assert.ok(h.events.some((e) => e.type === 'retransmission' && e.status === 200));

    const invite = request();
    const accepted = newTx(h, invite).tx;
    accepted.respond(response(invite, 200, 'uas-tag'));
    assert.equal(accepted.state, 'Accepted');
    assert.equal(accepted.holdsRequest, false);
    assert.equal(accepted.lastResponse, undefined, 'the TU re-sends its 2xx (RFC 6026 §7.1): nothing kept');
    assert.equal(accepted.lastStatus, 200);
    h.at(32_000);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('an RFC 2543 INVITE (no z9hG4bK branch) keeps its request: its ACK is matched by the request fields', () => {
    const h = harness();
    const invite = request({ branch: 'old-style-1' });
    const { tx } = newTx(h, invite);
    tx.respond(response(invite, 486, 'uas-tag'));
    assert.equal(tx.state, 'Completed');
    assert.equal(tx.holdsRequest, true);
    assert.equal(tx.lastResponse?.status, 486, 'and its final response: the ACK must carry its To tag (§17.2.3)');
    assert.deepEqual(h.layer.receiveRequest(ackFor(invite, 'uas-tag'), UDP), { kind: 'ack-absorbed' });
    assert.equal(tx.state, 'Confirmed');
  });

  it('INVITE Completed (3xx–6xx) keeps the final as bytes for Timer G; Confirmed keeps none', () => {
    const h = harness();
    const invite = request();
    const { tx } = newTx(h, invite);
    tx.respond(response(invite, 486, 'uas-tag'));
    assert.equal(tx.lastResponse, undefined);
    assert.equal(tx.holdsRequest, false);
    h.at(500); // Timer G
    assert.deepEqual(h.wire.times((m) => statusOf(m) === 486), [0, 500]);
    h.layer.receiveRequest(ackFor(invite, 'uas-tag'), UDP);
    assert.equal(tx.state, 'Confirmed');
    const before = h.wire.sent.length;
    h.layer.receiveRequest(again(invite), UDP);
    assert.equal(h.wire.sent.length, before, 'Confirmed absorbs the INVITE and re-sends nothing');
  });
});
