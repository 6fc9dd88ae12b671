// The transaction layer as a whole: matching (RFC 3261 §17.1.3, §17.2.3, §9.2), RFC 2543 fallback,
// misuse and failures that must not escape, and clean teardown of many transactions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { createCancel } from '../../src/sip/message/build.js';
import { TransactionLayer } from '../../src/sip/transaction/layer.js';
import { CountingTimers } from '../../src/sip/timer.js';
import type { ServerTransaction } from '../../src/sip/transaction/server-transaction.js';
import type { ClientTransactionUser, TransactionWire } from '../../src/sip/transaction/types.js';
import { FakeClock } from '../support/fake-clock.js';
import {
  harness, request, again, response, RecordingClientUser, RecordingServerUser, UDP, TCP,
} from '../support/transaction-fixtures.js';

function serverTx(r: ReturnType<TransactionLayer['receiveRequest']>): ServerTransaction {
  assert.ok(r.kind === 'new' || r.kind === 'retransmission', `expected a transaction, got ${r.kind}`);
  assert.ok(r.tx, 'a transaction object (not one waiting as a record)');
  return r.tx;
}

describe('matching responses to client transactions (§17.1.3)', () => {
  it('by top Via branch and CSeq method: a CANCEL shares the INVITE branch but is its own transaction', () => {
    const h = harness();
    const inviteUser = new RecordingClientUser();
    const cancelUser = new RecordingClientUser();
    const invite = request();
    const itx = h.layer.sendRequest(invite, UDP, inviteUser);
    h.layer.receiveResponse(response(invite, 180));
    const cancel = createCancel(invite);
    const ctx = h.layer.sendRequest(cancel, UDP, cancelUser);
    assert.notEqual(itx.id, ctx.id);
    assert.equal(h.layer.size, 2);
    assert.equal(h.layer.receiveResponse(response(cancel, 200)), ctx);
    assert.equal(h.layer.receiveResponse(response(invite, 487)), itx);
    assert.deepEqual(cancelUser.kinds().slice(0, 1), ['response 200']);
    assert.deepEqual(inviteUser.kinds().slice(0, 2), ['response 180', 'response 487']);
  });

  it('returns undefined for a response with an unknown branch, no branch, or no Via (stray)', () => {
    const h = harness();
    const req = request();
    h.layer.sendRequest(req, UDP, new RecordingClientUser());
    assert.equal(h.layer.receiveResponse(response(request(), 200)), undefined);
    const noBranch = response(request({ branch: null }), 200);
    assert.equal(h.layer.receiveResponse(noBranch), undefined);
    assert.equal(h.layer.receiveResponse(new SipResponse(200, 'OK', [])), undefined);
    const wrongMethod = response(request({ method: 'OPTIONS', branch: req.topVia.branch! }), 200);
    assert.equal(h.layer.receiveResponse(wrongMethod), undefined);
  });
});

