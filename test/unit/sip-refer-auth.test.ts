// Digest on inbound out-of-dialog REFER (decisions.md §1, RFC 3261 §22.4, RFC 7616 §3.3/§5.5):
// a nonce older than its lifetime is answered 401 stale=true, a nonce count seen before is a
// replay (401), a wrong password or an unknown user gets 401, and none of them reaches the call
// layer. Real SIP over loopback; the trigger's clock is injected so no test waits for a nonce's
// lifetime (ReferNonceLifetime).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSipEndpoint, type SipEndpoint } from '../../src/sip/stack/index.js';
import { realTimers } from '../../src/sip/timer.js';
import type { SipResponse } from '../../src/sip/message/index.js';
import { installSipReferTrigger } from '../../src/api/sip-refer/trigger.js';
import { DigestClient, parseChallenges, type AuthChallenge } from '../../src/sip/digest/index.js';
import { TranslationRules } from '../../src/call/translate.js';
import type { CallDeps } from '../../src/api/calls.js';
import type { CallEngine } from '../../src/call/engine.js';
import type { EventPublisher } from '../../src/call/publisher.js';

const TIMERS = { t1: 20, t2: 80, t4: 100, timerD: 300 };
const PASSWORD = 'refer-secret';
/** Below the default of 5 min, so that a lifetime not passed through would fail the stale test. */
const NONCE_LIFETIME_MS = 60_000;

let server: SipEndpoint;
/** A second server whose trigger remembers only REFER_MAX_NONCES nonces (ReferMaxNonces). */
let small: SipEndpoint;
const REFER_MAX_NONCES = 16;
let client: SipEndpoint;
let clock = 1_000_000;
/** Calls the trigger handed to the engine (which refuses each with 403, so nothing is placed). */
const started: string[] = [];
const refused: string[] = [];

before(async () => {
  const listeners = [{ transport: 'udp' as const, address: '127.0.0.1', port: 0 }];
  server = await startSipEndpoint({ listeners, timers: realTimers, timerSettings: TIMERS, contactUser: 'c2c', userAgent: 'server' });
  client = await startSipEndpoint({ listeners, timers: realTimers, timerSettings: TIMERS, contactUser: 'referrer', userAgent: 'client' });
  const engine = {
    start(request: { initiator: string; destination: string }) {
      started.push(`${request.initiator} → ${request.destination}`);
      return { ok: false, status: 403, text: 'Refused: test', reason: 'destination-not-allowed' };
    },
  } as unknown as CallEngine;
  const publisher = { subscribeCall: () => () => {} } as unknown as EventPublisher;
  const calls: CallDeps = {
    engine,
    publisher,
    prepare: {
      // The REFER names alice and bob by their user parts at our host: the rule makes URIs of them.
      rules: TranslationRules.compile([{ pattern: '^(\\w+)$', output: 'sip:$1@example.invalid', file: 'test' }]).rules,
      defaultMode: 'refer',
      defaults: { ringTimeoutMs: 1000, maxDurationMs: 1000, holdOffer: 'c0-inactive', referNotifyTimeoutMs: 1000, transferPolicy: 'handle' },
      newId: () => `id-${started.length}`,
    },
  };
  const trigger = { calls, allowFrom: [], users: [{ user: 'referrer', password: PASSWORD }], realm: 'c2c.test', ownHosts: ['127.0.0.1'] };
  installSipReferTrigger({
    ...trigger,
    stack: server.stack,
    nonceLifetimeMs: NONCE_LIFETIME_MS,
    now: () => clock,
    onRefused: (reason) => refused.push(reason),
  });
  small = await startSipEndpoint({ listeners, timers: realTimers, timerSettings: TIMERS, contactUser: 'c2c', userAgent: 'small' });
  installSipReferTrigger({ ...trigger, stack: small.stack, maxNonces: REFER_MAX_NONCES, now: () => clock });
});

after(async () => {
  await client.close();
  await server.close();
  await small.close();
});

function serverUri(user: string, to: SipEndpoint = server): string {
  return `sip:${user}@127.0.0.1:${to.bound[0]!.port}`;
}

/** Sends an out-of-dialog REFER with `authorization` (if any); resolves with the final answer. */
function refer(authorization?: string, to: SipEndpoint = server): Promise<{ status: number; response?: SipResponse }> {
  const uri = serverUri('alice', to);
  const req = client.stack.createRequest('REFER', uri, '<sip:referrer@127.0.0.1>', `<${uri}>`);
  req.add('Refer-To', `<${serverUri('bob', to)}>`);
  if (authorization !== undefined) req.add('Authorization', authorization);
  return new Promise((resolve) => client.stack.request(req, (status, response) => resolve({ status, response })));
}

