/**
 * REFER inside an INVITE dialog, both roles (RFC 3515, RFC 6665, RFC 4488): the subscriber
 * (ReferClient: REFER, 202, NOTIFYs with sipfrag, timeouts, rejections, Refer-Sub: false, the
 * subscription outliving a BYE) and the notifier (ReferNotifier: 202, NOTIFY 100 Trying … final).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../src/sip/message/index.js';
import { dialogFromRequest, dialogFromResponse } from '../../src/sip/dialog/dialog.js';
import { InviteClient } from '../../src/sip/dialog/invite-client.js';
import { InviteServer } from '../../src/sip/dialog/invite-server.js';
import type { InviteSession, SessionEndReason } from '../../src/sip/dialog/invite-session.js';
import type { ReferEnd, ReferOptions } from '../../src/sip/dialog/refer-client.js';
import type { ReferNotifier } from '../../src/sip/dialog/refer-notifier.js';
import {
  FakeDialogHost, type FakeServerTx, fromPeer, incomingInvite, OUR_CONTACT, outgoingInvite, PEER_CONTACT,
} from '../support/fake-dialog-host.js';

const TIMEOUT = 5_000;

/** An answered and acknowledged call where we were the UAC; the peer is the referee. */
function call() {
  const host = new FakeDialogHost();
  let session: InviteSession | undefined;
  new InviteClient(host, outgoingInvite(1), {
    onAnswer: (_r, s, seq) => {
      session = s;
      s.ack(seq);
    },
    onFailure: () => assert.fail('call failed'),
  }, OUR_CONTACT).start();
  const invite = host.last('INVITE');
  host.reply(invite, 200, { toTag: 'peer-tag', headers: [['Contact', PEER_CONTACT]] });
  const peer = dialogFromRequest(invite.request, 'peer-tag', PEER_CONTACT, 'confirmed');
  const terminated: SessionEndReason[] = [];
  session!.handler = { onTerminated: (r) => terminated.push(r) };
  return { host, session: session!, peer, terminated };
}

interface ReferLog {
  progress: (number | undefined)[];
  responses: number[];
  ends: ReferEnd[];
}

function refer(c: ReturnType<typeof call>, options: Partial<ReferOptions> = {}, target = 'sip:carol@example.com') {
  const log: ReferLog = { progress: [], responses: [], ends: [] };
  const client = c.session.refer(target, { notifyTimeoutMs: TIMEOUT, ...options }, {
    onResponse: (res) => log.responses.push(res.status),
    onProgress: (frag) => log.progress.push(frag?.status),
    onEnd: (e) => log.ends.push(e),
  })!;
  const sent = c.host.last('REFER');
  return { client, sent, log };
}

/** A NOTIFY from the peer for REFER `id`, as the referee sends it. */
function notify(c: ReturnType<typeof call>, id: string | undefined, state: string | undefined, frag?: string): FakeServerTx {
  const n = c.peer.createRequest('NOTIFY');
  n.set('Event', id === undefined ? 'refer' : `refer;id=${id}`);
  if (state !== undefined) n.set('Subscription-State', state);
  if (frag !== undefined) n.setBody(frag, 'message/sipfrag;version=2.0');
  const tx = c.host.deliver(fromPeer(n));
  assert.ok(tx, 'NOTIFY matched no dialog');
  return tx;
}

const statuses = (tx: FakeServerTx) => tx.responses.map((r) => r.status);

// ── subscriber: the REFER ───────────────────────────────────────────────────────

test('REFER: Refer-To in angle brackets, Referred-By, Contact, in-dialog tags and CSeq (RFC 3515 §2.4.1)', () => {
  const c = call();
  const { sent, client } = refer(c, { referredBy: '<sip:us@example.com>' });
  const req = sent.request;
  assert.equal(req.get('refer-to'), '<sip:carol@example.com>');
  assert.equal(req.referTo?.uri, 'sip:carol@example.com');
  assert.equal(req.get('referred-by'), '<sip:us@example.com>');
  assert.equal(req.get('contact'), OUR_CONTACT);
  assert.equal(req.to.tag, 'peer-tag');
  assert.deepEqual(req.cseq, { seq: 2, method: 'REFER' });
  assert.equal(client.eventId, '2');
  assert.equal(req.has('refer-sub'), false);
});