describe('matching requests to server transactions (§17.2.3)', () => {
  it('branch + sent-by + method; ACK matches the INVITE; the same branch from another sent-by is new', () => {
    const h = harness();
    const invite = request({ branch: 'z9hG4bKshared' });
    const tx = serverTx(h.layer.receiveRequest(invite, UDP));
    assert.equal(h.layer.receiveRequest(again(invite), UDP).kind, 'retransmission');
    // sent-by host compared case-insensitively
    const upper = request({ branch: 'z9hG4bKshared', viaHost: 'CLIENT.example.COM' });
    assert.deepEqual(h.layer.receiveRequest(upper, UDP), { kind: 'retransmission', tx });
    const otherHost = request({ branch: 'z9hG4bKshared', viaHost: 'evil.example.net' });
    assert.equal(h.layer.receiveRequest(otherHost, UDP).kind, 'new');
    const otherPort = request({ branch: 'z9hG4bKshared', viaPort: 5999 });
    assert.equal(h.layer.receiveRequest(otherPort, UDP).kind, 'new');
    const otherMethod = request({ method: 'OPTIONS', branch: 'z9hG4bKshared' });
    assert.equal(h.layer.receiveRequest(otherMethod, UDP).kind, 'new');
    assert.equal(h.layer.size, 4);
    tx.respond(response(invite, 404));
    const ack = request({ method: 'ACK', branch: 'z9hG4bKshared', toTag: 'totag-1' });
    assert.deepEqual(h.layer.receiveRequest(ack, UDP), { kind: 'ack-absorbed' });
    assert.equal(tx.state, 'Confirmed');
  });

  it('an ACK matching nothing goes to the dialog layer', () => {
    const h = harness();
    assert.deepEqual(h.layer.receiveRequest(request({ method: 'ACK' }), UDP), { kind: 'ack' });
    assert.equal(h.layer.size, 0);
  });

  it('CANCEL (§9.2): its own non-INVITE transaction, and it finds the INVITE server transaction', () => {
    const h = harness();
    const invite = request({ branch: 'z9hG4bKcancelme' });
    const itx = serverTx(h.layer.receiveRequest(invite, UDP));
    const cancel = createCancel(invite);
    const r = h.layer.receiveRequest(cancel, UDP);
    assert.equal(r.kind, 'new');
    const ctx = serverTx(r);
    assert.equal(ctx.isInvite, false);
    assert.equal(h.layer.findInviteServerTransaction(cancel), itx);
    // A CANCEL from elsewhere, or for another branch, cancels nothing.
    assert.equal(h.layer.findInviteServerTransaction(request({ method: 'CANCEL', branch: 'z9hG4bKcancelme', viaHost: 'x.example' })), undefined);
    assert.equal(h.layer.findInviteServerTransaction(request({ method: 'CANCEL', branch: 'z9hG4bKother' })), undefined);
    // A non-INVITE transaction is never "found" for a CANCEL.
    const options = request({ method: 'OPTIONS', branch: 'z9hG4bKopt' });
    h.layer.receiveRequest(options, UDP);
    assert.equal(h.layer.findInviteServerTransaction(request({ method: 'CANCEL', branch: 'z9hG4bKopt' })), undefined);
    assert.equal(h.layer.findInviteServerTransaction(new SipRequest('CANCEL', 'sip:x@y', [])), undefined);
  });
});

describe('RFC 2543 fallback matching (§17.2.3, no magic cookie)', () => {
  const base = { branch: null, callId: 'old@2543', fromTag: 'f1', cseq: 7, uri: 'sip:bob@example.com' } as const;

  it('INVITE retransmission matches on Request-URI, tags, Call-ID, CSeq and top Via', () => {
    const h = harness();
    const invite = request({ ...base });
    const tx = serverTx(h.layer.receiveRequest(invite, UDP));
    assert.deepEqual(h.layer.receiveRequest(again(invite), UDP), { kind: 'retransmission', tx });
    assert.equal(h.layer.receiveRequest(request({ ...base, cseq: 8 }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ ...base, uri: 'sip:carol@example.com' }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ ...base, fromTag: 'f2' }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ ...base, viaPort: 5080 }), UDP).kind, 'new');
    // A branch without the cookie is RFC 2543 too.
    const oddBranch = request({ ...base, branch: 'abc123', callId: 'odd@2543' });
    const otx = serverTx(h.layer.receiveRequest(oddBranch, UDP));
    assert.deepEqual(h.layer.receiveRequest(again(oddBranch), UDP), { kind: 'retransmission', tx: otx });
  });

  it('ACK matches when its To tag equals the To tag of our final response; CANCEL finds the INVITE', () => {
    const h = harness();
    const invite = request({ ...base });
    const tx = serverTx(h.layer.receiveRequest(invite, UDP));
    const cancel = request({ ...base, method: 'CANCEL' });
    assert.equal(h.layer.findInviteServerTransaction(cancel), tx);
    // No final response yet: an ACK matches nothing.
    assert.deepEqual(h.layer.receiveRequest(request({ ...base, method: 'ACK', toTag: 'mine' }), UDP), { kind: 'ack' });
    tx.respond(response(invite, 486, 'mine'));
    assert.deepEqual(h.layer.receiveRequest(request({ ...base, method: 'ACK', toTag: 'other' }), UDP), { kind: 'ack' });
    assert.equal(tx.state, 'Completed');
    assert.deepEqual(h.layer.receiveRequest(request({ ...base, method: 'ACK', toTag: 'mine' }), UDP), { kind: 'ack-absorbed' });
    assert.equal(tx.state, 'Confirmed');
    h.at(5000);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
    // Released from the ACK index too: a late ACK finds nothing.
    assert.deepEqual(h.layer.receiveRequest(request({ ...base, method: 'ACK', toTag: 'mine' }), UDP), { kind: 'ack' });
  });
});

