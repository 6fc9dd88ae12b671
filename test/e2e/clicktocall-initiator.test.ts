/**
 * Click-to-call end to end, the server started through its CLI, requests over XML, phones built
 * on our own stack (test/support/sip-phone.ts): the initiator leg failing (busy, no answer with
 * the ring timeout's CANCEL, declined), and the SIP requests that belong to no call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../support/sip-phone.js';

const START = ['100 - In progress', '180 Initiator Ringing initiator'];

test('busy initiator: 486 Initiator, the destination is never called', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, reject: 486 });
    const b = await s.phone('bob', { ring: 20, answer: 50 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [...START, '486 Initiator Failed to connect to initiator']);
    assert.equal(a.received('INVITE').length, 1);
    assert.equal(b.received('INVITE').length, 0);
  }));

test('initiator does not answer (RingTimeout = 2): CANCEL on the wire, 408 Initiator', () =>
  scenario(['RingTimeout = 2'], async (s) => {
    const a = await s.phone('alice', { ring: 20 });
    const b = await s.phone('bob', { ring: 20, answer: 50 });
    const started = Date.now();
    s.request(a, b);
    assert.deepEqual(await s.results(4000), [...START, '408 Initiator Failed to connect to initiator']);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `failed after ${elapsed} ms, RingTimeout is 2 s`);
    const cancels = a.received('CANCEL');
    assert.equal(cancels.length, 1);
    assert.equal(cancels[0]!.callId, a.received('INVITE')[0]!.callId);
    assert.equal(a.calls[0]!.cancelled, true);
    assert.equal(b.received('INVITE').length, 0);
  }));

test('declined initiator: 603 Initiator', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, reject: 603 });
    const b = await s.phone('bob', { answer: 20 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [...START, '603 Initiator Failed to connect to initiator']);
    assert.equal(b.received('INVITE').length, 0);
  }));

test('an INVITE that belongs to no click-to-call is refused with 403', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', {});
    const { status, call } = await a.call(`sip:somebody@127.0.0.1:${s.server.sipPort}`);
    assert.equal(status, 403);
    assert.equal(call.state, 'failed');
  }));

test('OPTIONS to the server: 200 with Allow, Accept, Accept-Encoding, Accept-Language, Supported (RFC 3261 §11)', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', {});
    const { status, response } = await a.request('OPTIONS', `sip:clicktocall@127.0.0.1:${s.server.sipPort}`);
    assert.equal(status, 200);
    const allow = response!.allow ?? [];
    for (const m of ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REFER', 'NOTIFY']) assert.ok(allow.includes(m), `Allow lacks ${m}: ${allow}`);
    assert.match(response!.get('accept') ?? '', /application\/sdp/);
    assert.ok(response!.has('accept-encoding'));
    assert.ok(response!.has('accept-language'));
    assert.ok(response!.has('supported'));
  }));

test('the initiator\'s PBX asks for credentials (407): the SipCredential of its realm answers, the call goes on', () =>
  scenario(['SipCredential = pbx.test|alice-pbx|s3cret|127.0.0.1'], async (s) => {
    const a = await s.phone('alice', { challenge: { realm: 'pbx.test' }, ring: 20, answer: 60, onRefer: 'execute' });
    const b = await s.phone('bob', { ring: 20, reject: 486 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [
      ...START, '200 Initiator Connected to initiator', '180 Destination Ringing destination', '486 Destination Failed to connect to destination',
    ]);
    const invites = a.received('INVITE');
    assert.equal(invites.length, 2, 'the challenged INVITE, then one with credentials');
    assert.equal(invites[0]!.get('proxy-authorization'), undefined);
    const auth = invites[1]!.get('proxy-authorization') ?? '';
    assert.match(auth, /^Digest /);
    assert.match(auth, /username="alice-pbx"/);
    assert.match(auth, /realm="pbx.test"/);
    // §22.2: same Call-ID, the next CSeq.
    assert.equal(invites[1]!.callId, invites[0]!.callId);
    assert.equal(invites[1]!.cseq.seq, invites[0]!.cseq.seq + 1);
  }));

test('a 407 with no SipCredential configured is the initiator\'s final answer: 407 Initiator', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { challenge: { realm: 'pbx.test' }, ring: 20, answer: 60 });
    const b = await s.phone('bob', { answer: 20 });
    s.request(a, b);
    assert.deepEqual(await s.results(), ['100 - In progress', '407 Initiator Failed to connect to initiator']);
    assert.equal(a.received('INVITE').length, 1);
    assert.equal(b.received('INVITE').length, 0);
  }));
