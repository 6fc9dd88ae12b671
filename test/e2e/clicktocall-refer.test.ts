/**
 * REFER mode end to end (compatibility.md "Wire behaviour", decisions.md §6), the server started
 * through its CLI, requests over XML, phones built on our own stack: the destination busy behind
 * an executed REFER, REFER refused (405, 603) or not allowed → anchored fallback, a REFER accepted
 * and never reported (408), a subscription ended without a final status, RFC 4488
 * `Refer-Sub: false` (success is the phone's BYE).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario, type TestPhone } from '../support/sip-phone.js';

const ANSWERED = ['100 - In progress', '180 Initiator Ringing initiator', '200 Initiator Connected to initiator'];

/** The REFER the initiator received from the server: right after the ACK, Refer-To the destination. */
function assertReferred(a: TestPhone, b: TestPhone): void {
  const refers = a.received('REFER');
  assert.equal(refers.length, 1);
  assert.equal(refers[0]!.referTo?.uri, b.uri);
  assert.ok(refers[0]!.referredBy, 'Referred-By is set');
  // The REFER follows the ACK of the initial INVITE.
  const order = a.seen.filter((m) => m.direction === 'in' && (m.method === 'ACK' || m.method === 'REFER')).map((m) => m.method);
  assert.deepEqual(order.slice(0, 2), ['ACK', 'REFER']);
}

test('REFER executed, destination busy: 180 then 486 Destination; the server BYEs the initiator', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, onRefer: 'execute' });
    const b = await s.phone('bob', { ring: 20, reject: 486 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [
      ...ANSWERED, '180 Destination Ringing destination', '486 Destination Failed to connect to destination',
    ]);
    assertReferred(a, b);
    // The phone's own INVITE went to the destination, which refused it.
    assert.equal(b.received('INVITE').length, 1);
    assert.equal(b.received('INVITE')[0]!.from.uri, a.uri);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
    assert.equal(a.calls[0]!.endedBy, 'remote');
  }));

test('REFER executed (the phone dials with a late offer), destination answers: 200 Destination; the phones talk, the server left', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, onRefer: 'execute', lateOffer: true });
    const b = await s.phone('bob', { ring: 20, answer: 60 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [
      ...ANSWERED, '180 Destination Ringing destination', '200 Destination Connected to destination',
    ]);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
    // alice ↔ bob directly: each holds the other's media port.
    const ab = a.calls[1]!;
    assert.equal(ab.state, 'established');
    assert.equal(b.received('INVITE')[0]!.body.length, 0);
    assert.equal(a.holdsMediaOf(ab)?.port, b.mediaPort);
    await b.waitFor(() => b.holdsMediaOf(b.calls[0])?.port === a.mediaPort, 2000, "alice's answer in the ACK");
    // The referred call is the phone's own (From alice), not the server's.
    assert.equal(b.received('INVITE')[0]!.from.uri, a.uri);
    assert.deepEqual(await a.hangup(), [200]);
  }));

for (const code of [405, 603]) {
  test(`REFER refused with ${code}: fallback event, then anchored (180, 200 Destination)`, () =>
    scenario([], async (s) => {
      const a = await s.phone('alice', { ring: 20, answer: 60, onRefer: `reject:${code}` });
      const b = await s.phone('bob', { ring: 20, answer: 60 });
      s.request(a, b);
      assert.deepEqual(await s.results(), [
        ...ANSWERED,
        `100 - REFER refused (${code}): anchoring the call`,
        '180 Destination Ringing destination',
        '200 Destination Connected to destination',
      ]);
      assertReferred(a, b);
      // decisions.md §6: after the fallback the destination sees the initiator's address as From.
      const invite = b.received('INVITE')[0]!;
      assert.equal(invite.from.uri, a.uri);
      assert.equal(invite.body.length, 0);
      assert.equal(a.holdsMediaOf()?.port, b.mediaPort);
      // The ACK carrying alice's answer may still be on its way when the final result is out.
    await b.waitFor(() => b.holdsMediaOf()?.port === a.mediaPort, 2000, "alice's answer in the ACK");
      await a.hangup();
      await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE relayed by the server');
    }));
}

test('initiator 2xx whose Allow lacks REFER: no REFER, fallback event, anchored', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, allow: 'INVITE, ACK, CANCEL, BYE, OPTIONS' });
    const b = await s.phone('bob', { ring: 20, answer: 60 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [
      ...ANSWERED,
      '100 - Phone does not allow REFER: anchoring the call',
      '180 Destination Ringing destination',
      '200 Destination Connected to destination',
    ]);
    assert.equal(a.received('REFER').length, 0);
    // The ACK carrying alice's answer may still be on its way when the final result is out.
    await b.waitFor(() => b.holdsMediaOf()?.port === a.mediaPort, 2000, "alice's answer in the ACK");
    await b.hangup();
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE relayed by the server');
  }));

test('initiator 2xx with no Allow at all: the server tries REFER (decisions.md §6)', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, allow: '', onRefer: 'accept-then-fail:480' });
    const b = await s.phone('bob', { ring: 20, answer: 60 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [...ANSWERED, '480 Destination Failed to connect to destination']);
    assertReferred(a, b);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
  }));

test('REFER accepted, no NOTIFY ever (ReferNotifyTimeout = 2): 408 Destination, BYE to the initiator', () =>
  scenario(['ReferNotifyTimeout = 2'], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, onRefer: 'accept-no-notify' });
    const b = await s.phone('bob', { answer: 20 });
    s.request(a, b);
    await s.xml.waitFor(/Connected to initiator/, 3000);
    const answeredAt = Date.now();
    assert.deepEqual(await s.results(4000), [...ANSWERED, '408 Destination Failed to connect to destination']);
    const waited = Date.now() - answeredAt;
    assert.ok(waited >= 1800 && waited < 3500, `failed after ${waited} ms, ReferNotifyTimeout is 2 s`);
    assert.equal(b.received('INVITE').length, 0);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
  }));

test('REFER subscription terminated without a final status: 408 Destination', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, onRefer: 'accept-terminate-no-final' });
    const b = await s.phone('bob', { answer: 20 });
    s.request(a, b);
    assert.deepEqual(await s.results(), [...ANSWERED, '408 Destination Failed to connect to destination']);
    await a.waitFor(() => a.received('BYE').length === 1, 3000, 'BYE from the server');
  }));

test('Refer-Sub: false (RFC 4488): the phone leaves our call once connected; that BYE is the success', () =>
  scenario(['ReferNotifyTimeout = 3'], async (s) => {
    const a = await s.phone('alice', { ring: 20, answer: 60, onRefer: 'accept-refer-sub-false' });
    const b = await s.phone('bob', { ring: 20, answer: 200 });
    s.request(a, b);
    assert.deepEqual(await s.results(2500), [...ANSWERED, '200 Destination Connected to destination']);
    assert.equal(a.received('NOTIFY').length, 0);
    assert.equal(a.sent('NOTIFY').length, 0);
    // The server's leg was ended by the phone, not by the server.
    assert.equal(a.sent('BYE').length, 1);
    assert.equal(a.received('BYE').length, 0);
    assert.equal(a.calls[1]!.state, 'established');
    await b.hangup();
  }));
