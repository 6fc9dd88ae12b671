/**
 * The INVITE dialog usage (RFC 3261 §12–§15) on a FakeDialogHost and a FakeClock: 2xx
 * retransmission until the ACK (§13.3.1.4), ACK re-sending (§13.2.2.4), re-INVITE with glare
 * handling (§14), BYE (§15), and the default answers to other in-dialog requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createResponse, type SipRequest, type SipResponse } from '../../src/sip/message/index.js';
import { dialogFromRequest, dialogFromResponse } from '../../src/sip/dialog/dialog.js';
import { InviteClient } from '../../src/sip/dialog/invite-client.js';
import { InviteServer } from '../../src/sip/dialog/invite-server.js';
import type { IncomingReinvite, InviteSession, ReinviteHandler, SessionEndReason } from '../../src/sip/dialog/invite-session.js';
import type { TransportName } from '../../src/sip/transaction/index.js';
import {
  FakeDialogHost, type FakeServerTx, fromPeer, type SentRequest, incomingInvite, OUR_CONTACT, outgoingInvite, PEER_CONTACT,
  SDP_ANSWER, SDP_OFFER,
} from '../support/fake-dialog-host.js';

interface Events {
  terminated: SessionEndReason[];
  acks: SipRequest[];
  byes: SipRequest[];
  order: string[];
}

function listen(session: InviteSession): Events {
  const ev: Events = { terminated: [], acks: [], byes: [], order: [] };
  session.handler = {
    onTerminated: (r) => {
      ev.terminated.push(r);
      ev.order.push('terminated');
    },
    onAck: (a) => ev.acks.push(a),
    onBye: (b) => {
      ev.byes.push(b);
      ev.order.push('bye');
    },
  };
  return ev;
}

/** We are the UAS: the peer's INVITE accepted with a 2xx; `peer` is the peer's (UAC) view of the dialog. */
function uasCall(transport: TransportName = 'udp') {
  const host = new FakeDialogHost();
  const invite = incomingInvite({ body: SDP_OFFER, recordRoute: ['<sip:proxy.example.com;lr>'] });
  const tx = host.serverTx(invite, transport);
  const server = new InviteServer(host, invite, tx, OUR_CONTACT);
  const session = server.accept({ body: SDP_ANSWER })!;
  const ok = tx.lastResponse!;
  const peer = dialogFromResponse(invite, ok, PEER_CONTACT);
  const events = listen(session);
  return { host, invite, tx, server, session, ok, peer, events };
}

/** We are the UAC: our INVITE answered 200 by the peer; `peer` is the peer's (UAS) view. */
function uacCall() {
  const host = new FakeDialogHost();
  let session: InviteSession | undefined;
  let seq = -1;
  const client = new InviteClient(host, outgoingInvite(1), {
    onAnswer: (_res, s, n) => {
      session = s;
      seq = n;
    },
    onFailure: (status) => assert.fail(`unexpected failure ${status}`),
  }, OUR_CONTACT);
  client.start();
  const invite = host.last('INVITE');
  const ok = host.reply(invite, 200, { toTag: 'peer-tag', headers: [['Contact', PEER_CONTACT]], body: SDP_ANSWER });
  assert.ok(session);
  const peer = dialogFromRequest(invite.request, 'peer-tag', PEER_CONTACT, 'confirmed');
  const events = listen(session);
  return { host, client, invite, ok, session, seq, peer, events };
}

function statusesOn(tx: FakeServerTx): number[] {
  return tx.responses.map((r) => r.status);
}

function deliver(host: FakeDialogHost, req: SipRequest): FakeServerTx {
  const tx = host.deliver(fromPeer(req));
  assert.ok(tx, `${req.method} matched no dialog`);
  return tx;
}

// ── UAS: 2xx retransmission (§13.3.1.4) ─────────────────────────────────────────

