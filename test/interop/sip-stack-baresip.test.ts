/**
 * Our SIP stack against a real phone (baresip 1.0): INVITE/180/200/ACK/BYE as UAC and as UAS,
 * and an in-dialog REFER that baresip carries out, with its NOTIFYs coming back — over UDP and
 * over TCP. Also a TLS call between two of our stacks with a certificate made by the test.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipEndpoint, type SipEndpoint } from '../../src/sip/stack/index.js';
import { CountingTimers, realTimers } from '../../src/sip/timer.js';
import type { InviteSession } from '../../src/sip/dialog/invite-session.js';
import { holdOffer } from '../../src/sdp/hold.js';
import { BaresipPhone } from '../support/baresip.js';
import { requireCommand } from '../support/prerequisites.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function ourStack(): Promise<{ ep: SipEndpoint; timers: CountingTimers; errors: unknown[] }> {
  const timers = new CountingTimers(realTimers);
  const errors: unknown[] = [];
  const ep = await startSipEndpoint({
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }],
    timers,
    timerSettings: { t1: 50, t2: 400, t4: 100, timerD: 500 },
    userAgent: 'clicktocall-test',
    onEvent: (e) => { if (e.type === 'internal-error') errors.push(e.error); },
  });
  cleanups.push(() => ep.close());
  return { ep, timers, errors };
}

async function phone(name: string, transport: 'udp' | 'tcp'): Promise<BaresipPhone> {
  const p = await BaresipPhone.start({ name, transport, timeoutSec: 60 });
  cleanups.push(() => p.stop());
  return p;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function released(s: { ep: SipEndpoint; timers: CountingTimers; errors: unknown[] }): Promise<void> {
  await waitFor(() => {
    const c = s.ep.stack.counts();
    return c.transactions === 0 && c.dialogs === 0 && s.timers.armed === 0;
  }, 8000, 'the stack to release every transaction, dialog and timer');
  assert.deepEqual(s.errors, []);
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`${transport}: we call baresip (UAC), it rings and answers, we ACK and BYE`, async () => {
    const us = await ourStack();
    const a = await phone('a', transport);
    const req = us.ep.stack.createRequest('INVITE', a.uri, '"Click-To-Call: 1002" <sip:c2c@127.0.0.1>', `<${a.uri}>`);
    req.setBody(holdOffer('c0-inactive', '127.0.0.1'), 'application/sdp');
    const seen: string[] = [];
    let session: InviteSession | undefined;
    let allow: string[] | undefined;
    us.ep.stack.invite(req, {
      onProgress: (res) => seen.push(String(res.status)),
      onAnswer: (res, s, seq) => { seen.push('200'); allow = res.allow; session = s; s.ack(seq); },
      onFailure: (status) => seen.push(`fail ${status}`),
    });
    await a.waitForEvent('CALL_ESTABLISHED', 5000);
    await waitFor(() => session !== undefined, 5000, '200 OK');
    assert.deepEqual(seen, ['180', '200']);
    assert.ok(allow?.includes('REFER'), 'baresip allows REFER');
    assert.match(session!.remoteBody!.toString(), /c=IN IP4 127\.0\.0\.1/);
    const status = await new Promise<number>((resolve) => session!.bye(resolve));
    assert.equal(status, 200);
    const closed = await a.waitForEvent('CALL_CLOSED', 5000);
    assert.equal(closed.param, 'Connection reset by peer');
    await released(us);
  });

  test(`${transport}: baresip calls us (UAS), we ring and answer, it hangs up`, async () => {
    const us = await ourStack();
    const a = await phone('a', transport);
    const port = us.ep.bound.find((b) => b.transport === transport)!.port;
    let ended = '';
    let acked = false;
    us.ep.stack.onRequest('INVITE', (req, tx) => {
      const srv = us.ep.stack.inviteServer(req, tx);
      srv.progress(180);
      const s = srv.accept({ body: holdOffer('inactive', '127.0.0.1') })!;
      s.handler = { onAck: () => { acked = true; }, onTerminated: (r) => { ended = r; } };
    });
    await a.dial(`sip:us@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`);
    await a.waitForEvent('CALL_ESTABLISHED', 5000);
    await waitFor(() => acked, 5000, 'the ACK');
    await a.hangup();
    await waitFor(() => ended !== '', 5000, 'the BYE');
    assert.equal(ended, 'remote-bye');
    await released(us);
  });

  test(`${transport}: in-dialog REFER carried out by baresip, NOTIFYs come back (LF-only sipfrag)`, async () => {
    const us = await ourStack();
    const a = await phone('a', transport);
    const b = await phone('b', transport);
    const req = us.ep.stack.createRequest('INVITE', a.uri, '"Click-To-Call: b" <sip:c2c@127.0.0.1>', `<${a.uri}>`);
    req.setBody(holdOffer('c0-inactive', '127.0.0.1'), 'application/sdp');
    let session: InviteSession | undefined;
    us.ep.stack.invite(req, {
      onAnswer: (_res, s, seq) => { session = s; s.ack(seq); },
      onFailure: (status) => assert.fail(`call failed ${status}`),
    });
    await waitFor(() => session !== undefined, 5000, 'the answer');
    const frags: number[] = [];
    let end: { kind: string; status?: number } | undefined;
    session!.refer(b.uri, { referredBy: '<sip:c2c@127.0.0.1>', notifyTimeoutMs: 5000 }, {
      onProgress: (f) => frags.push(f?.status ?? -1),
      onEnd: (e) => { end = e as typeof end; },
    });
    await b.waitForEvent('CALL_ESTABLISHED', 8000);
    await waitFor(() => end !== undefined, 8000, 'the final NOTIFY');
    assert.deepEqual(end, { kind: 'final', status: 200, reason: 'OK' });
    assert.deepEqual(frags, [100, 200]);
    const status = await new Promise<number>((resolve) => session!.bye(resolve));
    assert.equal(status, 200);
    await a.hangup().catch(() => {});
    await released(us);
  });
}

test('TLS: a call between two of our stacks with a self-signed certificate made by the test', async () => {
  requireCommand('openssl', 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'c2c-tls-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')), rejectUnauthorized: false };
  const make = async () => {
    const timers = new CountingTimers(realTimers);
    const ep = await startSipEndpoint({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0 }], tls, timers, timerSettings: { t1: 50, t2: 400, t4: 100 } });
    cleanups.push(() => ep.close());
    return { ep, timers, errors: [] as unknown[] };
  };
  const x = await make();
  const y = await make();
  let yEnded = '';
  y.ep.stack.onRequest('INVITE', (req, tx) => {
    assert.equal(req.source?.transport, 'tls');
    const s = y.ep.stack.inviteServer(req, tx).accept({ body: holdOffer('inactive', '127.0.0.1') })!;
    s.handler = { onTerminated: (r) => { yEnded = r; } };
  });
  const port = y.ep.bound[0]!.port;
  const target = `sips:y@127.0.0.1:${port}`;
  const req = x.ep.stack.createRequest('INVITE', target, '<sips:x@127.0.0.1>', `<${target}>`);
  let session: InviteSession | undefined;
  x.ep.stack.invite(req, { onAnswer: (_r, s, seq) => { session = s; s.ack(seq); }, onFailure: (st) => assert.fail(`TLS call failed ${st}`) });
  await waitFor(() => session !== undefined, 5000, 'the TLS answer');
  assert.match(session!.dialog.localContact, /^<sips:/);
  session!.bye();
  await waitFor(() => yEnded === 'remote-bye', 5000, 'BYE over TLS');
  await released(x);
  await released(y);
});
