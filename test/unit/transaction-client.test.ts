// Client transactions (RFC 3261 §17.1.1, §17.1.2, RFC 6026 §7.2), every edge on a fake clock,
// over UDP (retransmissions, non-zero wait timers) and TCP (none, zero wait timers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipRequest } from '../../src/sip/message/message.js';
import { harness, request, response, RecordingClientUser, UDP, TCP, dest } from '../support/transaction-fixtures.js';

const isInvite = (m: { isRequest: boolean }) => m instanceof SipRequest && m.method === 'INVITE';

function retransmissions(h: ReturnType<typeof harness>): number {
  return h.events.filter((e) => e.type === 'retransmission').length;
}

describe('INVITE client transaction over UDP', () => {
  it('retransmits on Timer A at 500 ms doubling, uncapped: 7 INVITEs in 32 s, then Timer B times out', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request(), UDP, user);
    assert.equal(tx.state, 'Calling');
    assert.equal(tx.isInvite, true);
    h.at(31_999);
    assert.deepEqual(h.wire.times(isInvite), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert.equal(tx.state, 'Calling');
    assert.deepEqual(user.kinds(), []);
    h.at(32_000);
    assert.equal(h.wire.requests('INVITE').length, 7, 'seven requests in 64*T1 (§17.1.1.2)');
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.equal(tx.state, 'Terminated');
    assert.equal(h.wire.requests('ACK').length, 0, 'Timer B: "MUST NOT generate an ACK"');
    assert.equal(retransmissions(h), 6);
    assert.ok(h.events.some((e) => e.type === 'timeout' && e.timer === 'B'));
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
    for (const s of h.wire.sent) assert.deepEqual(s.dest, UDP);
  });

  it('scales Timer A and B with T1', () => {
    const h = harness({ t1: 100 });
    const user = new RecordingClientUser();
    h.layer.sendRequest(request(), UDP, user);
    h.at(10_000);
    assert.deepEqual(h.wire.times(isInvite), [0, 100, 300, 700, 1500, 3100, 6300]);
    assert.equal(h.clock.now(), 10_000);
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });

  it('Calling → Proceeding on 1xx: A and B stop, every 1xx goes up, no timeout from B', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request();
    const tx = h.layer.sendRequest(req, UDP, user);
    h.at(700);
    assert.equal(h.layer.receiveResponse(response(req, 100)), tx);
    assert.equal(tx.state, 'Proceeding');
    h.layer.receiveResponse(response(req, 180));
    h.layer.receiveResponse(response(req, 183));
    h.at(120_000);
    assert.deepEqual(h.wire.times(isInvite), [0, 500], 'no retransmission after a 1xx');
    assert.deepEqual(user.kinds(), ['response 100', 'response 180', 'response 183']);
    assert.equal(tx.state, 'Proceeding', 'Timer B only applies in Calling; the TU runs Timer C');
    assert.equal(h.timers.armed, 0);
    assert.equal(h.layer.size, 1);
  });

  for (const from of ['Calling', 'Proceeding'] as const) {
    it(`${from} → Completed on 486: ACK built and sent to the same destination, Timer D 32 s`, () => {
      const h = harness();
      const user = new RecordingClientUser();
      const req = request();
      const tx = h.layer.sendRequest(req, UDP, user);
      if (from === 'Proceeding') h.layer.receiveResponse(response(req, 180));
      h.at(1000);
      const busy = response(req, 486, 'callee-tag');
      h.layer.receiveResponse(busy);
      assert.equal(tx.state, 'Completed');
      const acks = h.wire.requests('ACK');
      assert.equal(acks.length, 1);
      const ack = acks[0]!;
      // §17.1.1.3: same Request-URI, Call-ID, From, top Via (branch); To from the response; CSeq n ACK.
      assert.equal(ack.uri, req.uri);
      assert.equal(ack.callId, req.callId);
      assert.equal(ack.from.tag, req.from.tag);
      assert.equal(ack.topVia.branch, req.topVia.branch);
      assert.equal(ack.vias.length, 1);
      assert.equal(ack.to.tag, 'callee-tag');
      assert.deepEqual(ack.cseq, { seq: req.cseq.seq, method: 'ACK' });
      assert.deepEqual(h.wire.sent.at(-1)!.dest, UDP);
      assert.equal(user.events.filter((e) => e.kind === 'response' && e.status === 486).length, 1);

      // Completed: each retransmitted final re-sends the ACK and is not passed up.
      h.at(2000);
      h.layer.receiveResponse(response(req, 486, 'callee-tag'));
      h.layer.receiveResponse(response(req, 486, 'callee-tag'));
      assert.equal(h.wire.requests('ACK').length, 3);
      assert.equal(user.events.filter((e) => e.kind === 'response' && e.status === 486).length, 1);
      assert.ok(h.events.some((e) => e.type === 'retransmission' && e.method === 'ACK'));
      // No INVITE retransmission once Completed.
      const invites = h.wire.requests('INVITE').length;
      h.at(32_999);
      assert.equal(h.wire.requests('INVITE').length, invites);
      assert.equal(tx.state, 'Completed');
      h.at(33_000);
      assert.equal(tx.state, 'Terminated');
      assert.deepEqual(user.kinds().slice(-1), ['terminated']);
      assert.ok(!user.kinds().includes('timeout'));
      assert.equal(h.layer.size, 0);
      assert.equal(h.timers.armed, 0);
      assert.equal(h.layer.receiveResponse(response(req, 486, 'callee-tag')), undefined);
    });
  }

  for (const from of ['Calling', 'Proceeding'] as const) {
    it(`${from} → Accepted on 2xx (RFC 6026): passed up, no ACK, further 2xx passed up, Timer M → Terminated`, () => {
      const h = harness();
      const user = new RecordingClientUser();
      const req = request();
      const tx = h.layer.sendRequest(req, UDP, user);
      if (from === 'Proceeding') h.layer.receiveResponse(response(req, 180));
      h.at(200);
      h.layer.receiveResponse(response(req, 200, 'fork-a'));
      assert.equal(tx.state, 'Accepted');
      h.at(1000);
      h.layer.receiveResponse(response(req, 200, 'fork-a')); // retransmission
      h.layer.receiveResponse(response(req, 200, 'fork-b')); // another fork
      h.layer.receiveResponse(response(req, 180, 'fork-c')); // 1xx after a 2xx: not passed up
      h.layer.receiveResponse(response(req, 486, 'fork-d')); // non-2xx in Accepted: not passed up, no ACK
      const ups = user.events.filter((e) => e.kind === 'response' && e.status === 200);
      assert.equal(ups.length, 3);
      assert.equal(user.events.filter((e) => e.kind === 'response' && e.status === 486).length, 0);
      assert.equal(h.wire.requests('ACK').length, 0, 'the 2xx ACK is the TU\'s (§13.2.2.4)');
      assert.equal(h.wire.requests('INVITE').length, 1, 'no retransmission after the 2xx');
      h.at(200 + 32_000 - 1);
      assert.equal(tx.state, 'Accepted');
      h.at(200 + 32_000);
      assert.equal(tx.state, 'Terminated');
      assert.equal(h.layer.size, 0);
      assert.equal(h.timers.armed, 0);
      assert.equal(h.layer.receiveResponse(response(req, 200, 'fork-a')), undefined, 'a stray for the dialog layer');
    });
  }

  it('a transport error on the first send → onTransportError, Terminated', () => {
    const h = harness();
    h.wire.fail(new Error('ICMP unreachable'));
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request(), UDP, user);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('a transport error reported later for a Timer A retransmission → onTransportError, Terminated', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request(), UDP, user);
    h.wire.fail(new Error('later'), true);
    h.at(500);
    assert.equal(tx.state, 'Calling');
    h.wire.flush();
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal((user.events[0] as { error: Error }).error.message, 'later');
    assert.equal(h.timers.armed, 0);
    h.at(40_000);
    assert.equal(h.wire.requests('INVITE').length, 2);
  });

  it('a transport error sending the ACK in Completed → onTransportError, Terminated', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request();
    const tx = h.layer.sendRequest(req, UDP, user);
    h.wire.fail();
    h.layer.receiveResponse(response(req, 603));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['response 603', 'transport-error', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });
});