test('UAS 2xx over UDP: retransmitted at T1, 2T1, 4T1 … capped at T2, same response each time', () => {
  const c = uasCall('udp');
  c.host.clock.advance(31_999);
  const sent = c.host.responses.filter((r) => r.res.status === 200);
  assert.deepEqual(sent.map((r) => r.at), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.ok(sent.every((r) => r.res === c.ok && r.tx === c.tx));
  assert.equal(c.host.sent('BYE').length, 0);
  assert.deepEqual(c.events.terminated, []);
});

test('UAS 2xx: no ACK within 64*T1 → BYE sent and onTerminated("ack-timeout") (§13.3.1.4)', () => {
  const c = uasCall('udp');
  c.host.clock.advance(31_999);
  assert.equal(c.host.sent('BYE').length, 0);
  c.host.clock.advance(1);
  const bye = c.host.last('BYE');
  assert.equal(bye.at, 32_000, 'the BYE goes at 64*T1, not at the next retransmission slot');
  assert.equal(bye.request.to.tag, 'peer-from-tag');
  assert.equal(bye.request.from.tag, c.server.localTag);
  assert.equal(bye.request.uri, 'sip:peer@192.0.2.2:5070');
  assert.deepEqual(bye.request.getAll('route'), ['<sip:proxy.example.com;lr>']);
  assert.deepEqual(c.events.terminated, ['ack-timeout']);
  assert.equal(c.session.state, 'terminated');
  assert.equal(c.host.dialogs.size, 0, 'dialog unregistered');
  assert.equal(c.host.clock.pending(), 0, 'no timer left');
  c.host.clock.advance(60_000);
  assert.equal(c.host.responses.filter((r) => r.res.status === 200).length, 11, 'no retransmission after the end');
});

test('UAS 2xx over TCP: never retransmitted, but the 64*T1 ACK wait still ends the session', () => {
  const c = uasCall('tcp');
  c.host.clock.advance(31_999);
  assert.deepEqual(statusesOn(c.tx), [200]);
  c.host.clock.advance(1);
  assert.equal(c.host.sent('BYE').length, 1);
  assert.deepEqual(c.events.terminated, ['ack-timeout']);
});

test('UAS 2xx: the ACK stops retransmission and reaches onAck with its body', () => {
  const c = uasCall('udp');
  c.host.clock.advance(1_600); // 2xx sent at 0, 500, 1500
  const ack = c.peer.createRequest('ACK', c.invite.cseq.seq);
  ack.setBody('late answer', 'application/sdp');
  assert.equal(c.host.deliverAck(fromPeer(ack)), true);
  assert.equal(c.events.acks.length, 1);
  assert.equal(c.events.acks[0]!.body.toString(), 'late answer');
  assert.equal(c.session.remoteBody?.toString(), 'late answer');
  c.host.clock.advance(100_000);
  assert.deepEqual(statusesOn(c.tx), [200, 200, 200]);
  assert.equal(c.host.sent('BYE').length, 0);
  assert.deepEqual(c.events.terminated, []);
  assert.equal(c.host.clock.pending(), 0);
});

test('UAS 2xx: an ACK with another CSeq does not stop it; a second ACK is not reported again', () => {
  const c = uasCall('udp');
  c.host.deliverAck(fromPeer(c.peer.createRequest('ACK', c.invite.cseq.seq + 5)));
  assert.equal(c.events.acks.length, 0);
  c.host.clock.advance(500);
  assert.deepEqual(statusesOn(c.tx), [200, 200]);
  c.host.deliverAck(fromPeer(c.peer.createRequest('ACK', c.invite.cseq.seq)));
  c.host.deliverAck(fromPeer(c.peer.createRequest('ACK', c.invite.cseq.seq)));
  assert.equal(c.events.acks.length, 1);
});

test('UAS accept: 2xx with our To tag, Contact, Record-Route copied (§12.1.1) and the SDP answer', () => {
  const c = uasCall('udp');
  assert.equal(c.ok.status, 200);
  assert.equal(c.ok.to.tag, c.server.localTag);
  assert.equal(c.ok.get('contact'), OUR_CONTACT);
  assert.deepEqual(c.ok.getAll('record-route'), ['<sip:proxy.example.com;lr>']);
  assert.equal(c.ok.body.toString(), SDP_ANSWER);
  assert.equal(c.session.remoteBody?.toString(), SDP_OFFER);
  assert.equal(c.host.dialogs.size, 1);
});

// ── UAC: ACK (§13.2.2.4) ────────────────────────────────────────────────────────

test('UAC ack(seq, body): ACK with the INVITE CSeq, the tags, the body; re-sent on a stray 2xx of that CSeq only', () => {
  const c = uacCall();
  assert.equal(c.seq, 1);
  c.session.ack(c.seq, { body: 'answer-in-ack' });
  assert.equal(c.host.acks.length, 1);
  const ack = c.host.acks[0]!.ack;
  assert.deepEqual(ack.cseq, { seq: 1, method: 'ACK' });
  assert.equal(ack.to.tag, 'peer-tag');
  assert.equal(ack.from.tag, 'our-from-tag');
  assert.equal(ack.uri, 'sip:peer@192.0.2.2:5070');
  assert.equal(ack.body.toString(), 'answer-in-ack');
  assert.equal(ack.get('content-type'), 'application/sdp');
  // A retransmission of the 2xx to CSeq 1 → the same ACK again.
  c.session.handleStray2xx(c.ok);
  assert.equal(c.host.acks.length, 2);
  const again = c.host.acks[1]!.ack;
  assert.deepEqual(again.cseq, { seq: 1, method: 'ACK' });
  assert.equal(again.body.toString(), 'answer-in-ack');
  assert.equal(again.vias.length, 1, 'the re-sent ACK carries one Via, not one per sending');
  // A 2xx for another CSeq (not the one we acknowledged) → nothing.
  const other = createResponse(c.invite.request, 200, undefined, 'peer-tag');
  other.set('CSeq', '7 INVITE');
  c.session.handleStray2xx(other);
  assert.equal(c.host.acks.length, 2);
});

test('UAC: a stray 2xx before we acknowledged anything sends nothing', () => {
  const c = uacCall();
  c.session.handleStray2xx(c.ok);
  assert.equal(c.host.acks.length, 0);
});

// ── re-INVITE (§14) ─────────────────────────────────────────────────────────────

test('re-INVITE out: CSeq+1, Contact, body; 2xx → onAnswer with an ack function (ACK once), target refreshed', () => {
  const c = uacCall();
  c.session.ack(c.seq);
  const answers: SipResponse[] = [];
  let ackFn: ((b?: { body?: string }) => void) | undefined;
  c.session.reinvite({ body: 'new-offer' }, {
    onAnswer: (res, ack) => {
      answers.push(res);
      ackFn = ack;
    },
    onFailure: (s) => assert.fail(`failure ${s}`),
  });
  const re = c.host.last('INVITE');
  assert.notEqual(re, c.invite);
  assert.deepEqual(re.request.cseq, { seq: 2, method: 'INVITE' });
  assert.equal(re.request.get('contact'), OUR_CONTACT);
  assert.equal(re.request.body.toString(), 'new-offer');
  assert.equal(re.request.to.tag, 'peer-tag');
  c.host.reply(re, 100);
  assert.equal(answers.length, 0, '1xx is not an answer');
  const ok = c.host.reply(re, 200, { headers: [['Contact', '<sip:peer@198.51.100.9:5070>']], body: 'new-answer' });
  assert.equal(answers.length, 1);
  assert.equal(c.session.remoteBody?.toString(), 'new-answer');
  assert.equal(c.session.dialog.remoteTarget, 'sip:peer@198.51.100.9:5070', '§12.2: the 2xx refreshes the target');
  ackFn!();
  ackFn!();
  assert.equal(c.host.acks.length, 2, 'initial ACK + one ACK for the re-INVITE');
  const ack = c.host.acks[1]!.ack;
  assert.deepEqual(ack.cseq, { seq: 2, method: 'ACK' });
  assert.equal(ack.uri, 'sip:peer@198.51.100.9:5070');
  // A retransmitted 2xx of the re-INVITE is answered with the same ACK, not a second onAnswer.
  c.host.feed(re, ok);
  assert.equal(answers.length, 1);
  assert.equal(c.host.acks.length, 3);
  assert.deepEqual(c.host.acks[2]!.ack.cseq, { seq: 2, method: 'ACK' });
});

test('waiting out Timer M after the session ended, a re-INVITE keeps neither the handler nor the session — and still re-ACKs its 2xx', async () => {
  // The re-INVITE's transaction keeps its user for 64*T1 after the 2xx (RFC 6026 §8.4): an
  // anchored call whose re-INVITE user kept the session kept the whole call for 32 s (issue 6).
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  let handlerRef: WeakRef<object> | undefined;
  let sessionRef: WeakRef<object> | undefined;
  const { host, re, ok } = ((): { host: FakeDialogHost; re: SentRequest; ok: SipResponse } => {
    const c = uacCall();
    c.session.ack(c.seq);
    const handler: ReinviteHandler = { onAnswer: (_res, ack) => ack(), onFailure: () => {} };
    handlerRef = new WeakRef(handler);
    sessionRef = new WeakRef(c.session);
    c.session.reinvite({ body: 'new-offer' }, handler);
    const sent = c.host.last('INVITE');
    const answer = c.host.reply(sent, 200, { body: 'new-answer' });
    c.session.bye();
    // What stays is what a waiting transaction layer holds: the re-INVITE's user (and the
    // first INVITE's client); the fake host's record of the BYE goes.
    c.host.requests.splice(c.host.requests.indexOf(c.host.last('BYE')), 1);
    return { host: c.host, re: sent, ok: answer };
  })();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(handlerRef!.deref(), undefined, 'the application handler is collected');
  assert.equal(sessionRef!.deref(), undefined, 'the ended session (its dialog, the call behind it) is collected');
  const acks = host.acks.length;
  host.feed(re, ok);
  assert.equal(host.acks.length, acks + 1, 'a retransmitted 2xx of the re-INVITE still gets its ACK (§13.2.2.4)');
  assert.deepEqual(host.acks.at(-1)!.ack.cseq, { seq: 2, method: 'ACK' });
  // Timer M: the transaction is gone, the ACK is not kept any more.
  (re.user as { onTerminated?: () => void }).onTerminated?.();
  host.feed(re, ok);
  assert.equal(host.acks.length, acks + 1, 'after its transaction ended nothing is re-sent');
});

test('a re-INVITE answered after the session ended: the 2xx is still ACKed, then only the ACK is kept', () => {
  const c = uacCall();
  c.session.ack(c.seq);
  const answers: SipResponse[] = [];
  c.session.reinvite({ body: 'offer' }, { onAnswer: (res, ack) => { answers.push(res); ack(); }, onFailure: () => assert.fail('no failure') });
  const re = c.host.last('INVITE');
  c.session.bye();
  const acks = c.host.acks.length;
  const ok = c.host.reply(re, 200, { body: 'answer' });
  assert.equal(answers.length, 1, 'the pending re-INVITE still reports its answer');
  assert.equal(c.host.acks.length, acks + 1, 'every 2xx is acknowledged (§13.2.2.4)');
  c.host.feed(re, ok);
  assert.equal(c.host.acks.length, acks + 2, 'and so is its retransmission');
  assert.equal(answers.length, 1);
});

function glare(t: { mock: { method: (o: object, m: string, impl: () => number) => unknown } }, random: number, side: 'uac' | 'uas') {
  t.mock.method(Math, 'random', () => random);
  const c = side === 'uac' ? uacCall() : uasCall();
  if (side === 'uas') c.host.deliverAck(fromPeer(c.peer.createRequest('ACK', (c as ReturnType<typeof uasCall>).invite.cseq.seq)));
  const failures: number[] = [];
  c.session.reinvite({ body: 'offer' }, { onAnswer: () => {}, onFailure: (s) => failures.push(s) });
  const first = c.host.last('INVITE');
  const count = () => c.host.sent('INVITE').length;
  const before = count();
  c.host.reply(first, 491);
  assert.deepEqual(failures, [], '491 is retried, not reported');
  return { c, first, count, before };
}

test('re-INVITE 491 when we own the Call-ID (dialog UAC): retried after 2.1 s at the earliest (§14.1)', (t) => {
  const { c, first, count, before } = glare(t, 0, 'uac');
  c.host.clock.advance(2_099);
  assert.equal(count(), before);
  c.host.clock.advance(1);
  assert.equal(count(), before + 1);
  const retry = c.host.last('INVITE');
  assert.equal(retry.at, 2_100);
  assert.equal(retry.request.cseq.seq, first.request.cseq.seq + 1, 'a new transaction with a new CSeq');
  assert.equal(retry.request.body.toString(), 'offer');
});

test('re-INVITE 491 when we own the Call-ID: retried before 4 s at the latest (§14.1)', (t) => {
  const { c, count, before } = glare(t, 0.999999, 'uac');
  c.host.clock.advance(3_998);
  assert.equal(count(), before);
  c.host.clock.advance(2);
  assert.equal(count(), before + 1);
  assert.ok(c.host.last('INVITE').at < 4_000);
});

test('re-INVITE 491 when the peer owns the Call-ID (dialog UAS): retried within 0–2 s (§14.1)', (t) => {
  const low = glare(t, 0, 'uas');
  low.c.host.clock.advance(0);
  assert.equal(low.count(), low.before + 1, 'random 0 → at once');
  t.mock.restoreAll();
  const high = glare(t, 0.999999, 'uas');
  high.c.host.clock.advance(1_998);
  assert.equal(high.count(), high.before);
  high.c.host.clock.advance(1);
  assert.equal(high.count(), high.before + 1);
  assert.ok(high.c.host.last('INVITE').at < 2_000);
});

for (const status of [481, 408]) {
  test(`re-INVITE answered ${status}: the dialog is gone, the session ends (§12.2.1.2)`, () => {
    const c = uacCall();
    c.session.ack(c.seq);
    const failures: number[] = [];
    c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: (s) => failures.push(s) });
    c.host.reply(c.host.last('INVITE'), status);
    assert.deepEqual(failures, [status]);
    assert.equal(c.session.state, 'terminated');
    assert.equal(c.events.terminated.length, 1);
    assert.equal(c.host.dialogs.size, 0);
    assert.equal(c.host.sent('BYE').length, 0, 'no BYE into a dialog that no longer exists');
  });
}

