/**
 * Anchored mode end to end (RFC 3725 flow I; compatibility.md "Wire behaviour", decisions.md
 * §6), the server started through its CLI, requests over XML, phones built on our own stack:
 * what each leg's INVITE carries, each phone ending up with the other's media address, the late
 * offer (`HoldOffer = none`), per-leg ring timeouts, and either party's BYE ending the call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../support/sip-phone.js';

const CONNECTED = [
  '100 - In progress',
  '180 Initiator Ringing initiator',
  '200 Initiator Connected to initiator',
  '180 Destination Ringing destination',
  '200 Destination Connected to destination',
];

test('anchored: hold offer to the initiator, offerless INVITE to the destination, each phone holds the other\'s media; initiator BYE ends the destination leg', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20, answer: 60 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);

    // The initiator's INVITE: From "Click-To-Call: bob" <identity>, SDP c=0.0.0.0 a=inactive.
    const toA = a.received('INVITE')[0]!;
    assert.equal(toA.from.displayName, 'Click-To-Call: bob');
    assert.match(toA.from.uri, /^sip:clicktocall@127\.0\.0\.1:\d+$/);
    const hold = toA.body.toString();
    assert.match(hold, /^c=IN IP4 0\.0\.0\.0\r?$/m);
    assert.match(hold, /^a=inactive\r?$/m);
    assert.match(hold, /^m=audio \d+ RTP\/AVP 0\b/m);
    // The destination's INVITE: no SDP, From = the initiator's address (decisions.md §6).
    const toB = b.received('INVITE')[0]!;
    assert.equal(toB.body.length, 0);
    assert.equal(toB.from.uri, a.uri);
    assert.notEqual(toB.callId, toA.callId);

    // RFC 3725 flow I: bob offered in his 200; alice got that offer in a re-INVITE; her answer
    // reached bob in his ACK. Each holds the other's media address and port.
    await b.waitFor(() => b.calls[0]!.sdpReceived.length === 1, 2000, 'the answer in the ACK');
    assert.deepEqual(a.calls[0]!.sdpReceived.map((x) => x.via), ['invite', 'reinvite']);
    assert.deepEqual(b.calls[0]!.sdpReceived.map((x) => x.via), ['ack']);
    assert.deepEqual(a.holdsMediaOf(), { address: b.mediaAddress, port: b.mediaPort });
    assert.deepEqual(b.holdsMediaOf(), { address: a.mediaAddress, port: a.mediaPort });
    assert.doesNotMatch(a.lastSdpReceived()!, /a=inactive/);

    // The initiator hangs up: the server BYEs the destination.
    assert.deepEqual(await a.hangup(), [200]);
    await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE from the server');
    assert.equal(b.calls[0]!.endedBy, 'remote');
    assert.equal(a.received('BYE').length, 0);
    // The XML stream ended at its final result: the call's end is not on it (decisions.md §3).
    assert.deepEqual(s.resultsNow(), CONNECTED);
  }));

test('anchored, destination over TCP: a re-INVITE (hold) is relayed; the destination\'s BYE ends the initiator leg', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20, answer: 60 }, 'tcp');
    s.request(a, b, { mode: 'anchored' });
    assert.deepEqual(await s.results(), CONNECTED);
    assert.equal(b.seen.find((m) => m.method === 'INVITE')!.message.topVia.transport, 'TCP');
    assert.equal(a.holdsMediaOf()?.port, b.mediaPort);
    // The ACK carrying alice's answer may still be on its way when the final result is out.
    await b.waitFor(() => b.holdsMediaOf()?.port === a.mediaPort, 2000, "alice's answer in the ACK");
    // bob puts alice on hold: the server relays his re-INVITE to alice and her answer back.
    const held = await b.reinvite('sendonly');
    assert.equal(held.status, 200);
    assert.match(held.answer ?? '', new RegExp(`^m=audio ${a.mediaPort} `, 'm'));
    assert.match(held.answer ?? '', /^a=recvonly\r?$/m);
    assert.match(a.lastSdpReceived()!, new RegExp(`^m=audio ${b.mediaPort} `, 'm'));
    assert.match(a.lastSdpReceived()!, /^a=sendonly\r?$/m);
    assert.deepEqual(await b.hangup(), [200]);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
    assert.equal(a.calls[0]!.endedBy, 'remote');
    assert.equal(b.received('BYE').length, 0);
  }));

test('late offer (HoldOffer = none): offerless INVITE, the phone offers in its 200, the ACK answers inactive', () =>
  scenario(['HoldOffer = none'], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20, answer: 60 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const toA = a.received('INVITE')[0]!;
    assert.equal(toA.body.length, 0);
    assert.equal(toA.get('content-type'), undefined);
    // alice's 200 carried her offer; the ACK for it (CSeq of the INVITE) carries the held answer.
    const ok = a.sent('INVITE', true).find((m) => (m as { status?: number }).status === 200)!;
    assert.match(ok.body.toString(), new RegExp(`^m=audio ${a.mediaPort} `, 'm'));
    const ack = a.received('ACK').find((m) => m.cseq.seq === toA.cseq.seq)!;
    assert.match(ack.body.toString(), /^a=inactive\r?$/m);
    assert.match(ack.get('content-type') ?? '', /application\/sdp/);
    assert.deepEqual(a.calls[0]!.sdpReceived.map((x) => x.via), ['ack', 'reinvite']);
    // Then the flow goes on as usual: the phones hold each other's media.
    assert.equal(a.holdsMediaOf()?.port, b.mediaPort);
    // The ACK carrying alice's answer may still be on its way when the final result is out.
    await b.waitFor(() => b.holdsMediaOf()?.port === a.mediaPort, 2000, "alice's answer in the ACK");
    await a.hangup();
    await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE from the server');
  }));

test('ring timeouts are per leg (RingTimeout = 8): initiator rings 3 s, destination 5 s, connected', () =>
  scenario(['RingTimeout = 8'], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 3000 });
    const b = await s.phone('bob', { ring: 20, answer: 5000 });
    const started = Date.now();
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(11_000), CONNECTED);
    assert.ok(Date.now() - started >= 8000, 'the whole call took longer than one RingTimeout');
    assert.equal(a.received('CANCEL').length, 0);
    assert.equal(b.received('CANCEL').length, 0);
    assert.equal(a.holdsMediaOf()?.port, b.mediaPort);
    await b.hangup();
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
  }));

test('destination does not answer (RingTimeout = 2): CANCEL to it, 408 Destination, BYE to the initiator', () =>
  scenario(['RingTimeout = 2'], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20 });
    s.request(a, b, { anchor: true });
    await s.xml.waitFor(/Ringing destination/, 3000);
    const ringingAt = Date.now();
    assert.deepEqual(await s.results(4000), [...CONNECTED.slice(0, 4), '408 Destination Failed to connect to destination']);
    const waited = Date.now() - ringingAt;
    assert.ok(waited >= 1800 && waited < 3500, `failed after ${waited} ms of ringing, RingTimeout is 2 s`);
    assert.equal(b.received('CANCEL').length, 1);
    assert.equal(b.calls[0]!.cancelled, true);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE to the initiator');
    assert.equal(a.calls[0]!.endedBy, 'remote');
  }));

test('destination answers without an offer: the call fails (488 Destination) and both legs are ended', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20, answer: 60, sdp: 'none' });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), [...CONNECTED.slice(0, 4), '488 Destination Failed to connect to destination']);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE to the initiator');
    await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE to the destination');
    assert.equal(b.received('ACK').length, 1);
  }));

test('destination busy in anchored mode: 486 Destination, BYE to the initiator', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20, reject: 486 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), [...CONNECTED.slice(0, 4), '486 Destination Failed to connect to destination']);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE to the initiator');
  }));

test('initiator hangs up while the destination rings: CANCEL to the destination, 487 Destination', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20 });
    s.request(a, b, { anchor: true });
    await s.xml.waitFor(/Ringing destination/, 3000);
    assert.deepEqual(await a.hangup(), [200]);
    assert.deepEqual(await s.results(), [...CONNECTED.slice(0, 4), '487 Destination Failed to connect to destination']);
    await b.waitFor(() => b.calls[0]!.cancelled, 3000, 'CANCEL from the server');
    assert.equal(b.received('CANCEL').length, 1);
  }));

test('forked 2xx from the destination: the first is the call, the second is acknowledged and ended with BYE', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60 });
    const b = await s.phone('bob', { ring: 20, answer: 60, fork: true });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    assert.equal(b.calls.length, 2);
    const [first, fork] = b.calls as [typeof b.calls[0], typeof b.calls[0]];
    await b.waitFor(() => fork.state === 'ended', 3000, 'BYE for the forked dialog');
    assert.equal(fork.endedBy, 'remote');
    const bye = b.received('BYE')[0]!;
    assert.equal(bye.to.tag, fork.session!.dialog.localTag);
    assert.equal(first.state, 'established');
    await b.waitFor(() => b.holdsMediaOf(first)?.port === a.mediaPort, 2000, "alice's answer in the ACK");
    assert.equal(a.holdsMediaOf()?.port, b.mediaPort);
    await a.hangup();
    await b.waitFor(() => first.state === 'ended', 3000, 'BYE for the call');
  }));

test('MaxCallDuration: both legs of a connected anchored call get BYE when it runs out; the call completes', () =>
  scenario(['MaxCallDuration = 2'], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    s.request(a, b, { anchor: true });
    assert.equal((await s.results()).at(-1), '200 Destination Connected to destination');
    const connectedAt = Date.now();
    await a.waitFor(() => a.received('BYE').length === 1, 5000, 'BYE to alice');
    await b.waitFor(() => b.received('BYE').length === 1, 2000, 'BYE to bob');
    const after = Date.now() - connectedAt;
    assert.ok(after >= 1500 && after < 4500, `ended after ${after} ms`);
    // The log line follows the store's commit (end of the event-loop turn), not the BYEs.
    await a.waitFor(() => /"kind":"completed".*"reason":"max-duration"/.test(s.server.output()), 2000, 'the completed event in the log');
  }));
