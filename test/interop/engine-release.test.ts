/**
 * Every call leaves nothing behind (issue 3 "Lifetime"): the server runs in this process so the
 * test can read its counters — SIP transactions and dialogs, armed timers, live sessions, per-call
 * event subscriptions — which all return to zero after REFER, anchored, failed and cancelled calls.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { CountingTimers, realTimers } from '../../src/sip/timer.js';
import { BaresipPhone, findFreeTcpPort } from '../support/baresip.js';
import { XmlClient } from '../support/server-process.js';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('REFER, anchored, busy and cancelled calls: transactions, dialogs, timers, sessions and subscriptions return to zero', async () => {
  const a = await BaresipPhone.start({ name: 'alice', timeoutSec: 90 });
  cleanups.push(() => a.stop());
  const b = await BaresipPhone.start({ name: 'bob', timeoutSec: 90 });
  cleanups.push(() => b.stop());
  const c = await BaresipPhone.start({ name: 'carol', timeoutSec: 90, answerMode: 'manual' });
  cleanups.push(() => c.stop());
  const dir = mkdtempSync(join(tmpdir(), 'c2c-release-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { config, errors } = parseConfigText([
    `DatabaseFile = ${join(dir, 'calls.db')}`, 'RecordRetentionDays = 0',
    'IPAddress = 127.0.0.1', 'UDPTCPPort = 0', 'TLSPort = 0', 'HttpPort = 0', 'XmlRpcPort = 0',
    'SipT1 = 20', 'SipT2 = 80', 'SipT4 = 100', 'SipTimerD = 500', 'RingTimeout = 2', 'LogLevel = NONE',
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1',
  ].join('\n'), 'test.config');
  assert.deepEqual(errors, []);
  const timers = new CountingTimers(realTimers);
  const server: RunningServer = await startServer({ ...config, xmlRpcPort: await findFreeTcpPort() }, { logger: quiet, timers });
  cleanups.push(() => server.shutdown(0));
  assert.equal(server.counters.internalErrors, 0);
  const calls: [string, string, boolean, RegExp][] = [
    [a.uri, b.uri, false, /Code="200" Leg="Destination"/],
    [a.uri, b.uri, true, /Code="200" Leg="Destination"/],
    [a.uri, c.uri, true, /Code="408" Leg="Destination"/], // carol rings, never answers: ring timeout
  ];
  const port = Number(/xml=127\.0\.0\.1:(\d+)/.exec(server.readyLine)?.[1] ?? NaN);
  for (const [i, d, anchor, until] of calls) {
    const client = await XmlClient.connect(port);
    client.send(`<ClickToCall><Request><Initiator>${i}</Initiator><Destination>${d}</Destination><AnchorCall>${anchor}</AnchorCall></Request></ClickToCall>`);
    await client.waitFor(until, 15_000);
    client.close();
    // End whatever is still up from the phones' side.
    await new Promise((r) => setTimeout(r, 200));
    for (const p of [a, b]) await p.hangup().catch(() => {});
    await waitFor(() => server.engine.activeCalls === 0, 5000, 'the session to end');
  }
  await waitFor(() => {
    const n = server.sip.stack.counts();
    return n.transactions === 0 && n.dialogs === 0 && n.inviteServers === 0 && n.pendingRefers === 0 && timers.armed === 0;
  }, 10_000, 'the stack to drain').catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(server.sip.stack.counts())}, timers ${timers.armed}`);
  });
  assert.equal(server.publisher.callSubscriptions, 0);
  assert.equal(server.counters.internalErrors, 0);
});
