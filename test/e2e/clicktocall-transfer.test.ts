/**
 * Transfers during anchored calls (issue 4 §3, RFC 5589 §6.1) with phones built on our stack,
 * where baresip cannot be made to: a transferor that stays after a failed transfer (recovery),
 * a transferor that leaves early, the passthrough policy (REFER relayed to the other phone, its
 * refusal and its NOTIFYs relayed back) and the reject policy. Also REFER mode with a destination
 * that rings longer than ReferNotifyTimeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scenario, waitFor, type TestPhone } from '../support/sip-phone.js';
import type { ReferEnd } from '../../src/sip/dialog/refer-client.js';

const CONNECTED = [
  '100 - In progress', '180 Initiator Ringing initiator', '200 Initiator Connected to initiator',
  '180 Destination Ringing destination', '200 Destination Connected to destination',
];

/** The transfer events the server logged, as `kind code leg reason`. */
/**
 * The server writes its log through a buffer (log/rotating-file.ts: `minLength`): a line can
 * reach the output after what the phones saw on the wire. Wait for `count` transfer lines.
 */
async function transferEventsOnceLogged(s: { server: { output(): string } }, count: number): Promise<string[]> {
  await waitFor(() => transferEvents(s.server.output()).length >= count, 5000, `${count} transfer events in the log`);
  return transferEvents(s.server.output());
}

function transferEvents(output: string): string[] {
  return output.split('\n').filter((l) => l.includes('"kind":"transfer')).map((l) => {
    const j = JSON.parse(l) as { kind: string; code: number; leg?: string; reason?: string };
    return `${j.kind} ${j.code} ${j.leg ?? '-'}${j.reason ? ` ${j.reason}` : ''}`;
  });
}

interface ReferResult { status?: number; frags: number[]; end?: ReferEnd }

/** The phone's established call sends REFER to `target` (blind transfer). */
function transfer(p: TestPhone, target: string): ReferResult {
  const out: ReferResult = { frags: [] };
  const call = p.calls.find((c) => c.state === 'established')!;
  call.session!.refer(target, { notifyTimeoutMs: 5000 }, {
    onResponse: (res) => { out.status = res.status; },
    onProgress: (f) => out.frags.push(f?.status ?? -1),
    onEnd: (e) => { out.end = e; },
  });
  return out;
}

test('handle: the target answers; the transferee moves to it, the transferor is told 200 and released', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const c = await s.phone('carol', { ring: 10, answer: 100 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, c.uri);
    await waitFor(() => r.end !== undefined, 5000, 'the final NOTIFY at bob');
    assert.equal(r.status, 202);
    assert.deepEqual(r.frags, [100, 180, 200]);
    await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE to the transferor');
    // alice and carol hold each other's media; carol's call came with Referred-By and From alice.
    await waitFor(() => a.holdsMediaOf(a.calls[0])?.port === c.mediaPort, 3000, 'alice on carol');
    assert.equal(c.holdsMediaOf(c.calls[0])?.port, a.mediaPort);
    assert.equal(c.received('INVITE')[0]!.from.uri, a.uri);
    assert.ok(c.received('INVITE')[0]!.referredBy);
    assert.deepEqual(await transferEventsOnceLogged(s, 3), [
      'transfer-requested 202 destination handle', 'transfer-ringing 180 destination', 'transfer-connected 200 destination',
    ]);
    await a.hangup();
    await c.waitFor(() => c.received('BYE').length === 1, 3000, 'BYE to carol');
  }));