describe('misuse and failures stay inside the layer', () => {
  it('sendRequest refuses ACK, a request without an RFC 3261 branch, and a branch already in use', () => {
    const h = harness();
    const user = new RecordingClientUser();
    assert.throws(() => h.layer.sendRequest(request({ method: 'ACK' }), UDP, user), /ACK/);
    assert.throws(() => h.layer.sendRequest(request({ branch: null }), UDP, user), /z9hG4bK/);
    assert.throws(() => h.layer.sendRequest(request({ branch: 'abc' }), UDP, user), /z9hG4bK/);
    const req = request();
    h.layer.sendRequest(req, UDP, user);
    assert.throws(() => h.layer.sendRequest(req, UDP, user), /already exists/);
    assert.equal(h.layer.size, 1);
    assert.equal(h.wire.sent.length, 1);
  });

  it('a request whose Via cannot be read is reported as invalid, not thrown', () => {
    const h = harness();
    const r = h.layer.receiveRequest(new SipRequest('OPTIONS', 'sip:x@example.com', []), UDP);
    assert.equal(r.kind, 'invalid');
    assert.match((r as { error: Error }).error.message, /Via/);
    assert.equal(h.layer.size, 0);
  });

  it('a TU that throws is reported as tu-error; the transaction still ends cleanly', () => {
    const h = harness();
    const boom: ClientTransactionUser = {
      onResponse() { throw new Error('tu bug'); },
      onTimeout() { throw new Error('tu bug'); },
      onTransportError() { throw new Error('tu bug'); },
      onTerminated() { throw new Error('tu bug'); },
    };
    const a = request();
    const b = request({ method: 'OPTIONS' });
    h.layer.sendRequest(a, UDP, boom);
    h.layer.sendRequest(b, UDP, boom);
    assert.doesNotThrow(() => h.layer.receiveResponse(response(a, 486)));
    assert.equal(h.wire.requests('ACK').length, 1, 'the ACK is still sent after the TU threw');
    assert.doesNotThrow(() => h.at(40_000)); // Timer D, Timer F → onTimeout throws inside a timer
    const tuErrors = h.events.filter((e) => e.type === 'tu-error');
    assert.equal(tuErrors.length, 4); // onResponse, onTerminated (a); onTimeout, onTerminated (b)
    assert.equal((tuErrors[0] as { error: Error }).error.message, 'tu bug');
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);

    const srv = serverTx(h.layer.receiveRequest(request(), UDP));
    srv.user = { onTimeout() { throw new Error('x'); }, onTerminated() { throw new Error('y'); } };
    srv.respond(response(srv.request, 500));
    assert.doesNotThrow(() => h.at(80_000));
    assert.equal(srv.state, 'Terminated');
    assert.equal(h.timers.armed, 0);
  });

  it('a wire that throws is a transport error; an onEvent that throws is ignored', () => {
    const clock = new FakeClock();
    const timers = new CountingTimers(clock);
    const wire: TransactionWire = { send() { throw new Error('socket closed'); }, sendBytes() { throw new Error('socket closed'); } };
    const layer = new TransactionLayer({ wire, timers, onEvent: () => { throw new Error('observer bug'); } });
    const user = new RecordingClientUser();
    const tx = layer.sendRequest(request(), UDP, user);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(user.kinds(), ['transport-error', 'terminated']);
    const srvUser = new RecordingServerUser();
    const r = layer.receiveRequest(request({ method: 'OPTIONS' }), UDP);
    const stx = serverTx(r);
    stx.user = srvUser;
    assert.doesNotThrow(() => stx.respond(response(stx.request, 200)));
    assert.deepEqual(srvUser.kinds(), ['transport-error', 'terminated']);
    assert.equal(layer.size, 0);
    assert.equal(timers.armed, 0);
  });

  it('retransmission and timeout events carry method or status', () => {
    const h = harness();
    const req = request({ method: 'OPTIONS' });
    h.layer.sendRequest(req, UDP, new RecordingClientUser());
    h.at(500);
    const inv = request();
    const stx = serverTx(h.layer.receiveRequest(inv, UDP));
    stx.respond(response(inv, 486));
    h.at(1000);
    const retrans = h.events.filter((e) => e.type === 'retransmission');
    assert.deepEqual(
      retrans.map((e) => (e.type === 'retransmission' ? [e.method, e.status] : [])),
      [['OPTIONS', undefined], ['INVITE', 486]],
    );
  });
});

