/**
 * Two (or three) stacks talking over real loopback sockets: calls, CANCEL, rejection, REFER with
 * NOTIFYs, OPTIONS, malformed input — and every transaction, dialog and timer released after.
 * Timers are shortened (T1 = 10 ms) so that the RFC wait states end within the test.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { startSipEndpoint, type SipEndpoint } from '../../src/sip/stack/index.js';
import { CountingTimers, realTimers } from '../../src/sip/timer.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/index.js';
import { createResponse, parseMessage } from '../../src/sip/message/index.js';
import type { InviteSession } from '../../src/sip/dialog/invite-session.js';
import { findFreeSipPort } from '../support/baresip.js';

const FAST = { t1: 10, t2: 40, t4: 50, timerD: 300 };

interface Peer { ep: SipEndpoint; timers: CountingTimers; uri: (user: string) => string; errors: unknown[] }

async function peer(transport: 'udp' | 'tcp' = 'udp', extra: Partial<Parameters<typeof startSipEndpoint>[0]> = {}): Promise<Peer> {
  const timers = new CountingTimers(realTimers);
  const errors: unknown[] = [];
  const ep = await startSipEndpoint({
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }],
    timers,
    timerSettings: FAST,
    onEvent: (e) => { if (e.type === 'internal-error') errors.push(e.error); },
    ...extra,
  });
  const port = (t: string) => ep.bound.find((b) => b.transport === t)!.port;
  return {
    ep, timers, errors,
    uri: (user) => `sip:${user}@127.0.0.1:${port(transport)}${transport === 'tcp' ? ';transport=tcp' : ''}`,
  };
}

const peers: Peer[] = [];
after(async () => { for (const p of peers) await p.ep.close(); });

async function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function idle(...ps: Peer[]): Promise<void> {
  await waitFor(() => ps.every((p) => {
    const c = p.ep.stack.counts();
    return c.transactions === 0 && c.dialogs === 0 && c.inviteServers === 0 && p.timers.armed === 0;
  }), 5000, 'every transaction, dialog and timer to end');
  for (const p of ps) assert.deepEqual(p.errors, []);
}

const SDP_A = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const SDP_B = SDP_A.replace('40000', '40002');

async function basicCall(transport: 'udp' | 'tcp') {
  const a = await peer(transport); const b = await peer(transport); peers.push(a, b);
  const seen: string[] = [];
  let bSession: InviteSession | undefined;
  b.ep.stack.onRequest('INVITE', (req, tx) => {
    seen.push(`b:invite:${req.body.toString() === SDP_A}`);
    const srv = b.ep.stack.inviteServer(req, tx);
    srv.progress(180);
    setTimeout(() => {
      bSession = srv.accept({ body: SDP_B });
      bSession!.handler = {
        onAck: () => seen.push('b:ack'),
        onBye: () => seen.push('b:bye'),
      };
    }, 20);
  });
  const req = a.ep.stack.createRequest('INVITE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
  req.setBody(SDP_A, 'application/sdp');
  let aSession: InviteSession | undefined;
  a.ep.stack.invite(req, {
    onProgress: (res) => seen.push(`a:${res.status}`),
    onAnswer: (res, session, seq) => {
      seen.push(`a:200:${res.body.toString() === SDP_B}`);
      aSession = session;
      session.ack(seq);
    },
    onFailure: (status) => seen.push(`a:fail:${status}`),
  });
  await waitFor(() => seen.includes('b:ack'), 3000, 'ACK at b');
  const byeStatus = await new Promise<number>((resolve) => aSession!.bye(resolve));
  assert.equal(byeStatus, 200);
  await waitFor(() => seen.includes('b:bye'));
  assert.deepEqual(seen, ['b:invite:true', 'a:180', 'a:200:true', 'b:ack', 'b:bye']);
  assert.equal(aSession!.state, 'terminated');
  assert.equal(bSession!.state, 'terminated');
  await idle(a, b);
}

test('UDP: INVITE, 180, 200 with SDP, ACK, BYE; everything released', () => basicCall('udp'));
test('TCP: the same call over one reused connection', () => basicCall('tcp'));

test('CANCEL after ringing: 487 to the INVITE, 200 to the CANCEL (§9)', async () => {
  const a = await peer(); const b = await peer(); peers.push(a, b);
  let cancelled = false;
  b.ep.stack.onRequest('INVITE', (req, tx) => {
    const srv = b.ep.stack.inviteServer(req, tx);
    srv.onCancel = () => { cancelled = true; };
    srv.progress(180);
  });
  const req = a.ep.stack.createRequest('INVITE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
  let failure = 0;
  const client = a.ep.stack.invite(req, {
    onProgress: () => client.cancel(),
    onAnswer: () => assert.fail('must not be answered'),
    onFailure: (status) => { failure = status; },
  });
  await waitFor(() => failure !== 0);
  assert.equal(failure, 487);
  assert.equal(cancelled, true);
  await idle(a, b);
});

test('rejection: 486 reaches the UAC, the ACK is absorbed by the server transaction', async () => {
  const a = await peer(); const b = await peer(); peers.push(a, b);
  b.ep.stack.onRequest('INVITE', (req, tx) => b.ep.stack.inviteServer(req, tx).reject(486));
  const req = a.ep.stack.createRequest('INVITE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
  let failure = 0;
  a.ep.stack.invite(req, { onAnswer: () => assert.fail('no'), onFailure: (s) => { failure = s; } });
  await waitFor(() => failure !== 0);
  assert.equal(failure, 486);
  await idle(a, b);
});

test('no handler: OPTIONS answered 200 with Allow; MESSAGE 405; unknown method 501', async () => {
  const a = await peer(); const b = await peer(); peers.push(a, b);
  const results: [number, SipResponse | undefined][] = [];
  for (const m of ['OPTIONS', 'MESSAGE', 'FOOBAR']) {
    const req = a.ep.stack.createRequest(m, b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
    await new Promise<void>((resolve) => a.ep.stack.request(req, (s, res) => { results.push([s, res]); resolve(); }));
  }
  assert.deepEqual(results.map((r) => r[0]), [200, 405, 501]);
  assert.ok(results[0]![1]!.getAll('allow').includes('REFER'));
  assert.ok(results[0]![1]!.getAll('allow').includes('INVITE'));
  await idle(a, b);
});

test('in-dialog REFER: the referee calls the target and reports 100/180/200 in NOTIFYs', async () => {
  const a = await peer(); const b = await peer(); const c = await peer(); peers.push(a, b, c);
  // c answers any call after ringing.
  c.ep.stack.onRequest('INVITE', (req, tx) => {
    const srv = c.ep.stack.inviteServer(req, tx);
    srv.progress(180);
    setTimeout(() => { const s = srv.accept({ body: SDP_B }); if (s) s.handler = { onBye: () => {} }; }, 10);
  });
  // b answers a and executes REFERs by calling the Refer-To target.
  let bToC: InviteSession | undefined;
  b.ep.stack.onRequest('INVITE', (req, tx) => {
    const srv = b.ep.stack.inviteServer(req, tx);
    const session = srv.accept({ body: SDP_B })!;
    session.handler = {
      onRefer: (refer, _tx, accept) => {
        const notifier = accept();
        notifier.accept();
        const target = refer.referTo!.uri;
        const inv = b.ep.stack.createRequest('INVITE', target, '<sip:bob@127.0.0.1>', `<${target}>`);
        b.ep.stack.invite(inv, {
          onProgress: (res) => notifier.notify(res.status, res.reason),
          onAnswer: (res, s, seq) => { s.ack(seq); bToC = s; notifier.notify(200, 'OK'); },
          onFailure: (status) => notifier.notify(status, 'Failed'),
        });
      },
    };
  });
  const req = a.ep.stack.createRequest('INVITE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
  req.setBody(SDP_A, 'application/sdp');
  let aSession: InviteSession | undefined;
  a.ep.stack.invite(req, { onAnswer: (_r, s, seq) => { s.ack(seq); aSession = s; }, onFailure: () => assert.fail('call failed') });
  await waitFor(() => aSession !== undefined);
  const progress: number[] = [];
  let end: unknown;
  aSession!.refer(c.uri('carol'), { notifyTimeoutMs: 2000, referredBy: '<sip:alice@127.0.0.1>' }, {
    onProgress: (frag) => progress.push(frag?.status ?? -1),
    onEnd: (e) => { end = e; },
  });
  await waitFor(() => end !== undefined);
  assert.deepEqual(progress, [100, 180, 200]);
  assert.deepEqual(end, { kind: 'final', status: 200, reason: 'OK' });
  aSession!.bye();
  bToC!.bye();
  await idle(a, b, c);
});

test('out-of-dialog REFER: 202 creates the subscription, NOTIFYs come back', async () => {
  const a = await peer(); const b = await peer(); peers.push(a, b);
  b.ep.stack.onRequest('REFER', (req, tx) => {
    const n = b.ep.stack.referNotifier(req, tx);
    n.accept();
    setTimeout(() => n.notify(180, 'Ringing'), 5);
    setTimeout(() => n.notify(486, 'Busy Here'), 10);
  });
  const req = a.ep.stack.createRequest('REFER', b.uri('bob'), '<sip:app@127.0.0.1>', `<${b.uri('bob')}>`);
  const progress: number[] = [];
  let end: unknown;
  a.ep.stack.refer(req, 'sip:carol@127.0.0.1', { notifyTimeoutMs: 2000 }, {
    onProgress: (f) => progress.push(f?.status ?? -1),
    onEnd: (e) => { end = e; },
  });
  await waitFor(() => end !== undefined);
  assert.deepEqual(progress, [100, 180, 486]);
  assert.deepEqual(end, { kind: 'final', status: 486, reason: 'Busy Here' });
  await idle(a, b);
});

test('malformed request over UDP: 400 naming the defect; garbage is dropped and counted', async () => {
  const b = await peer(); peers.push(b);
  const port = b.ep.bound.find((x) => x.transport === 'udp')!.port;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const answers: SipResponse[] = [];
  sock.on('message', (d) => answers.push(parseMessage(d) as SipResponse));
  const bad = [
    `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bKbad1`,
    'From: <sip:x@127.0.0.1>;tag=1', `To: <sip:bob@127.0.0.1:${port}>`, 'Call-ID: bad1', 'CSeq: 1 BYE',
    'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n');
  sock.send(bad, port, '127.0.0.1');
  sock.send(Buffer.from([0, 1, 2, 3, 255, 254]), port, '127.0.0.1');
  await waitFor(() => answers.length === 1 && b.ep.stack.counters.parseErrors === 2);
  assert.equal(answers[0]!.status, 400);
  assert.match(answers[0]!.reason, /CSeq method/);
  assert.equal(b.ep.stack.counters.dropped, 1);
  sock.close();
  await idle(b);
});

test('401 challenge: the UAC re-sends with digest credentials, same Call-ID, next CSeq (§22.2)', async () => {
  const { DigestServer } = await import('../../src/sip/digest/index.js');
  const realms: string[] = [];
  const a = await peer('udp', {
    credentialFor: (realm) => { realms.push(realm); return realm === 'pbx.test' ? { username: 'alice', password: 's3cret' } : undefined; },
  });
  const b = await peer(); peers.push(a, b);
  const digest = new DigestServer({ realm: 'pbx.test', nonceTtlMs: 60_000, algorithms: ['SHA-256', 'MD5'], now: Date.now, maxTrackedNonces: 100 });
  const seen: { cseq: number; callId: string; auth: boolean }[] = [];
  b.ep.stack.onRequest('INVITE', (req, tx) => {
    const srv = b.ep.stack.inviteServer(req, tx);
    seen.push({ cseq: req.cseq.seq, callId: req.callId, auth: req.has('authorization') });
    const check = digest.verify(req.getAll('authorization'), { method: 'INVITE', uri: req.uri, lookupPassword: (u) => (u === 'alice' ? 's3cret' : undefined) });
    if (!check.ok) {
      srv.reject(401, undefined, digest.challenge().map((c) => ['WWW-Authenticate', c] as [string, string]));
      return;
    }
    const s = srv.accept({ body: SDP_B });
    if (s) s.handler = { onBye: () => {} };
  });
  const req = a.ep.stack.createRequest('INVITE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
  req.setBody(SDP_A, 'application/sdp');
  let session: InviteSession | undefined;
  a.ep.stack.invite(req, { onAnswer: (_r, s, seq) => { s.ack(seq); session = s; }, onFailure: (st) => assert.fail(`failed ${st}`) });
  await waitFor(() => session !== undefined);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map((x) => x.auth), [false, true]);
  assert.equal(seen[1]!.cseq, seen[0]!.cseq + 1);
  assert.equal(seen[1]!.callId, seen[0]!.callId);
  assert.deepEqual(realms, ['pbx.test']);
  session!.bye();
  await idle(a, b);
});

test('a challenge for a realm we hold no credentials for is a failure', async () => {
  const a = await peer('udp', { credentialFor: () => undefined });
  const b = await peer(); peers.push(a, b);
  b.ep.stack.onRequest('INVITE', (req, tx) => b.ep.stack.inviteServer(req, tx).reject(407, undefined, [['Proxy-Authenticate', 'Digest realm="other", nonce="abc", qop="auth"']]));
  const req = a.ep.stack.createRequest('INVITE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
  let failure = 0;
  a.ep.stack.invite(req, { onAnswer: () => assert.fail('no'), onFailure: (s) => { failure = s; } });
  await waitFor(() => failure !== 0);
  assert.equal(failure, 407);
  await idle(a, b);
});

test('outbound proxy: an out-of-dialog request goes to the proxy with a pre-loaded loose Route', async () => {
  const proxy = await peer(); peers.push(proxy);
  const proxyPort = proxy.ep.bound.find((x) => x.transport === 'udp')!.port;
  const a = await peer('udp', { outboundProxy: `sip:127.0.0.1:${proxyPort}` }); peers.push(a);
  let seen: SipRequest | undefined;
  proxy.ep.stack.onRequest('OPTIONS', (req, tx) => {
    seen = req;
    proxy.ep.stack.respond(tx, proxy.ep.stack.optionsResponse(req));
  });
  // The Request-URI names a host nobody resolves: only the Route makes it reach the proxy.
  const req = a.ep.stack.createRequest('OPTIONS', 'sip:carol@pbx.example.test', '<sip:alice@127.0.0.1>', '<sip:carol@pbx.example.test>');
  const status = await new Promise<number>((resolve) => a.ep.stack.request(req, (s) => resolve(s)));
  assert.equal(status, 200);
  assert.equal(seen?.uri, 'sip:carol@pbx.example.test');
  assert.equal(seen?.get('route'), `<sip:127.0.0.1:${proxyPort};lr>`);
  await idle(a, proxy);
});

test('RFC 3263 §4.3 failover: a 503 from the first target sends the request to the next one', async () => {
  const first = await peer(); const second = await peer(); peers.push(first, second);
  const port = (p: Peer) => p.ep.bound.find((x) => x.transport === 'udp')!.port;
  const a = await peer('udp', {
    locate: async () => [
      { transport: 'udp', address: '127.0.0.1', port: port(first) },
      { transport: 'udp', address: '127.0.0.1', port: port(second) },
    ],
  });
  peers.push(a);
  const hits: string[] = [];
  first.ep.stack.onRequest('OPTIONS', (req, tx) => { hits.push('first'); first.ep.stack.respond(tx, createResponse(req, 503)); });
  second.ep.stack.onRequest('OPTIONS', (req, tx) => { hits.push('second'); second.ep.stack.respond(tx, second.ep.stack.optionsResponse(req)); });
  const req = a.ep.stack.createRequest('OPTIONS', 'sip:svc@pbx.example.test', '<sip:alice@127.0.0.1>', '<sip:svc@pbx.example.test>');
  const status = await new Promise<number>((resolve) => a.ep.stack.request(req, (s) => resolve(s)));
  assert.equal(status, 200);
  assert.deepEqual(hits, ['first', 'second']);
  await idle(a, first, second);
});

test('§18.1.1: a request over 1300 bytes goes over TCP (Via says TCP); a small one stays on UDP', async () => {
  // The receiver listens on UDP and TCP on the same port, as a SIP URI without transport implies.
  const port = await findFreeSipPort();
  const a = await peer();
  const b = await peer('udp', { listeners: [{ transport: 'udp', address: '127.0.0.1', port }, { transport: 'tcp', address: '127.0.0.1', port }] });
  peers.push(a, b);
  const seen: { transport: string; via: string; size: number }[] = [];
  b.ep.stack.onRequest('MESSAGE', (req, tx) => {
    seen.push({ transport: req.source!.transport, via: req.topVia.transport, size: req.body.length });
    b.ep.stack.respond(tx, createResponse(req, 200));
  });
  for (const size of [100, 2000]) {
    const req = a.ep.stack.createRequest('MESSAGE', b.uri('bob'), '<sip:alice@127.0.0.1>', `<${b.uri('bob')}>`);
    req.setBody('x'.repeat(size), 'text/plain');
    const status = await new Promise<number>((resolve) => a.ep.stack.request(req, (s) => resolve(s)));
    assert.equal(status, 200);
  }
  assert.deepEqual(seen, [
    { transport: 'udp', via: 'UDP', size: 100 },
    { transport: 'tcp', via: 'TCP', size: 2000 },
  ]);
  await idle(a, b);
});

test('Timer M as a record: once the session ended, a copy of its 2xx is ACKed again and a forked 2xx is ACKed and ended with BYE (§13.2.2.4, RFC 6026 §7.2)', async (t) => {
  const a = await peer(); peers.push(a);
  const sock = createSocket('udp4');
  t.after(() => sock.close()); // a failed assertion must not leave the socket holding the process
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const uasPort = sock.address().port;
  const got: SipRequest[] = [];
  let invite: SipRequest | undefined;
  const reply = (req: SipRequest, status: number, tag: string) => {
    const res = createResponse(req, status, undefined, tag);
    if (req.method === 'INVITE') res.set('Contact', `<sip:bob-${tag}@127.0.0.1:${uasPort}>`);
    sock.send(res.serialize(), req.source!.port, '127.0.0.1');
    return res;
  };
  sock.on('message', (d, rinfo) => {
    const req = parseMessage(d) as SipRequest;
    req.source = { transport: 'udp', address: rinfo.address, port: rinfo.port, localAddress: '127.0.0.1', localPort: uasPort };
    got.push(req);
    if (req.method === 'INVITE') invite = req;
    if (req.method === 'BYE') reply(req, 200, req.to.tag!);
  });
  const req = a.ep.stack.createRequest('INVITE', `sip:bob@127.0.0.1:${uasPort}`, '<sip:alice@127.0.0.1>', `<sip:bob@127.0.0.1:${uasPort}>`);
  let ended = false;
  a.ep.stack.invite(req, {
    onAnswer: (_res, session, seq) => {
      session.ack(seq);
      session.bye(() => { ended = true; });
    },
    onFailure: () => assert.fail('the INVITE must not fail'),
  });
  await waitFor(() => invite !== undefined, 3000, 'the INVITE');
  const ok = reply(invite!, 200, 'first');
  await waitFor(() => ended, 3000, 'the session to end (ACK, BYE, 200)');
  await new Promise((r) => setTimeout(r, 80)); // the BYE's Timer K (T4 = 50 ms)
  assert.equal(a.ep.stack.counts().transactions, 1, 'the INVITE transaction waits out Timer M (as a record)');
  const acks = () => got.filter((m) => m.method === 'ACK');
  assert.equal(acks().length, 1);

  sock.send(ok.serialize(), invite!.source!.port, '127.0.0.1'); // a copy of the first 2xx
  await waitFor(() => acks().length === 2, 3000, 'the ACK again');
  assert.equal(acks()[1]!.to.tag, 'first');
  assert.equal(acks()[1]!.cseq.seq, invite!.cseq.seq);
  assert.equal(acks()[1]!.vias.length, 1, 'one Via, not one more per re-send');
  assert.equal(got.filter((m) => m.method === 'BYE').length, 1, 'no BYE for a copy of the ended dialog');

  reply(invite!, 200, 'fork'); // another branch answers
  await waitFor(() => got.some((m) => m.method === 'BYE' && m.to.tag === 'fork'), 3000, 'the BYE for the fork');
  const forkAck = acks().find((m) => m.to.tag === 'fork');
  assert.ok(forkAck, 'the fork is acknowledged first');
  assert.equal(forkAck.uri, `sip:bob-fork@127.0.0.1:${uasPort}`, "to the fork's Contact");
  assert.equal(forkAck.from.tag, invite!.from.tag);
  assert.equal(forkAck.callId, invite!.callId);
  const forkBye = got.find((m) => m.method === 'BYE' && m.to.tag === 'fork')!;
  assert.ok(got.indexOf(forkAck) < got.indexOf(forkBye));
  assert.equal(forkBye.uri, `sip:bob-fork@127.0.0.1:${uasPort}`);
  await idle(a); // 64*T1 = 640 ms: the record is gone, and the fork's BYE transaction
});