test('re-INVITE transaction timeout counts as 408 (§8.1.3.1): onFailure(408) and the session ends', () => {
  const c = uacCall();
  const failures: number[] = [];
  c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: (s) => failures.push(s) });
  c.host.timeout(c.host.last('INVITE'));
  assert.deepEqual(failures, [408]);
  assert.equal(c.session.state, 'terminated');
  assert.equal(c.host.dialogs.size, 0);
});

test('re-INVITE rejected 488: the session stays as it was (§14.1), a later re-INVITE may go', () => {
  const c = uacCall();
  const failures: number[] = [];
  c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: (s) => failures.push(s) });
  c.host.reply(c.host.last('INVITE'), 488);
  assert.deepEqual(failures, [488]);
  assert.equal(c.session.state, 'confirmed');
  const n = c.host.sent('INVITE').length;
  c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: () => {} });
  assert.equal(c.host.sent('INVITE').length, n + 1);
});

test('re-INVITE after termination → onFailure(481) at once, nothing sent', () => {
  const c = uacCall();
  c.session.bye();
  const failures: number[] = [];
  const n = c.host.requests.length;
  c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: (s) => failures.push(s) });
  assert.deepEqual(failures, [481]);
  assert.equal(c.host.requests.length, n);
});

test('incoming re-INVITE while ours is pending → 491 (§14.2)', () => {
  const c = uacCall();
  c.session.handler.onReinvite = () => assert.fail('must not reach the application');
  c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: () => {} });
  const tx = deliver(c.host, c.peer.createRequest('INVITE'));
  assert.deepEqual(statusesOn(tx), [491]);
});