test('REFER: a target with headers (Replaces) is bracketed; an already bracketed one is kept as is', () => {
  const c = call();
  const a = refer(c, {}, 'sip:carol@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2');
  assert.equal(a.sent.request.get('refer-to'), '<sip:carol@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>');
  const b = refer(c, {}, '<sip:dave@example.com>');
  assert.equal(b.sent.request.get('refer-to'), '<sip:dave@example.com>');
});

test('REFER: a name-addr with a display name is not wrapped in a second pair of brackets', () => {
  const c = call();
  const { sent } = refer(c, {}, '"Carol" <sip:carol@example.com>');
  assert.equal(sent.request.referTo?.uri, 'sip:carol@example.com');
  assert.equal(sent.request.referTo?.displayName, 'Carol');
});

test('REFER with noSubscription: Refer-Sub: false and Supported: norefersub (RFC 4488 §4)', () => {
  const c = call();
  const { sent } = refer(c, { noSubscription: true, headers: [['X-Extra', '1']] });
  assert.equal(sent.request.get('refer-sub'), 'false');
  assert.ok(sent.request.supported.includes('norefersub'));
  assert.equal(sent.request.get('x-extra'), '1');
});

// ── subscriber: the NOTIFYs ─────────────────────────────────────────────────────

test('202, then NOTIFY 100/180/200: progress each time, each answered 200, then {final, 200}', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  assert.deepEqual(r.log.responses, [202]);
  assert.equal(r.client.state, 'accepted');
  const t1 = notify(c, '2', 'active;expires=60', 'SIP/2.0 100 Trying\r\n');
  assert.equal(r.client.state, 'active');
  const t2 = notify(c, '2', 'active;expires=60', 'SIP/2.0 180 Ringing\r\n');
  const t3 = notify(c, '2', 'terminated;reason=noresource', 'SIP/2.0 200 OK\r\n');
  assert.deepEqual([statuses(t1), statuses(t2), statuses(t3)], [[200], [200], [200]]);
  assert.deepEqual(r.log.progress, [100, 180, 200]);
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
  assert.equal(r.client.state, 'ended');
  assert.equal(c.host.clock.pending(), 0, 'the NOTIFY timer is cleared');
  // The subscription is gone: a late NOTIFY for it → 481.
  assert.deepEqual(statuses(notify(c, '2', 'terminated', 'SIP/2.0 200 OK\r\n')), [481]);
  assert.equal(r.log.ends.length, 1);
});

test('a final failure status in the sipfrag ends with {final, 486}', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  notify(c, '2', 'terminated;reason=noresource', 'SIP/2.0 486 Busy Here\r\n');
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 486, reason: 'Busy Here' }]);
});

test('LF-only sipfrag bodies (baresip: "SIP/2.0 100 Trying\\n") are read', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  notify(c, '2', 'active', 'SIP/2.0 100 Trying\n');
  notify(c, '2', 'terminated', 'SIP/2.0 200 OK\n');
  assert.deepEqual(r.log.progress, [100, 200]);
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
});

test('a NOTIFY without Subscription-State → 400, and the subscription carries on', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  const tx = notify(c, '2', undefined, 'SIP/2.0 100 Trying\r\n');
  assert.deepEqual(statuses(tx), [400]);
  assert.deepEqual(r.log.progress, []);
  notify(c, '2', 'terminated', 'SIP/2.0 200 OK\r\n');
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
});

test('Subscription-State: terminated without a final status → terminated-without-final with the reason', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  notify(c, '2', 'active', 'SIP/2.0 100 Trying\r\n');
  const tx = notify(c, '2', 'terminated;reason=timeout', 'SIP/2.0 180 Ringing\r\n');
  assert.deepEqual(statuses(tx), [200]);
  assert.deepEqual(r.log.ends, [{ kind: 'terminated-without-final', reason: 'timeout' }]);
});

test('a NOTIFY whose body is not a sipfrag status: onProgress(undefined), still answered 200', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  const tx = notify(c, '2', 'active', 'garbage');
  assert.deepEqual(statuses(tx), [200]);
  assert.deepEqual(r.log.progress, [undefined]);
  assert.deepEqual(r.log.ends, []);
});