function challengeOf(response: SipResponse | undefined): AuthChallenge {
  assert.ok(response);
  const parsed = parseChallenges(response.getAll('www-authenticate'));
  assert.ok(parsed.ok);
  const sha = parsed.value.find((c) => c.params.algorithm === 'SHA-256');
  assert.ok(sha, 'a SHA-256 challenge');
  return sha;
}

function answer(digest: DigestClient, challenge: AuthChallenge, password = PASSWORD, username = 'referrer', to: SipEndpoint = server): string {
  const a = digest.authorize(challenge, { username, password }, { method: 'REFER', uri: serverUri('alice', to) });
  assert.ok(a.ok);
  return a.value.header;
}

test('REFER digest: the right answer reaches the engine; its nc replayed is refused 401', async () => {
  started.length = 0;
  const digest = new DigestClient();
  const first = await refer();
  assert.equal(first.status, 401);
  const challenge = challengeOf(first.response);
  const nc1 = answer(digest, challenge);
  assert.equal((await refer(nc1)).status, 403, 'authenticated, then refused by the (fake) engine');
  assert.equal(started.length, 1);
  const replay = await refer(nc1);
  assert.equal(replay.status, 401);
  assert.equal(challengeOf(replay.response).params.stale, undefined, 'a replay is not merely stale');
  assert.equal(started.length, 1, 'the replay never reached the engine');
  assert.ok(refused.includes('digest-replay'));
  // The next nc on the same nonce is fine.
  const nc2 = answer(digest, challenge);
  assert.match(nc2, /nc=00000002/);
  assert.equal((await refer(nc2)).status, 403);
  assert.equal(started.length, 2);
});

test('REFER digest: a nonce past its lifetime gets 401 stale=true, the fresh nonce then works', async () => {
  started.length = 0;
  const digest = new DigestClient();
  const challenge = challengeOf((await refer()).response);
  assert.equal((await refer(answer(digest, challenge))).status, 403);
  clock += NONCE_LIFETIME_MS + 1;
  const late = await refer(answer(digest, challenge));
  assert.equal(late.status, 401);
  const fresh = challengeOf(late.response);
  assert.equal(fresh.params.stale, 'true');
  assert.notEqual(fresh.params.nonce, challenge.params.nonce);
  assert.equal(started.length, 1, 'the expired nonce never reached the engine');
  assert.equal((await refer(answer(digest, fresh))).status, 403);
  assert.equal(started.length, 2);
});

test('REFER digest: a wrong password, an unknown user, a nonce not ours → 401, nothing started', async () => {
  started.length = 0;
  const challenge = challengeOf((await refer()).response);
  assert.equal((await refer(answer(new DigestClient(), challenge, 'guess'))).status, 401);
  assert.equal((await refer(answer(new DigestClient(), challenge, PASSWORD, 'mallory'))).status, 401);
  const forged: AuthChallenge = { ...challenge, params: { ...challenge.params, nonce: 'A'.repeat(challenge.params.nonce!.length) } };
  const notOurs = await refer(answer(new DigestClient(), forged));
  assert.equal(notOurs.status, 401);
  assert.equal(started.length, 0);
  assert.ok(refused.includes('digest-bad-response'));
  assert.ok(refused.includes('digest-unknown-user'));
});

test('REFER digest: beyond ReferMaxNonces the least recently used nonce is forgotten and answered stale', async () => {
  // One more nonce than the table holds, each used once (nc=1: accepted, the engine refuses with 403).
  const uses: Array<{ digest: DigestClient; challenge: AuthChallenge }> = [];
  for (let i = 0; i <= REFER_MAX_NONCES; i++) {
    const challenge = challengeOf((await refer(undefined, small)).response);
    const digest = new DigestClient();
    assert.equal((await refer(answer(digest, challenge, PASSWORD, 'referrer', small), small)).status, 403, `nonce ${i} accepted`);
    uses.push({ digest, challenge });
  }
  // The latest is still remembered: its next nc goes through.
  const last = uses[REFER_MAX_NONCES]!;
  assert.equal((await refer(answer(last.digest, last.challenge, PASSWORD, 'referrer', small), small)).status, 403);
  // The first was pushed out: its nc history is unknown, so it is stale (a table of the default
  // size would have accepted nc=2), never trusted again from scratch.
  const first = uses[0]!;
  const again = await refer(answer(first.digest, first.challenge, PASSWORD, 'referrer', small), small);
  assert.equal(again.status, 401);
  assert.equal(challengeOf(again.response).params.stale, 'true');
});