describe('INVITE client transaction over TCP', () => {
  it('never retransmits; Timer B still times out at 64*T1', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request({ transport: 'TCP' }), TCP, user);
    assert.deepEqual(tx.armedTimers, ['B']);
    h.at(31_999);
    assert.equal(h.wire.requests('INVITE').length, 1);
    h.at(32_000);
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.equal(retransmissions(h), 0);
    assert.equal(h.timers.armed, 0);
  });

  it('1xx → Proceeding', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ transport: 'TCP' });
    const tx = h.layer.sendRequest(req, TCP, user);
    h.layer.receiveResponse(response(req, 180));
    assert.equal(tx.state, 'Proceeding');
    assert.equal(h.timers.armed, 0);
    assert.deepEqual(user.kinds(), ['response 180']);
  });

  it('486 → ACK sent on the same connection, Timer D = 0: Terminated at once', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ transport: 'TCP' });
    const tx = h.layer.sendRequest(req, TCP, user);
    h.layer.receiveResponse(response(req, 180));
    h.layer.receiveResponse(response(req, 486));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['response 180', 'response 486', 'terminated']);
    const ack = h.wire.sent.at(-1)!;
    assert.equal((ack.message as SipRequest).method, 'ACK');
    assert.deepEqual(ack.dest, TCP);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('Calling → Completed on 302 directly: ACK sent, Terminated at once', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ transport: 'TCP' });
    const tx = h.layer.sendRequest(req, TCP, user);
    h.layer.receiveResponse(response(req, 302));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['response 302', 'terminated']);
    assert.equal(h.wire.requests('ACK').length, 1);
    assert.equal(h.timers.armed, 0);
  });

  it('2xx → Accepted; Timer M is 64*T1 on every transport', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ transport: 'TCP' });
    const tx = h.layer.sendRequest(req, TCP, user);
    h.layer.receiveResponse(response(req, 200));
    assert.equal(tx.state, 'Accepted');
    assert.deepEqual(tx.armedTimers, ['M']);
    h.layer.receiveResponse(response(req, 200));
    assert.deepEqual(user.kinds(), ['response 200', 'response 200']);
    h.at(32_000);
    assert.equal(tx.state, 'Terminated');
    assert.equal(h.timers.armed, 0);
  });

  it('transport error → onTransportError, Terminated', () => {
    const h = harness();
    const user = new RecordingClientUser();
    h.wire.fail(new Error('ECONNREFUSED'), true);
    const tx = h.layer.sendRequest(request({ transport: 'TCP' }), TCP, user);
    h.wire.flush();
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });
});

