// Issue 7, crash safety: the real server (dist/cli.js) under a bounded click-to-call load over
// XML is killed with SIGKILL; restarted on the same database it marks the calls it left open
// `interrupted`. Every call whose final result the XML client received must be stored with that
// final; every other call that left a trace is `interrupted` (or ended before the kill without
// the client hearing it); nothing else is in the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realTimers } from '../../src/sip/timer.js';
import { SqliteCallStore } from '../../src/store/sqlite-store.js';
import { startKillableServer } from '../support/killable-server.js';
import { XmlClient } from '../support/server-process.js';
import { TestPhone } from '../support/sip-phone.js';

/** Requests sent at most, in waves; the kill comes once this many finals were received. */
const MAX_REQUESTS = 160;
const WAVE = 8;
const WAVE_MS = 40;
const FINALS_BEFORE_KILL = 40;
const CONNECTIONS = 4;

interface Seen {
  /** Code of the final result received (200 Destination, or ≥ 300), if any. */
  final?: number;
}

/** Every response document in the stream: the echoed Destination and its Result. */
function results(stream: string): { destination: string; code: number; leg?: string }[] {
  const out: { destination: string; code: number; leg?: string }[] = [];
  for (const doc of stream.split('</ClickToCall>')) {
    const dest = /<Destination>([^<]*)<\/Destination>/.exec(doc);
    const result = /<Result Code="(\d+)"(?: Leg="(\w+)")?>/.exec(doc);
    if (dest && result) out.push({ destination: dest[1]!, code: Number(result[1]), leg: result[2] });
  }
  return out;
}

const isFinal = (code: number, leg: string | undefined) => code >= 300 || (code === 200 && leg === 'Destination');

