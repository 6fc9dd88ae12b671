/**
 * A DNS server that never answers (down, or cut off by a firewall): a call to a host name must
 * fail after DNSTimeout, not hang and not wait the default 4 s. The server runs in this process
 * on real timers; the silent server listens on a port of its own, named in the configuration's
 * DNSServers line (an address with a port).
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startSilentDnsServer } from '../support/dns-server.js';
import { startFaultServer, waitUntil } from './fault-server.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('DNSTimeout = 2000: an initiator whose host name gets no DNS answer fails after 2 s, not 4', async () => {
  const dns = await startSilentDnsServer();
  cleanups.push(() => dns.close());
  const fs = await startFaultServer({ settings: ['DNSTimeout = 2000', `DNSServers = ${dns.server}`] });
  cleanups.push(() => fs.stop());
  const started = Date.now();
  // A port in the URI: A and AAAA only (RFC 3263 §4.2), one round of questions, one DNSTimeout.
  const id = fs.start('sip:alice@unanswered.test:5060', 'sip:bob@127.0.0.1:9', 'refer');
  await waitUntil(() => fs.ended(id), 6000, 'the call to fail', () => JSON.stringify(fs.events.get(id)));
  const events = fs.events.get(id)!;
  assert.deepEqual(events.map((e) => `${e.kind} ${e.leg ?? '-'}`), ['initiated -', 'failed initiator']);
  const failed = events.at(-1)!;
  const elapsed = failed.time - started;
  // Timers never fire early. The default (4 s) would fail it at 4 s; so would a deadline left at
  // the default with the resolver's own tries set from DNSTimeout (1-2 s, then 2 s: given up at
  // 3-4 s). Which of those tries the resolver (c-ares 1.34) makes inside the deadline varies from
  // run to run, so their number is not asserted.
  assert.ok(elapsed >= 1950 && elapsed < 2800, `failed ${elapsed} ms after the request, DNSTimeout is 2000 ms`);
  assert.equal(fs.sentLines.length, 0, 'nothing was sent: there was no address to send to');
  const asked = dns.queries.filter((q) => q.at <= failed.time).map((q) => `${q.type} ${q.name}`);
  assert.ok(asked.includes('A unanswered.test') && asked.includes('AAAA unanswered.test'), `the silent server was asked: ${JSON.stringify(dns.queries)}`);
  assert.deepEqual(asked.filter((q) => !q.endsWith(' unanswered.test')), [], 'no other name was looked up');
});

test('shutdown while a DNS question is in flight: it is cancelled, nothing more is asked after the server stopped', async () => {
  const dns = await startSilentDnsServer();
  cleanups.push(() => dns.close());
  // Per try 500 ms, two tries: left alone, the resolver (c-ares) asks again, seen 0.5–2 s after
  // the first questions.
  const fs = await startFaultServer({ settings: ['DNSTimeout = 1000', `DNSServers = ${dns.server}`] });
  cleanups.push(() => fs.stop());
  fs.start('sip:alice@unanswered.test:5060', 'sip:bob@127.0.0.1:9', 'refer');
  await waitUntil(() => dns.queries.length >= 2, 2000, 'the first questions (A and AAAA)', () => JSON.stringify(dns.queries));
  await fs.stop();
  const stoppedAt = Date.now();
  assert.equal(dns.queries.length, 2, `stopped before any second try: ${JSON.stringify(dns.queries)}`);
  await new Promise((r) => setTimeout(r, 2500));
  const late = dns.queries.filter((q) => q.at > stoppedAt);
  assert.deepEqual(late, [], 'no question after the stop: the second tries were cancelled with the calls');
});