describe('non-INVITE client transaction over UDP', () => {
  const isOptions = (m: { isRequest: boolean }) => m instanceof SipRequest && m.method === 'OPTIONS';

  it('retransmits on Timer E at 500 ms, 1 s, 2 s, 4 s, 4 s … (capped at T2); Timer F times out at 32 s', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request({ method: 'OPTIONS' }), UDP, user);
    assert.equal(tx.state, 'Trying');
    assert.equal(tx.isInvite, false);
    h.at(31_999);
    const times = h.wire.times(isOptions);
    assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.deepEqual(times.slice(1).map((t, i) => t - times[i]!), [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
    h.at(32_000);
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.ok(h.events.some((e) => e.type === 'timeout' && e.timer === 'F'));
    assert.equal(retransmissions(h), 10);
    assert.equal(h.timers.armed, 0);
    assert.equal(h.layer.size, 0);
  });

  it('Trying → Proceeding on 1xx: E continues, reset with T2; F still times out', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ method: 'OPTIONS' });
    const tx = h.layer.sendRequest(req, UDP, user);
    h.at(100);
    h.layer.receiveResponse(response(req, 100));
    assert.equal(tx.state, 'Proceeding');
    h.at(31_999);
    // The E armed in Trying (T1) still fires at 500; from then on every interval is T2.
    assert.deepEqual(h.wire.times(isOptions), [0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500]);
    h.at(32_000);
    assert.deepEqual(user.kinds(), ['response 100', 'timeout', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });

  it('a 1xx after the first doublings switches to T2 at the next firing', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ method: 'OPTIONS' });
    h.layer.sendRequest(req, UDP, user);
    h.at(600); // E fired at 500 in Trying and was reset to MIN(2*T1, T2) = 1 s
    h.layer.receiveResponse(response(req, 183));
    h.at(10_000);
    assert.deepEqual(h.wire.times(isOptions), [0, 500, 1500, 5500, 9500]);
  });

  for (const from of ['Trying', 'Proceeding'] as const) {
    it(`${from} → Completed on a final: passed up once, E/F stop, Timer K = T4 → Terminated`, () => {
      const h = harness();
      const user = new RecordingClientUser();
      const req = request({ method: 'BYE' });
      const tx = h.layer.sendRequest(req, UDP, user);
      if (from === 'Proceeding') h.layer.receiveResponse(response(req, 100));
      h.at(700);
      h.layer.receiveResponse(response(req, 200));
      assert.equal(tx.state, 'Completed');
      assert.deepEqual(tx.armedTimers, ['K']);
      h.at(1000);
      h.layer.receiveResponse(response(req, 200)); // retransmission: absorbed
      h.layer.receiveResponse(response(req, 100)); // late provisional: absorbed
      assert.equal(user.events.filter((e) => e.kind === 'response' && e.status === 200).length, 1);
      h.at(5699);
      assert.equal(tx.state, 'Completed');
      assert.equal(h.wire.requests('BYE').length, 2, 'sent at 0 and 500, nothing once Completed');
      h.at(5700);
      assert.equal(tx.state, 'Terminated');
      assert.equal(user.kinds().at(-1), 'terminated');
      assert.ok(!user.kinds().includes('timeout'));
      assert.equal(h.timers.armed, 0);
      assert.equal(h.layer.size, 0);
    });
  }

  it('a transport error on a Timer E retransmission → onTransportError, Terminated', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request({ method: 'OPTIONS' }), UDP, user);
    h.wire.fail();
    h.at(500);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });
});