test('no NOTIFY within notifyTimeoutMs after the 202 → timeout (FakeClock)', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  c.host.clock.advance(TIMEOUT - 1);
  assert.deepEqual(r.log.ends, []);
  c.host.clock.advance(1);
  assert.deepEqual(r.log.ends, [{ kind: 'timeout' }]);
  assert.deepEqual(statuses(notify(c, '2', 'active', 'SIP/2.0 180 Ringing\r\n')), [481], 'late NOTIFY: no subscription');
});

test('the NOTIFY timer re-arms after each non-final NOTIFY', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202); // t = 0
  c.host.clock.advance(4_000);
  notify(c, '2', 'active', 'SIP/2.0 100 Trying\r\n'); // t = 4000 → timeout at 9000
  c.host.clock.advance(4_000);
  notify(c, '2', 'active', 'SIP/2.0 180 Ringing\r\n'); // t = 8000 → timeout at 13000
  c.host.clock.advance(4_999);
  assert.deepEqual(r.log.ends, []);
  c.host.clock.advance(1);
  assert.deepEqual(r.log.ends, [{ kind: 'timeout' }]);
  assert.equal(c.host.clock.now(), 13_000);
});

test('a NOTIFY before the 202 (RFC 6665 §4.1.2.4) is taken; the 202 afterwards arms the timer', () => {
  const c = call();
  const r = refer(c);
  notify(c, '2', 'active', 'SIP/2.0 100 Trying\r\n');
  assert.deepEqual(r.log.progress, [100]);
  c.host.reply(r.sent, 202);
  assert.equal(r.client.state, 'active');
  c.host.clock.advance(TIMEOUT);
  assert.deepEqual(r.log.ends, [{ kind: 'timeout' }]);
});

for (const status of [403, 405, 501, 603]) {
  test(`REFER rejected ${status} → {rejected, ${status}} with the response`, () => {
    const c = call();
    const r = refer(c);
    const res = c.host.reply(r.sent, status);
    assert.equal(r.log.ends.length, 1);
    const end = r.log.ends[0]!;
    assert.equal(end.kind, 'rejected');
    assert.equal(end.kind === 'rejected' && end.status, status);
    assert.equal(end.kind === 'rejected' && end.response, res);
    assert.deepEqual(r.log.responses, [status]);
    assert.equal(c.host.clock.pending(), 0);
    assert.equal(c.session.state, 'confirmed', 'a refused REFER leaves the call alone');
  });
}

test('REFER transaction timeout → {rejected, 408}; transport error → {rejected, 503}', () => {
  const c = call();
  const a = refer(c);
  c.host.timeout(a.sent);
  assert.deepEqual(a.log.ends, [{ kind: 'rejected', status: 408 }]);
  const b = refer(c);
  c.host.transportError(b.sent);
  assert.deepEqual(b.log.ends, [{ kind: 'rejected', status: 503 }]);
});

test('2xx with Refer-Sub: false → no-subscription, no timer (RFC 4488 §4)', () => {
  const c = call();
  const r = refer(c, { noSubscription: true });
  c.host.reply(r.sent, 202, { headers: [['Refer-Sub', 'false']] });
  assert.deepEqual(r.log.ends, [{ kind: 'no-subscription' }]);
  assert.equal(c.host.clock.pending(), 0);
});

test('noSubscription asked but the 2xx lacks Refer-Sub: false → the peer made a subscription; NOTIFYs expected', () => {
  const c = call();
  const r = refer(c, { noSubscription: true });
  c.host.reply(r.sent, 202);
  assert.deepEqual(r.log.ends, []);
  notify(c, '2', 'terminated', 'SIP/2.0 200 OK\r\n');
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
});

test('NOTIFY without an id goes to the first REFER of the dialog (RFC 3515 §2.4.6)', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  notify(c, undefined, 'terminated', 'SIP/2.0 200 OK\r\n');
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
});