test('incoming re-INVITE while the previous one is unanswered → 500 with Retry-After (§14.2)', () => {
  const c = uacCall();
  const seen: IncomingReinvite[] = [];
  c.session.handler.onReinvite = (r) => seen.push(r);
  const first = deliver(c.host, c.peer.createRequest('INVITE'));
  assert.equal(seen.length, 1);
  assert.deepEqual(statusesOn(first), []);
  const second = deliver(c.host, c.peer.createRequest('INVITE'));
  assert.deepEqual(statusesOn(second), [500]);
  const retryAfter = second.responses[0]!.get('retry-after');
  assert.ok(retryAfter !== undefined && /^\d+$/.test(retryAfter) && Number(retryAfter) <= 10, `Retry-After ${retryAfter}`);
  assert.equal(seen.length, 1);
});

test('our re-INVITE while the peer\'s is unanswered waits, then goes once it is answered', () => {
  const c = uacCall();
  const seen: IncomingReinvite[] = [];
  c.session.handler.onReinvite = (r) => seen.push(r);
  deliver(c.host, c.peer.createRequest('INVITE'));
  const n = c.host.sent('INVITE').length;
  c.session.reinvite(undefined, { onAnswer: () => {}, onFailure: () => {} });
  assert.equal(c.host.sent('INVITE').length, n, 'not while theirs is pending');
  seen[0]!.respond(488);
  c.host.clock.advance(100);
  assert.equal(c.host.sent('INVITE').length, n + 1);
});