describe('non-INVITE client transaction over TCP', () => {
  it('never retransmits; Timer F times out at 64*T1', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const tx = h.layer.sendRequest(request({ method: 'OPTIONS', transport: 'TCP' }), TCP, user);
    assert.deepEqual(tx.armedTimers, ['F']);
    h.at(32_000);
    assert.equal(h.wire.sent.length, 1);
    assert.deepEqual(user.kinds(), ['timeout', 'terminated']);
    assert.equal(h.timers.armed, 0);
  });

  it('1xx → Proceeding, final → Completed and Timer K = 0: Terminated at once', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const req = request({ method: 'REFER', transport: 'TCP' });
    const tx = h.layer.sendRequest(req, TCP, user);
    h.layer.receiveResponse(response(req, 100));
    assert.equal(tx.state, 'Proceeding');
    h.layer.receiveResponse(response(req, 202));
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['response 100', 'response 202', 'terminated']);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('transport error → onTransportError, Terminated', () => {
    const h = harness();
    const user = new RecordingClientUser();
    h.wire.fail();
    const tx = h.layer.sendRequest(request({ method: 'OPTIONS', transport: 'TCP' }), dest('tcp'), user);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
  });
});

describe('what a client transaction keeps in its wait state', () => {
  it('non-INVITE Completed (Timer K): the request and a TU without onTerminated are let go; response copies still absorbed', () => {
    const h = harness();
    const plain = { responses: 0, onResponse() { this.responses++; }, onTimeout() {}, onTransportError() {} };
    const tx = h.layer.sendRequest(request({ method: 'BYE' }), UDP, plain);
    const sent = h.wire.requests('BYE')[0]!;
    h.layer.receiveResponse(response(sent, 200));
    assert.equal(tx.state, 'Completed');
    assert.equal(tx.holdsRequest, false);
    assert.equal(tx.method, 'BYE', 'the method stays readable');
    assert.throws(() => tx.request, /let go/);
    assert.notEqual(tx.user, plain, 'the TU is let go');
    h.layer.receiveResponse(response(sent, 200)); // a retransmitted 200: absorbed, not passed up
    assert.equal(plain.responses, 1);
    assert.deepEqual(tx.armedTimers, ['K']);
    h.at(5000);
    assert.equal(tx.state, 'Terminated');
    assert.equal(h.timers.armed, 0);
  });

  it('a TU with onTerminated is kept to hear it; an INVITE in Accepted lets its request go (the dialog layer keeps what forks need)', () => {
    const h = harness();
    const user = new RecordingClientUser();
    const bye = h.layer.sendRequest(request({ method: 'BYE' }), UDP, user);
    h.layer.receiveResponse(response(h.wire.requests('BYE')[0]!, 200));
    assert.equal(bye.user, user);
    const invite = h.layer.sendRequest(request(), UDP, new RecordingClientUser());
    h.layer.receiveResponse(response(h.wire.requests('INVITE')[0]!, 200));
    assert.equal(invite.state, 'Accepted');
    assert.equal(invite.holdsRequest, false);
    assert.equal(invite.method, 'INVITE');
    assert.throws(() => invite.request, /let go/);
    h.at(5000);
    assert.deepEqual(user.kinds(), ['response 200', 'terminated']);
  });
});

