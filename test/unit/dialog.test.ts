/**
 * Dialog state (RFC 3261 §12): construction from the UAC's 2xx and from the UAS's request, requests
 * built inside the dialog (§12.2.1.1, loose and strict routing), the remote CSeq check (§12.2.2)
 * and target refresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipRequest, type SipResponse } from '../../src/sip/message/index.js';
import { Dialog, dialogFromRequest, dialogFromResponse, dialogKey } from '../../src/sip/dialog/dialog.js';
import { parseRequest, wire } from '../support/fake-dialog-host.js';

const ALICE_CONTACT = '<sip:alice@192.0.2.1:5060>';
const BOB_TARGET = 'sip:bob@192.0.2.2:5070;transport=tcp';

/** The INVITE as it arrives at Bob through p1 (first, next to Alice) and then p2 (next to Bob). */
function inviteThroughProxies(): SipRequest {
  return parseRequest([
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK-p2',
    'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK-p1',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-a',
    'Max-Forwards: 68',
    // §16.6 step 4: each proxy puts its Record-Route on top; one line with two values, then one more.
    'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
    'Record-Route: <sip:p0.example.com;lr>',
    'From: "Alice" <sip:alice@example.com>;tag=a-tag',
    'To: <sip:bob@example.com>',
    'Call-ID: call-1@example.com',
    'CSeq: 17 INVITE',
    `Contact: ${ALICE_CONTACT}`,
  ]);
}

function okFromBob(invite: SipRequest): SipResponse {
  const res = createResponse(invite, 200, undefined, 'b-tag');
  res.set('Record-Route', invite.getAll('record-route'));
  res.set('Contact', `<${BOB_TARGET}>`);
  return wire(res);
}

function uacDialog(): Dialog {
  const invite = inviteThroughProxies();
  return dialogFromResponse(invite, okFromBob(invite), ALICE_CONTACT);
}