test('incoming re-INVITE: handler answers 200 → Contact, body, retransmitted until the ACK; no handler → 488', () => {
  const c = uacCall();
  c.session.ack(c.seq);
  const noHandler = deliver(c.host, c.peer.createRequest('INVITE'));
  assert.deepEqual(statusesOn(noHandler), [488]);
  c.session.handler.onReinvite = (r) => r.respond(200, { body: 'our-answer' });
  const reinvite = c.peer.createRequest('INVITE');
  reinvite.set('Contact', '<sip:peer@198.51.100.4>');
  reinvite.setBody('their-offer', 'application/sdp');
  const tx = deliver(c.host, reinvite);
  assert.deepEqual(statusesOn(tx), [200]);
  const ok = tx.responses[0]!;
  assert.equal(ok.get('contact'), OUR_CONTACT);
  assert.equal(ok.body.toString(), 'our-answer');
  assert.equal(ok.to.tag, 'our-from-tag');
  assert.equal(c.session.dialog.remoteTarget, 'sip:peer@198.51.100.4', 'the re-INVITE refreshes the target');
  assert.equal(c.session.remoteBody?.toString(), 'their-offer');
  c.host.clock.advance(500);
  assert.deepEqual(statusesOn(tx), [200, 200]);
  c.host.deliverAck(fromPeer(c.peer.createRequest('ACK', reinvite.cseq.seq)));
  assert.equal(c.events.acks.length, 1);
  c.host.clock.advance(40_000);
  assert.deepEqual(statusesOn(tx), [200, 200]);
  assert.equal(c.session.state, 'confirmed');
});