describe('teardown', () => {
  it('a mix of 100 transactions over UDP and TCP ends with size 0 and no armed timer', () => {
    const h = harness();
    for (let i = 0; i < 100; i++) {
      const d = i % 3 === 0 ? TCP : UDP;
      const transport = d === TCP ? 'TCP' : 'UDP';
      switch (i % 8) {
        case 0: { // INVITE client, 486
          const r = request({ transport });
          h.layer.sendRequest(r, d, new RecordingClientUser());
          h.layer.receiveResponse(response(r, 486));
          break;
        }
        case 1: { // INVITE client, 200
          const r = request({ transport });
          h.layer.sendRequest(r, d, new RecordingClientUser());
          h.layer.receiveResponse(response(r, 180));
          h.layer.receiveResponse(response(r, 200));
          break;
        }
        case 2: // INVITE client, no answer (Timer B)
          h.layer.sendRequest(request({ transport }), d, new RecordingClientUser());
          break;
        case 3: { // non-INVITE client, 200
          const r = request({ method: 'OPTIONS', transport });
          h.layer.sendRequest(r, d, new RecordingClientUser());
          h.layer.receiveResponse(response(r, 200));
          break;
        }
        case 4: // non-INVITE client, no answer (Timer F)
          h.layer.sendRequest(request({ method: 'BYE', transport }), d, new RecordingClientUser());
          break;
        case 5: { // INVITE server, 603 + ACK
          const r = request({ transport });
          const tx = serverTx(h.layer.receiveRequest(r, d));
          tx.respond(response(r, 603));
          h.layer.receiveRequest(request({ method: 'ACK', branch: r.topVia.branch!, transport }), d);
          break;
        }
        case 6: { // INVITE server, 200 (Accepted), and one never answered ACK-wise
          const r = request({ transport });
          const tx = serverTx(h.layer.receiveRequest(r, d));
          tx.respond(response(r, i % 2 ? 200 : 500));
          break;
        }
        case 7: { // non-INVITE server
          const r = request({ method: 'INFO', transport });
          const tx = serverTx(h.layer.receiveRequest(r, d));
          tx.respond(response(r, 200));
          const re = h.layer.receiveRequest(again(r), d);
          // Over TCP Timer J is 0: the transaction is gone and a (rare) retransmission is new.
          assert.equal(re.kind, d === TCP ? 'new' : 'retransmission');
          if (re.kind === 'new') re.tx.respond(response(r, 200));
          break;
        }
      }
      h.at(h.clock.now() + 37);
    }
    assert.ok(h.layer.size > 0);
    assert.ok(h.timers.armed > 0);
    h.at(h.clock.now() + 65_000);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
    assert.equal(h.clock.pending(), 0);
  });

  it('close() terminates everything at once (TUs get onTerminated, not onTimeout)', () => {
    const h = harness();
    const users = [new RecordingClientUser(), new RecordingClientUser()];
    h.layer.sendRequest(request(), UDP, users[0]!);
    h.layer.sendRequest(request({ method: 'OPTIONS' }), TCP, users[1]!);
    const stx = serverTx(h.layer.receiveRequest(request(), UDP));
    const su = new RecordingServerUser();
    stx.user = su;
    stx.respond(response(stx.request, 486));
    assert.equal(h.layer.size, 3);
    h.layer.close();
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
    for (const u of users) assert.deepEqual(u.kinds(), ['terminated']);
    assert.deepEqual(su.kinds(), ['terminated']);
    h.at(100_000);
    assert.equal(h.wire.sent.length, 4, 'nothing retransmitted after close');
  });
});