test('dialogFromResponse (UAC, §12.1.2): route set reversed, target from Contact, tags, URIs without tags, CSeq', () => {
  const invite = inviteThroughProxies();
  const d = dialogFromResponse(invite, okFromBob(invite), ALICE_CONTACT);
  assert.deepEqual(d.routeSet, ['<sip:p0.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.equal(d.remoteTarget, BOB_TARGET);
  assert.equal(d.callId, 'call-1@example.com');
  assert.equal(d.localTag, 'a-tag');
  assert.equal(d.remoteTag, 'b-tag');
  assert.equal(d.localUri, '"Alice" <sip:alice@example.com>');
  assert.equal(d.remoteUri, '<sip:bob@example.com>');
  assert.equal(d.localSeq, 17);
  assert.equal(d.remoteSeq, undefined, '§12.1.2: the remote sequence number is empty');
  assert.equal(d.isUac, true);
  assert.equal(d.state, 'confirmed');
  assert.equal(d.key, dialogKey('call-1@example.com', 'a-tag', 'b-tag'));
  assert.equal(d.localContact, ALICE_CONTACT);
});

test('dialogFromResponse: a 1xx with a To tag makes an early dialog; no Contact → the Request-URI is the target', () => {
  const invite = inviteThroughProxies();
  const ringing = createResponse(invite, 180, undefined, 'b-tag');
  const d = dialogFromResponse(invite, ringing, ALICE_CONTACT);
  assert.equal(d.state, 'early');
  assert.equal(d.remoteTarget, 'sip:bob@example.com');
  assert.deepEqual(d.routeSet, []);
});

test('dialogFromRequest (UAS, §12.1.1): Record-Route order kept, target from Contact, remote CSeq from the INVITE', () => {
  const invite = inviteThroughProxies();
  const d = dialogFromRequest(invite, 'b-tag', `<${BOB_TARGET}>`, 'confirmed');
  assert.deepEqual(d.routeSet, ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p0.example.com;lr>']);
  assert.equal(d.remoteTarget, 'sip:alice@192.0.2.1:5060');
  assert.equal(d.localTag, 'b-tag');
  assert.equal(d.remoteTag, 'a-tag');
  assert.equal(d.localUri, '<sip:bob@example.com>');
  assert.equal(d.remoteUri, '"Alice" <sip:alice@example.com>');
  assert.equal(d.remoteSeq, 17);
  assert.equal(d.localSeq, 0);
  assert.equal(d.isUac, false);
  assert.equal(d.key, dialogKey('call-1@example.com', 'b-tag', 'a-tag'));
});

test('createRequest (§12.2.1.1): CSeq increments, To/From tags, Call-ID, loose routing keeps the target as Request-URI', () => {
  const d = uacDialog();
  const bye = d.createRequest('BYE');
  assert.equal(bye.method, 'BYE');
  assert.equal(bye.uri, BOB_TARGET);
  assert.deepEqual(bye.getAll('route'), ['<sip:p0.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.equal(bye.get('from'), '"Alice" <sip:alice@example.com>;tag=a-tag');
  assert.equal(bye.get('to'), '<sip:bob@example.com>;tag=b-tag');
  assert.equal(bye.callId, 'call-1@example.com');
  assert.deepEqual(bye.cseq, { seq: 18, method: 'BYE' });
  assert.equal(bye.maxForwards, 70);
  assert.equal(d.createRequest('INFO').cseq.seq, 19);
  assert.equal(d.localSeq, 19);
  // It survives the wire: a peer can parse it.
  const again = wire(bye.prepend('Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-x'));
  assert.equal(again.to.tag, 'b-tag');
  assert.equal(again.from.tag, 'a-tag');
});

test('createRequest: ACK and CANCEL reuse the given sequence number and leave the local CSeq alone', () => {
  const d = uacDialog();
  const ack = d.createRequest('ACK', 17);
  assert.deepEqual(ack.cseq, { seq: 17, method: 'ACK' });
  const cancel = d.createRequest('CANCEL', 17);
  assert.deepEqual(cancel.cseq, { seq: 17, method: 'CANCEL' });
  assert.equal(d.localSeq, 17);
  assert.equal(d.createRequest('BYE').cseq.seq, 18);
});

test('createRequest: strict routing (first route without lr) puts it in the Request-URI and the target last (§12.2.1.1)', () => {
  const d = uacDialog();
  d.routeSet = ['<sip:strict.example.com>', '<sip:p2.example.com;lr>'];
  const bye = d.createRequest('BYE');
  assert.equal(bye.uri, 'sip:strict.example.com');
  assert.deepEqual(bye.getAll('route'), ['<sip:p2.example.com;lr>', `<${BOB_TARGET}>`]);
  // The dialog's own route set is not changed by building a request.
  assert.deepEqual(d.routeSet, ['<sip:strict.example.com>', '<sip:p2.example.com;lr>']);
});

test('createRequest: no route set → no Route header, Request-URI = remote target', () => {
  const d = uacDialog();
  d.routeSet = [];
  const bye = d.createRequest('BYE');
  assert.equal(bye.has('route'), false);
  assert.equal(bye.uri, BOB_TARGET);
});

test('createRequest: Contact only on target-refresh / subscription methods', () => {
  const d = uacDialog();
  for (const m of ['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']) {
    assert.equal(d.createRequest(m).get('contact'), ALICE_CONTACT, `${m} carries Contact`);
  }
  for (const m of ['BYE', 'INFO', 'OPTIONS', 'MESSAGE']) {
    assert.equal(d.createRequest(m).has('contact'), false, `${m} has no Contact`);
  }
  assert.equal(d.createRequest('ACK', 17).has('contact'), false);
  assert.equal(d.createRequest('CANCEL', 17).has('contact'), false);
});

function peerRequest(method: string, seq: number): SipRequest {
  return parseRequest([
    `${method} sip:alice@192.0.2.1:5060 SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bK-peer' + seq + method,
    'From: <sip:bob@example.com>;tag=b-tag',
    'To: "Alice" <sip:alice@example.com>;tag=a-tag',
    'Call-ID: call-1@example.com',
    `CSeq: ${seq} ${method}`,
    'Max-Forwards: 70',
  ]);
}

test('acceptRemoteSeq (§12.2.2): empty remote CSeq takes any; lower → false; ACK/CANCEL not checked', () => {
  const d = uacDialog();
  assert.equal(d.remoteSeq, undefined);
  assert.equal(d.acceptRemoteSeq(peerRequest('INFO', 5)), true);
  assert.equal(d.remoteSeq, 5);
  assert.equal(d.acceptRemoteSeq(peerRequest('INFO', 4)), false, 'lower than the last one: out of order');
  assert.equal(d.remoteSeq, 5, 'a rejected request does not move the remote CSeq');
  assert.equal(d.acceptRemoteSeq(peerRequest('BYE', 9)), true, 'gaps are fine');
  assert.equal(d.remoteSeq, 9);
  assert.equal(d.acceptRemoteSeq(peerRequest('ACK', 1)), true);
  assert.equal(d.acceptRemoteSeq(peerRequest('CANCEL', 2)), true);
  assert.equal(d.remoteSeq, 9, 'ACK/CANCEL do not move it either');
});

test('acceptRemoteSeq: the UAS dialog starts from the INVITE CSeq', () => {
  const d = dialogFromRequest(inviteThroughProxies(), 'b-tag', `<${BOB_TARGET}>`, 'confirmed');
  assert.equal(d.acceptRemoteSeq(peerRequest('INFO', 16)), false);
  assert.equal(d.acceptRemoteSeq(peerRequest('BYE', 18)), true);
});

test('refreshTarget (§12.2): a Contact replaces the remote target; none or a malformed one leaves it', () => {
  const d = uacDialog();
  const reinvite = peerRequest('INVITE', 20).set('Contact', '<sip:bob@198.51.100.7:5080>');
  d.refreshTarget(reinvite);
  assert.equal(d.remoteTarget, 'sip:bob@198.51.100.7:5080');
  d.refreshTarget(peerRequest('UPDATE', 21));
  assert.equal(d.remoteTarget, 'sip:bob@198.51.100.7:5080', 'no Contact: unchanged');
  const bad = peerRequest('INVITE', 22).set('Contact', '<sip:bob@x');
  assert.doesNotThrow(() => d.refreshTarget(bad));
  assert.equal(d.remoteTarget, 'sip:bob@198.51.100.7:5080', 'malformed Contact: unchanged');
  const ok = createResponse(peerRequest('INVITE', 23), 200).set('Contact', '<sip:bob@203.0.113.9>');
  d.refreshTarget(ok);
  assert.equal(d.remoteTarget, 'sip:bob@203.0.113.9');
  assert.equal(d.createRequest('BYE').uri, 'sip:bob@203.0.113.9', 'the next request goes to the new target');
});