// ── BYE (§15) ───────────────────────────────────────────────────────────────────

test('BYE in → 200, onBye, onTerminated("remote-bye"), dialog unregistered (§15.1.2)', () => {
  const c = uacCall();
  c.session.ack(c.seq);
  const tx = deliver(c.host, c.peer.createRequest('BYE'));
  assert.deepEqual(statusesOn(tx), [200]);
  assert.equal(c.events.byes.length, 1);
  assert.deepEqual(c.events.terminated, ['remote-bye']);
  assert.equal(c.session.state, 'terminated');
  assert.equal(c.session.dialog.state, 'terminated');
  assert.equal(c.host.dialogs.size, 0);
});

test('BYE out → request with CSeq+1 and the tags, onTerminated("local-bye") at once, onFinal with the status', () => {
  const c = uacCall();
  c.session.ack(c.seq);
  const finals: number[] = [];
  c.session.bye((s) => finals.push(s));
  const bye = c.host.last('BYE');
  assert.deepEqual(bye.request.cseq, { seq: 2, method: 'BYE' });
  assert.equal(bye.request.to.tag, 'peer-tag');
  assert.equal(bye.request.has('contact'), false);
  assert.deepEqual(c.events.terminated, ['local-bye']);
  assert.equal(c.session.state, 'terminated');
  assert.equal(c.host.dialogs.size, 0);
  c.session.bye();
  assert.equal(c.host.sent('BYE').length, 1, 'bye() twice sends one BYE');
  c.host.reply(bye, 200);
  assert.deepEqual(finals, [200]);
  assert.deepEqual(c.events.terminated, ['local-bye'], 'told once');
});

test('BYE out that times out → onFinal(408)', () => {
  const c = uacCall();
  const finals: number[] = [];
  c.session.bye((s) => finals.push(s));
  c.host.timeout(c.host.last('BYE'));
  assert.deepEqual(finals, [408]);
});

test('a request in the dialog answered 481 or 408, or timing out, ends the session (§12.2.1.2); other failures do not', () => {
  for (const outcome of [481, 408, 'timeout'] as const) {
    const c = uacCall();
    const ended: string[] = [];
    const finals: number[] = [];
    c.session.handler = { onTerminated: (reason) => ended.push(reason) };
    c.session.request('INFO', undefined, (s) => finals.push(s));
    if (outcome === 'timeout') c.host.timeout(c.host.last('INFO'));
    else c.host.reply(c.host.last('INFO'), outcome);
    assert.deepEqual(finals, [outcome === 'timeout' ? 408 : outcome]);
    assert.equal(c.session.state, 'terminated', String(outcome));
    assert.deepEqual(ended, ['timeout']);
    assert.equal(c.host.dialogs.size, 0);
  }
  const c = uacCall();
  c.session.request('INFO');
  c.host.reply(c.host.last('INFO'), 501);
  assert.equal(c.session.state, 'confirmed');
});