describe('retransmission timers of many client transactions', () => {
  it('share one host timer per interval: A and E still fire on time for each, and a response clears its slot', () => {
    const h = harness();
    const invites = Array.from({ length: 40 }, () => request());
    const users = invites.map(() => new RecordingClientUser());
    invites.forEach((req, i) => h.layer.sendRequest(req, UDP, users[i]!));
    h.at(100);
    const options = Array.from({ length: 40 }, () => request({ method: 'OPTIONS' }));
    for (const req of options) h.layer.sendRequest(req, UDP, new RecordingClientUser());
    // Eighty transactions, each with a retransmission timer and a 64*T1 one: the T1 queue and the
    // 64*T1 queue hold them all (issue 6: no host timer and closure per transaction).
    assert.equal(h.timers.armed, 2, 'one host timer per queue, not one per transaction');
    // Half the INVITEs get a 100 Trying: their Timer A slots are cleared, the others retransmit.
    for (const req of invites.slice(0, 20)) h.layer.receiveResponse(response(req, 100));
    h.at(499);
    assert.equal(h.wire.requests('INVITE').length, 40, 'nothing due before T1');
    h.at(500);
    assert.equal(h.wire.requests('INVITE').length, 60, 'the 20 INVITEs left in Calling are sent again at T1');
    assert.equal(h.wire.requests('OPTIONS').length, 40, 'the OPTIONS are due 100 ms later');
    h.at(600);
    assert.equal(h.wire.requests('OPTIONS').length, 80);
    h.at(1500);
    assert.equal(h.wire.requests('INVITE').length, 80, 'Timer A doubled: 2*T1 after the first retransmission');
    assert.equal(h.wire.requests('OPTIONS').length, 80, 'Timer E doubled: not before 100 + T1 + 2*T1');
    h.at(1600);
    assert.equal(h.wire.requests('OPTIONS').length, 120);
    assert.deepEqual([...new Set(h.wire.times(isInvite))], [0, 500, 1500], 'every INVITE at exactly 0, T1, 3*T1');
    assert.ok(h.timers.armed <= 4, `a handful of queues (T1, 2*T1, 4*T1, 64*T1), not ${h.timers.armed} timers`);
  });
});