test('SIGKILL under load: every final the client saw is stored, open calls become interrupted, nothing else', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-crash-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const settings = [
    `DatabaseFile = ${join(dir, 'calls.db')}`, 'SipT1 = 20', 'SipT4 = 100', 'RingTimeout = 30',
    'TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1', 'DefaultMode = anchored', 'XmlMaxRequestsPerConnection = 1000',
  ];
  // Answering phones (connected calls), a busy initiator (486 finals) and a slow one (calls in
  // progress at the kill).
  const answer = await TestPhone.start({ name: 'answer', behaviour: { ring: 5, answer: 20 } });
  const dest = await TestPhone.start({ name: 'dest', behaviour: { ring: 5, answer: 30 } });
  const busy = await TestPhone.start({ name: 'busy', behaviour: { ring: 5, reject: 486 } });
  const slow = await TestPhone.start({ name: 'slow', behaviour: { ring: 5 } });
  const phones = [answer, dest, busy, slow];
  t.after(async () => { for (const p of phones) await p.stop(); });

  const server = await startKillableServer(dir, settings);
  t.after(() => server.stop('SIGKILL'));
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => XmlClient.connect(server.xmlPort)));
  t.after(() => { for (const c of clients) c.close(); });

  const sent = new Map<string, Seen>();
  const destPort = dest.uri.slice(dest.uri.lastIndexOf(':') + 1);
  const finalsSeen = () => clients.reduce((n, c) => n + results(c.text()).filter((r) => isFinal(r.code, r.leg)).length, 0);
  let n = 0;
  while (n < MAX_REQUESTS && finalsSeen() < FINALS_BEFORE_KILL) {
    for (let k = 0; k < WAVE && n < MAX_REQUESTS; k++, n++) {
      const initiator = [slow, busy, answer, answer][n % 4]!;
      const destination = `sip:c${n}@127.0.0.1:${destPort}`;
      sent.set(destination, {});
      clients[n % CONNECTIONS]!.send(`<ClickToCall><Request><Initiator>${initiator.uri}</Initiator><Destination>${destination}</Destination></Request></ClickToCall>`);
    }
    await new Promise((r) => setTimeout(r, WAVE_MS));
  }
  // On a slow machine the waves may all be out before enough finals are back: wait (bounded).
  const waitEnd = Date.now() + 15_000;
  while (finalsSeen() < FINALS_BEFORE_KILL && Date.now() < waitEnd) await new Promise((r) => setTimeout(r, 20));
  const how = await server.stop('SIGKILL');
  assert.equal(how, 'SIGKILL');
  // Whatever reached the client before the kill is what it saw.
  await new Promise((r) => setTimeout(r, 100));
  for (const c of clients) {
    for (const r of results(c.text())) {
      const s = sent.get(r.destination);
      assert.ok(s, `a result for a call we never asked for: ${r.destination}`);
      if (isFinal(r.code, r.leg)) {
        assert.equal(s.final, undefined, `two finals for ${r.destination}`);
        s.final = r.code;
      }
    }
  }
  const finals = [...sent.values()].filter((s) => s.final !== undefined);
  assert.ok(finals.length >= FINALS_BEFORE_KILL, `finals seen before the kill: ${finals.length}`);
  assert.ok(finals.some((s) => s.final === 200) && finals.some((s) => s.final === 486), 'both kinds of final were seen');
  assert.ok(finals.length < sent.size, 'calls were still open at the kill');

  // Restart on the same database: the open calls are marked interrupted; then a clean stop.
  const again = await startKillableServer(dir, settings);
  const restarted = again.output();
  const stopped = await again.stop('SIGTERM');
  assert.equal(stopped, 0, `${again.output()}\nlog file:\n${readFileSync(join(dir, 'clicktocall.log'), 'utf8').slice(-3000)}`);
  assert.doesNotMatch(restarted + again.output(), /"msg":"internal error"/);

  const store = new SqliteCallStore({ path: join(dir, 'calls.db'), timers: realTimers, reportError: (e) => assert.fail(String(e)) });
  store.open();
  t.after(() => store.close());
  const records = store.list({ limit: 1000 }).records;
  const byDestination = new Map<string, (typeof records)[number]>();
  for (const r of records) {
    assert.ok(r.rawDestination !== undefined && sent.has(r.rawDestination), `a stored call nobody asked for: ${r.id} ${r.rawDestination}`);
    assert.ok(!byDestination.has(r.rawDestination), `two records for ${r.rawDestination}`);
    byDestination.set(r.rawDestination, r);
  }
  let interrupted = 0;
  for (const [destination, s] of sent) {
    const r = byDestination.get(destination);
    assert.notEqual(r?.state, 'in-progress', `${destination} left in progress`);
    assert.notEqual(r?.state, 'connected', `${destination} left connected`);
    if (s.final === undefined) {
      // Never heard of by the client: not stored yet, interrupted, or ended just before the kill.
      if (r?.state === 'interrupted') interrupted++;
      continue;
    }
    assert.ok(r, `${destination}: final ${s.final} was received but the call is not stored`);
    assert.equal(r.finalCode, s.final, `${destination}: stored final`);
    if (s.final === 200) {
      // A listed record carries no events: get() reads them.
      assert.ok(store.get(r.id)!.events.some((e) => e.kind === 'connected'), `${destination}: the connected event is stored`);
      assert.ok(r.state === 'interrupted' || r.state === 'completed', `${destination}: ${r.state}`);
      if (r.state === 'interrupted') interrupted++;
    } else {
      assert.equal(r.state, 'failed', destination);
      assert.equal(r.reason, 'initiator-failed', destination);
    }
  }
  assert.ok(interrupted >= 1, 'some calls were open at the kill and are now interrupted');
  const marked = /"interrupted":(\d+)/.exec(restarted);
  assert.ok(marked, `the restart logged how many calls it marked interrupted:\n${restarted}`);
  assert.equal(store.list({ limit: 1000, state: 'interrupted' }).records.length, Number(marked[1]));
  for (const r of store.list({ limit: 1000, state: 'interrupted' }).records) assert.equal(r.reason, 'restart', r.id);
  t.diagnostic(`${sent.size} calls asked, ${finals.length} finals seen, ${records.length} stored, ${interrupted} interrupted`);
});