test('two REFERs in one dialog: NOTIFYs routed by Event id', () => {
  const c = call();
  const a = refer(c);
  const b = refer(c, {}, 'sip:dave@example.com');
  c.host.reply(a.sent, 202);
  c.host.reply(b.sent, 202);
  notify(c, b.client.eventId, 'terminated', 'SIP/2.0 486 Busy Here\r\n');
  assert.deepEqual(a.log.ends, []);
  assert.deepEqual(b.log.ends, [{ kind: 'final', status: 486, reason: 'Busy Here' }]);
  notify(c, a.client.eventId, 'terminated', 'SIP/2.0 200 OK\r\n');
  assert.deepEqual(a.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
});

test('remote BYE while the subscription is active: NOTIFYs still delivered, dialog released at its end (RFC 6665 §4.5.2)', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  notify(c, '2', 'active', 'SIP/2.0 100 Trying\r\n');
  const byeTx = c.host.deliver(fromPeer(c.peer.createRequest('BYE')));
  assert.deepEqual(statuses(byeTx!), [200]);
  assert.deepEqual(c.terminated, ['remote-bye']);
  assert.equal(c.host.dialogs.size, 1, 'the subscription keeps the dialog');
  // Other requests in the ended session are refused.
  assert.deepEqual(statuses(c.host.deliver(fromPeer(c.peer.createRequest('INFO')))!), [481]);
  notify(c, '2', 'active', 'SIP/2.0 180 Ringing\r\n');
  const last = notify(c, '2', 'terminated;reason=noresource', 'SIP/2.0 200 OK\r\n');
  assert.deepEqual(statuses(last), [200]);
  assert.deepEqual(r.log.progress, [100, 180, 200]);
  assert.deepEqual(r.log.ends, [{ kind: 'final', status: 200, reason: 'OK' }]);
  assert.equal(c.host.dialogs.size, 0, 'released when the subscription ended');
  assert.equal(c.host.clock.pending(), 0);
});

test('remote BYE, then the subscription times out: the dialog is released too', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  c.host.deliver(fromPeer(c.peer.createRequest('BYE')));
  assert.equal(c.host.dialogs.size, 1);
  c.host.clock.advance(TIMEOUT);
  assert.deepEqual(r.log.ends, [{ kind: 'timeout' }]);
  assert.equal(c.host.dialogs.size, 0);
});

test('local BYE while the subscription is active: the client is disposed, the dialog released', () => {
  const c = call();
  const r = refer(c);
  c.host.reply(r.sent, 202);
  c.session.bye();
  assert.deepEqual(r.log.ends, [{ kind: 'disposed' }]);
  assert.equal(c.host.dialogs.size, 0);
  assert.equal(c.host.clock.pending(), 0);
  assert.equal(c.session.refer('sip:x@example.com', { notifyTimeoutMs: 1 }, { onEnd: () => {} }), undefined);
});

// ── notifier ────────────────────────────────────────────────────────────────────

/** We are the UAS of a call; the peer sends us a REFER and we take it with `accept(opts)`. */
function referred(referHeaders: [string, string][] = [], opts?: { referSub?: boolean }) {
  const host = new FakeDialogHost();
  const invite = incomingInvite();
  const itx = host.serverTx(invite);
  const session = new InviteServer(host, invite, itx, OUR_CONTACT).accept()!;
  const peer = dialogFromResponse(invite, itx.lastResponse!, PEER_CONTACT);
  host.deliverAck(fromPeer(peer.createRequest('ACK', invite.cseq.seq)));
  let notifier: ReferNotifier | undefined;
  let referTx: FakeServerTx | undefined;
  session.handler = {
    onRefer: (_req, tx, accept) => {
      referTx = tx as unknown as FakeServerTx;
      notifier = accept(opts);
    },
  };
  const refer = peer.createRequest('REFER');
  refer.set('Refer-To', '<sip:carol@example.com>');
  for (const [k, v] of referHeaders) refer.add(k, v);
  host.deliver(fromPeer(refer));
  assert.ok(notifier && referTx);
  return { host, session, peer, refer, notifier, referTx };
}

function notifies(host: FakeDialogHost): SipRequest[] {
  return host.sent('NOTIFY').map((s) => s.request);
}