test('a request reaching the usage after termination → 481', () => {
  const c = uacCall();
  c.session.bye();
  const req = fromPeer(c.peer.createRequest('INFO'));
  const tx = c.host.serverTx(req);
  c.session.handleRequest(req, tx);
  assert.deepEqual(statusesOn(tx), [481]);
});

// ── other in-dialog requests ────────────────────────────────────────────────────

test('CSeq lower than the last one → 500, and the request does not reach the handler (§12.2.2)', () => {
  const c = uacCall();
  const seen: string[] = [];
  c.session.handler.onRequest = (r) => seen.push(`${r.method} ${r.cseq.seq}`);
  c.peer.localSeq = 10;
  deliver(c.host, c.peer.createRequest('INFO')); // 11
  c.peer.localSeq = 5;
  const tx = deliver(c.host, c.peer.createRequest('INFO')); // 6
  assert.deepEqual(statusesOn(tx), [500]);
  assert.deepEqual(seen, ['INFO 11']);
});

test('REFER without an onRefer handler → 405', () => {
  const c = uacCall();
  const refer = c.peer.createRequest('REFER');
  refer.set('Refer-To', '<sip:carol@example.com>');
  assert.deepEqual(statusesOn(deliver(c.host, refer)), [405]);
});

test('without onRequest: OPTIONS and INFO 200, UPDATE without body 200, MESSAGE 405', () => {
  const c = uacCall();
  assert.deepEqual(statusesOn(deliver(c.host, c.peer.createRequest('OPTIONS'))), [200]);
  assert.deepEqual(statusesOn(deliver(c.host, c.peer.createRequest('INFO'))), [200]);
  assert.deepEqual(statusesOn(deliver(c.host, c.peer.createRequest('UPDATE'))), [200]);
  assert.deepEqual(statusesOn(deliver(c.host, c.peer.createRequest('MESSAGE'))), [405]);
  assert.equal(c.session.state, 'confirmed');
});

test('onRequest gets the other methods and answers them itself', () => {
  const c = uacCall();
  const seen: string[] = [];
  c.session.handler.onRequest = (r) => seen.push(r.method);
  const tx = deliver(c.host, c.peer.createRequest('INFO'));
  assert.deepEqual(seen, ['INFO']);
  assert.deepEqual(statusesOn(tx), [], 'the handler answers, not the session');
});

test('NOTIFY with another Event package → 489; without Event → 489 (RFC 6665 §8.2.1)', () => {
  const c = uacCall();
  const n1 = c.peer.createRequest('NOTIFY');
  n1.set('Event', 'dialog');
  n1.set('Subscription-State', 'active');
  assert.deepEqual(statusesOn(deliver(c.host, n1)), [489]);
  const n2 = c.peer.createRequest('NOTIFY');
  n2.set('Subscription-State', 'active');
  assert.deepEqual(statusesOn(deliver(c.host, n2)), [489]);
});

test('NOTIFY for a refer subscription we do not have → 481 (RFC 6665 §4.1.3)', () => {
  const c = uacCall();
  const n = c.peer.createRequest('NOTIFY');
  n.set('Event', 'refer;id=99');
  n.set('Subscription-State', 'active');
  assert.deepEqual(statusesOn(deliver(c.host, n)), [481]);
  const noId = c.peer.createRequest('NOTIFY');
  noId.set('Event', 'refer');
  noId.set('Subscription-State', 'active');
  assert.deepEqual(statusesOn(deliver(c.host, noId)), [481]);
});

test('an exception in a handler is reported, not thrown into the stack', () => {
  const c = uacCall();
  c.session.handler.onBye = () => {
    throw new Error('app bug');
  };
  const tx = deliver(c.host, c.peer.createRequest('BYE'));
  assert.deepEqual(statusesOn(tx), [200]);
  assert.equal(c.host.errors.length, 1);
  assert.match(c.host.errors[0]!.where, /onBye/);
});