test('TransferHookTimeout = 1: a hook that never answers is given up after 1 s, not 3, and the transfer goes on as TransferPolicy (handle) says', async () => {
  // The hook reads each request and never answers.
  const hook = { asked: [] as number[], hanging: [] as ServerResponse[] };
  const receiver = createServer((req, res) => {
    hook.asked.push(Date.now());
    req.resume();
    hook.hanging.push(res);
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/transfer`;
    await scenario([`TransferHookUrl = ${url}`, 'HookSecret = transfer-hook-secret', 'TransferHookTimeout = 1'], async (s) => {
      const a = await s.phone('alice', { ring: 10, answer: 20 });
      // bob's REFER waits for its answer while the hook is asked: with T1 = 60 ms it gives up only
      // after 64×T1 = 3.84 s, so that the default wait (3 s) would show as a late 202, not a 408.
      const b = await s.phone('bob', { ring: 10, answer: 20 }, 'tcp', { t1: 60 });
      const c = await s.phone('carol', { ring: 10, answer: 100 });
      s.request(a, b, { anchor: true });
      assert.deepEqual(await s.results(), CONNECTED);
      const r = transfer(b, c.uri);
      await waitFor(() => r.end !== undefined, 8000, 'the final NOTIFY at bob');
      assert.equal(r.status, 202);
      const referSent = b.seen.find((m) => m.direction === 'out' && m.method === 'REFER' && m.status === undefined)!.at;
      const accepted = b.seen.find((m) => m.direction === 'in' && m.method === 'REFER' && m.status === 202)!.at;
      const waited = accepted - referSent;
      // Timers never fire early: not before 1 s; the default would answer at 3 s.
      assert.ok(waited >= 950 && waited < 2500, `the REFER was answered ${waited} ms after bob sent it; TransferHookTimeout is 1 s`);
      assert.equal(hook.asked.length, 1, 'the hook was asked, once');
      assert.ok(hook.asked[0]! >= referSent && hook.asked[0]! < accepted, 'while the REFER waited');
      assert.deepEqual(r.frags, [100, 180, 200]);
      await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE to the transferor');
      assert.equal(c.received('INVITE').length, 1, 'carol, the REFER\'s own target, was called');
      assert.deepEqual(await transferEventsOnceLogged(s, 3), [
        'transfer-requested 202 destination handle', 'transfer-ringing 180 destination', 'transfer-connected 200 destination',
      ]);
      assert.match(s.server.output(), /transfer hook failed: using TransferPolicy/);
      await a.hangup();
      await c.waitFor(() => c.received('BYE').length === 1, 3000, 'BYE to carol');
    });
  } finally {
    for (const res of hook.hanging) res.destroy();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
});

test('handle: the target is busy; the transferor hears 486 and the transferee is reconnected with it', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const c = await s.phone('carol', { ring: 10, reject: 486 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, c.uri);
    await waitFor(() => r.end !== undefined, 5000, 'the final NOTIFY at bob');
    assert.deepEqual(r.end, { kind: 'final', status: 486, reason: 'Transfer failed' });
    await waitFor(() => transferEvents(s.server.output()).some((e) => e.startsWith('transfer-recovered')), 5000, 'recovery');
    assert.deepEqual(transferEvents(s.server.output()), [
      'transfer-requested 202 destination handle', 'transfer-ringing 180 destination',
      'transfer-failed 486 destination target-failed', 'transfer-recovered 200 initiator',
    ]);
    // Back together: alice and bob hold each other's media again, and both calls are up.
    assert.equal(a.holdsMediaOf(a.calls[0])?.port, b.mediaPort);
    assert.equal(b.holdsMediaOf(b.calls[0])?.port, a.mediaPort);
    assert.equal(b.received('BYE').length, 0);
    await a.hangup();
    await b.waitFor(() => b.received('BYE').length === 1, 3000, 'BYE to bob');
  }));

test('handle: the transferor leaves at once and the target fails: the transferee is released, the events say so', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const c = await s.phone('carol', { ring: 10, answer: 300, reject: 603 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, c.uri);
    await waitFor(() => r.status === 202, 3000, '202');
    await b.hangup();
    await a.waitFor(() => a.received('BYE').length === 1, 5000, 'BYE to alice');
    await waitFor(() => transferEvents(s.server.output()).filter((e) => e.startsWith('transfer-failed')).length >= 2, 5000, 'both transfer-failed lines');
    const ev = transferEvents(s.server.output());
    assert.ok(ev.includes('transfer-failed 603 destination target-failed'), ev.join('; '));
    assert.ok(ev.includes('transfer-failed 603 initiator transferor-gone'), ev.join('; '));
  }));

test('passthrough: the REFER goes to the other phone; its NOTIFYs come back to the transferor', () =>
  scenario(['TransferPolicy = passthrough'], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20, onRefer: 'execute' });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const c = await s.phone('carol', { ring: 10, answer: 60 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, c.uri);
    await waitFor(() => r.end !== undefined, 5000, 'the final NOTIFY at bob');
    assert.equal(r.status, 202);
    assert.deepEqual(r.end, { kind: 'final', status: 200, reason: 'OK' });
    assert.ok(r.frags.includes(180));
    assert.equal(a.received('REFER').length, 1);
    assert.equal(a.received('REFER')[0]!.referTo?.uri, c.uri);
    assert.equal(c.received('INVITE')[0]!.from.uri, a.uri, 'alice herself calls carol');
    await a.hangup();
    await b.hangup();
  }));

test('passthrough: the other phone refuses the REFER; the transferor gets that refusal ("REFER request failure")', () =>
  scenario(['TransferPolicy = passthrough'], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20, onRefer: 'reject:603' });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, 'sip:carol@127.0.0.1:9');
    await waitFor(() => r.end !== undefined, 5000, 'the REFER answer at bob');
    assert.equal(r.status, 603);
    await a.hangup();
  }));

test('reject policy: 603, nobody is called', () =>
  scenario(['TransferPolicy = reject'], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const c = await s.phone('carol', { ring: 10, answer: 20 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, c.uri);
    await waitFor(() => r.end !== undefined, 5000, 'the REFER answer at bob');
    assert.equal(r.status, 603);
    assert.equal(c.received('INVITE').length, 0);
    await a.hangup();
  }));

test('REFER mode: a destination that rings longer than ReferNotifyTimeout still connects', () =>
  scenario(['ReferNotifyTimeout = 2', 'RingTimeout = 8'], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20, onRefer: 'execute' });
    const b = await s.phone('bob', { ring: 10, answer: 3500 });
    s.request(a, b);
    assert.deepEqual(await s.results(10_000), [
      '100 - In progress', '180 Initiator Ringing initiator', '200 Initiator Connected to initiator',
      '180 Destination Ringing destination', '200 Destination Connected to destination',
    ]);
    await a.hangup();
  }));

test('attended transfer (Refer-To with Replaces, RFC 5589 §7): bob joins alice with carol and leaves both calls', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    const c = await s.phone('carol', { ring: 10, answer: 20 });
    s.request(a, b, { anchor: true });
    await waitFor(() => s.resultsNow().filter((r) => r.startsWith('200 Destination')).length === 1, 5000, 'call 1');
    s.request(c, b, { anchor: true });
    await waitFor(() => s.resultsNow().filter((r) => r.startsWith('200 Destination')).length === 2, 5000, 'call 2');
    const [toAlice, toCarol] = b.calls.filter((x) => x.state === 'established');
    const d = toCarol!.session!.dialog;
    const replaces = encodeURIComponent(`${d.callId};to-tag=${d.remoteTag};from-tag=${d.localTag}`);
    const out: ReferResult = { frags: [] };
    toAlice!.session!.refer(`<${c.uri}?Replaces=${replaces}>`, { notifyTimeoutMs: 5000 }, {
      onResponse: (res) => { out.status = res.status; },
      onProgress: (f) => out.frags.push(f?.status ?? -1),
      onEnd: (e) => { out.end = e; },
    });
    await waitFor(() => out.end !== undefined, 5000, 'the final NOTIFY at bob');
    assert.equal(out.status, 202);
    assert.deepEqual(out.end, { kind: 'final', status: 200, reason: 'OK' });
    await b.waitFor(() => b.received('BYE').length === 2, 3000, 'BYE to bob in both calls');
    // alice and carol now hold each other's media.
    await waitFor(() => a.holdsMediaOf(a.calls[0])?.port === c.mediaPort, 3000, 'alice on carol');
    assert.equal(c.holdsMediaOf(c.calls[0])?.port, a.mediaPort);
    const ev = await transferEventsOnceLogged(s, 2);
    assert.deepEqual(ev, ['transfer-requested 202 destination attended', 'transfer-connected 200 destination attended']);
    await waitFor(() => /"kind":"completed".*"reason":"replaced"/.test(s.server.output()), 5000, 'the replaced call completed in the log');
    await a.hangup();
    await c.waitFor(() => c.received('BYE').length === 1, 3000, 'BYE to carol');
  }));

test('attended transfer naming a dialog that does not exist: 481', () =>
  scenario([], async (s) => {
    const a = await s.phone('alice', { ring: 10, answer: 20 });
    const b = await s.phone('bob', { ring: 10, answer: 20 });
    s.request(a, b, { anchor: true });
    assert.deepEqual(await s.results(), CONNECTED);
    const r = transfer(b, `<sip:carol@127.0.0.1:9?Replaces=${encodeURIComponent('nope;to-tag=1;from-tag=2')}>`);
    await waitFor(() => r.end !== undefined, 5000, 'the REFER answer');
    assert.equal(r.status, 481);
    await a.hangup();
  }));