test('ReferNotifier.accept: 202 with Contact and our tag, then NOTIFY 100 Trying (RFC 3515 §2.4.4–2.4.5)', () => {
  const r = referred();
  r.notifier.accept();
  const accepted = r.referTx.responses[0]!;
  assert.equal(accepted.status, 202);
  assert.equal(accepted.get('contact'), OUR_CONTACT);
  assert.equal(accepted.has('refer-sub'), false);
  const [n] = notifies(r.host);
  assert.ok(n);
  assert.equal(n.get('subscription-state'), 'active;expires=60');
  assert.equal(n.get('event'), `refer;id=${r.refer.cseq.seq}`);
  assert.equal(n.get('content-type'), 'message/sipfrag;version=2.0');
  assert.equal(n.body.toString(), 'SIP/2.0 100 Trying\r\n');
  assert.equal(n.get('contact'), OUR_CONTACT);
  assert.equal(n.to.tag, r.peer.localTag);
  assert.equal(n.from.tag, r.session.dialog.localTag);
  assert.equal(r.notifier.state, 'active');
});

test('ReferNotifier.notify: 180 active, final 200 terminated;reason=noresource, nothing after', () => {
  const r = referred();
  r.notifier.accept();
  const finals: number[] = [];
  r.notifier.notify(180, 'Ringing');
  r.notifier.notify(200, 'OK', (s) => finals.push(s));
  r.notifier.notify(180, 'Ringing');
  const ns = notifies(r.host);
  assert.equal(ns.length, 3);
  assert.equal(ns[1]!.get('subscription-state'), 'active;expires=60');
  assert.equal(ns[1]!.body.toString(), 'SIP/2.0 180 Ringing\r\n');
  assert.equal(ns[2]!.get('subscription-state'), 'terminated;reason=noresource');
  assert.equal(ns[2]!.body.toString(), 'SIP/2.0 200 OK\r\n');
  assert.ok(ns[0]!.cseq.seq < ns[1]!.cseq.seq && ns[1]!.cseq.seq < ns[2]!.cseq.seq, 'CSeq increases');
  assert.equal(r.notifier.state, 'terminated');
  r.host.reply(r.host.last('NOTIFY'), 200);
  assert.deepEqual(finals, [200]);
});

test('ReferNotifier: a NOTIFY answered 481 ends the subscription (RFC 6665 §4.2.2); later progress is not sent', () => {
  const r = referred();
  r.notifier.accept();
  const finals: number[] = [];
  r.notifier.notify(180, 'Ringing', (s) => finals.push(s));
  r.host.reply(r.host.last('NOTIFY'), 481);
  assert.deepEqual(finals, [481]);
  assert.equal(r.notifier.state, 'terminated');
  r.notifier.notify(200, 'OK');
  assert.equal(notifies(r.host).length, 2, 'nothing after the 481');
});

test('REFER with Refer-Sub: false → 202 with Refer-Sub: false and no NOTIFY (RFC 4488 §4)', () => {
  const r = referred([['Refer-Sub', 'false'], ['Supported', 'norefersub']]);
  assert.equal(r.notifier.subscribed, false);
  r.notifier.accept();
  assert.equal(r.referTx.responses[0]!.status, 202);
  assert.equal(r.referTx.responses[0]!.get('refer-sub'), 'false');
  r.notifier.notify(200, 'OK');
  assert.deepEqual(notifies(r.host), []);
  assert.equal(r.notifier.state, 'terminated');
});

test('accept({ referSub: false }) overrides: no subscription even if the REFER did not ask', () => {
  const r = referred([], { referSub: false });
  r.notifier.accept();
  assert.equal(r.referTx.responses[0]!.get('refer-sub'), 'false');
  assert.deepEqual(notifies(r.host), []);
});

test('ReferNotifier.reject: the status, no NOTIFY ever', () => {
  const r = referred();
  r.notifier.reject(603);
  assert.equal(r.referTx.responses[0]!.status, 603);
  r.notifier.notify(100, 'Trying');
  assert.deepEqual(notifies(r.host), []);
  assert.equal(r.notifier.state, 'terminated');
});

test('the call ends (remote BYE) while we notify: the notifier stops, no NOTIFY into the ended dialog', () => {
  const r = referred();
  r.notifier.accept();
  r.host.deliver(fromPeer(r.peer.createRequest('BYE')));
  r.notifier.notify(200, 'OK');
  assert.equal(notifies(r.host).length, 1, 'only the 100 Trying sent before the BYE');
  assert.equal(r.notifier.state, 'terminated');
});
