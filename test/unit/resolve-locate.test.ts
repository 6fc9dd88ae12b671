import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NaptrRecord, RecordWithTtl, SrvRecord } from 'node:dns';
import { ServerLocator, type ServerLocatorOptions } from '../../src/sip/resolve/locate.js';
import { DnsCache } from '../../src/sip/resolve/dns-cache.js';
import type { SetTimer } from '../../src/sip/resolve/dns-query.js';
import { LocateError, type DnsLike, type SipTransport, type Target } from '../../src/sip/resolve/types.js';

/** What the fake answers for one name: records, or a failure as node:dns reports it. */
type Answer<T> = T[] | 'timeout' | 'servfail' | 'nodata' | 'hang' | 'throw';

function dnsError(code: string): Error {
  return Object.assign(new Error(`query failed: ${code}`), { code });
}

/** A DnsLike from tables; names absent from a table answer ENOTFOUND (NXDOMAIN). */
class FakeDns implements DnsLike {
  readonly naptr = new Map<string, Answer<NaptrRecord>>();
  readonly srv = new Map<string, Answer<SrvRecord>>();
  readonly a = new Map<string, Answer<RecordWithTtl>>();
  readonly aaaa = new Map<string, Answer<RecordWithTtl>>();
  readonly calls: string[] = [];
  /** Settles every 'hang' query late, to prove a late answer is never an unhandled rejection. */
  readonly hanging: Array<(error: Error) => void> = [];
  cancel?: () => void;

  resolveNaptr(name: string) {
    return this.answer('NAPTR', name, this.naptr);
  }
  resolveSrv(name: string) {
    return this.answer('SRV', name, this.srv);
  }
  resolve4(name: string, _options: { ttl: true }) {
    return this.answer('A', name, this.a);
  }
  resolve6(name: string, _options: { ttl: true }) {
    return this.answer('AAAA', name, this.aaaa);
  }

  private answer<T>(type: string, name: string, table: Map<string, Answer<T>>): Promise<T[]> {
    this.calls.push(`${type} ${name}`);
    const entry = table.get(name);
    if (entry === undefined) return Promise.reject(dnsError('ENOTFOUND'));
    if (entry === 'throw') throw new TypeError('resolver bug');
    if (entry === 'hang') return new Promise<T[]>((_, reject) => this.hanging.push(reject));
    if (entry === 'timeout') return Promise.reject(dnsError('ETIMEOUT'));
    if (entry === 'servfail') return Promise.reject(dnsError('ESERVFAIL'));
    if (entry === 'nodata') return Promise.reject(dnsError('ENODATA'));
    return Promise.resolve(entry.map((r) => ({ ...r })));
  }
}

const neverFires: SetTimer = () => () => {};
const v4 = (address: string, ttl = 300): RecordWithTtl => ({ address, ttl });
const srv = (name: string, port: number, priority = 10, weight = 0): SrvRecord => ({ name, port, priority, weight });
const naptr = (order: number, preference: number, service: string, replacement: string): NaptrRecord => ({
  order,
  preference,
  service,
  replacement,
  flags: 's',
  regexp: '',
});
const t = (transport: SipTransport, address: string, port: number, family: 4 | 6 = 4): Target => ({ transport, address, port, family });

function locator(dns: FakeDns, extra: Partial<ServerLocatorOptions> = {}): ServerLocator {
  return new ServerLocator({ resolver: dns, transports: ['udp', 'tcp', 'tls'], timeoutMs: 2000, setTimer: neverFires, random: () => 0, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<LocateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LocateError, `expected a LocateError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

// ── §4.1/§4.2 numeric addresses ──────────────────────────────────────────────

test('numeric IPv4: that address, UDP 5060 for sip:, TLS 5061 for sips:, no DNS at all', async () => {
  const dns = new FakeDns();
  const loc = locator(dns);
  assert.deepEqual(await loc.locate({ host: '127.0.0.7', secure: false }), [t('udp', '127.0.0.7', 5060)]);
  assert.deepEqual(await loc.locate({ host: '127.0.0.7', secure: true }), [t('tls', '127.0.0.7', 5061)]);
  assert.deepEqual(await loc.locate({ host: '127.0.0.7', port: 5080, transport: 'tcp', secure: false }), [t('tcp', '127.0.0.7', 5080)]);
  assert.deepEqual(dns.calls, []);
});

test('numeric IPv6, bracketed or not: brackets stripped, family 6', async () => {
  const loc = locator(new FakeDns());
  assert.deepEqual(await loc.locate({ host: '[::1]', port: 5062, secure: false }), [t('udp', '::1', 5062, 6)]);
  assert.deepEqual(await loc.locate({ host: '::1', secure: true }), [t('tls', '::1', 5061, 6)]);
  assert.deepEqual(await loc.locate({ host: '[::1]', transport: 'tcp', secure: false }), [t('tcp', '::1', 5060, 6)]);
});

test('without UDP, a sip: URI with no transport falls to TCP', async () => {
  const loc = locator(new FakeDns(), { transports: ['tcp', 'tls'] });
  assert.deepEqual(await loc.locate({ host: '127.0.0.1', secure: false }), [t('tcp', '127.0.0.1', 5060)]);
});

// ── maddr ────────────────────────────────────────────────────────────────────

test('maddr overrides host (RFC 3263 §4); port and transport still come from the URI', async () => {
  const dns = new FakeDns();
  dns.a.set('relay.example.test', [v4('127.0.0.9')]);
  const loc = locator(dns);
  assert.deepEqual(await loc.locate({ host: 'ignored.example.test', maddr: '[::1]', port: 5070, transport: 'tcp', secure: false }), [
    t('tcp', '::1', 5070, 6),
  ]);
  assert.deepEqual(await loc.locate({ host: 'ignored.example.test', maddr: 'relay.example.test', port: 5070, secure: false }), [
    t('udp', '127.0.0.9', 5070),
  ]);
  assert.ok(dns.calls.every((c) => !c.includes('ignored')), dns.calls.join());
});

// ── explicit port: A/AAAA only ───────────────────────────────────────────────

test('explicit port: A then AAAA only, no NAPTR or SRV (RFC 3263 §4.2)', async () => {
  const dns = new FakeDns();
  dns.naptr.set('pbx.example.test', [naptr(1, 1, 'SIP+D2T', '_sip._tcp.pbx.example.test')]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2'), v4('127.0.0.3')]);
  dns.aaaa.set('pbx.example.test', [v4('::1')]);
  const result = await locator(dns).locate({ host: 'PBX.example.test.', port: 5099, secure: false });
  assert.deepEqual(result, [t('udp', '127.0.0.2', 5099), t('udp', '127.0.0.3', 5099), t('udp', '::1', 5099, 6)]);
  assert.deepEqual(dns.calls.sort(), ['A pbx.example.test', 'AAAA pbx.example.test']);
});

test('explicit port on sips: TLS; IPv6 preference puts AAAA first; a single family can be chosen', async () => {
  const dns = new FakeDns();
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  dns.aaaa.set('pbx.example.test', [v4('::1')]);
  assert.deepEqual(await locator(dns, { ipFamilies: [6, 4] }).locate({ host: 'pbx.example.test', port: 5071, secure: true }), [
    t('tls', '::1', 5071, 6),
    t('tls', '127.0.0.2', 5071),
  ]);
  dns.calls.length = 0;
  assert.deepEqual(await locator(dns, { ipFamilies: [4] }).locate({ host: 'pbx.example.test', port: 5071, secure: false }), [
    t('udp', '127.0.0.2', 5071),
  ]);
  assert.deepEqual(dns.calls, ['A pbx.example.test']);
});

// ── explicit transport: SRV for it, then A/AAAA ─────────────────────────────

test('explicit transport: SRV of that transport only, no NAPTR', async () => {
  const dns = new FakeDns();
  dns.srv.set('_sip._tcp.example.test', [srv('pbx.example.test', 5070)]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', transport: 'tcp', secure: false }), [t('tcp', '127.0.0.2', 5070)]);
  assert.ok(!dns.calls.some((c) => c.startsWith('NAPTR')));
  assert.ok(!dns.calls.some((c) => c.includes('_udp')));
});

test('explicit transport without SRV: A/AAAA of the host at the default port', async () => {
  const dns = new FakeDns();
  dns.a.set('example.test', [v4('127.0.0.4')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', transport: 'tls', secure: false }), [t('tls', '127.0.0.4', 5061)]);
  assert.ok(dns.calls.includes('SRV _sips._tcp.example.test'));
});

test('sips with transport=tcp means TLS via _sips._tcp; sips over UDP and unsupported transports are refused', async () => {
  const dns = new FakeDns();
  dns.srv.set('_sips._tcp.example.test', [srv('pbx.example.test', 5081)]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', transport: 'tcp', secure: true }), [t('tls', '127.0.0.2', 5081)]);
  assert.equal((await rejection(locator(dns).locate({ host: 'example.test', transport: 'udp', secure: true }))).code, 'unsupported-transport');
  const udpOnly = locator(dns, { transports: ['udp'] });
  assert.equal((await rejection(udpOnly.locate({ host: 'example.test', transport: 'tcp', secure: false }))).code, 'unsupported-transport');
  assert.equal((await rejection(udpOnly.locate({ host: '127.0.0.1', secure: true }))).code, 'unsupported-transport');
});

// ── §4.1 NAPTR ───────────────────────────────────────────────────────────────

test('NAPTR: order/preference decide the transport order; each SRV expands to its addresses', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', [
    naptr(20, 10, 'SIP+D2U', '_sip._udp.example.test'),
    naptr(10, 20, 'SIP+D2T', '_sip._tcp.example.test'),
    naptr(10, 10, 'SIPS+D2T', '_sips._tcp.example.test'),
    naptr(1, 1, 'SIP+D2S', '_sip._sctp.example.test'), // unsupported service: skipped, never queried
  ]);
  dns.srv.set('_sips._tcp.example.test', [srv('tls.example.test', 5061)]);
  dns.srv.set('_sip._tcp.example.test', [srv('pbx.example.test', 5060)]);
  dns.srv.set('_sip._udp.example.test', [srv('pbx.example.test', 5060)]);
  dns.a.set('tls.example.test', [v4('127.0.0.5')]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  dns.aaaa.set('pbx.example.test', [v4('::1')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: false }), [
    t('tls', '127.0.0.5', 5061),
    t('tcp', '127.0.0.2', 5060),
    t('tcp', '::1', 5060, 6),
    t('udp', '127.0.0.2', 5060),
    t('udp', '::1', 5060, 6),
  ]);
  assert.ok(!dns.calls.includes('SRV _sip._sctp.example.test'));
  assert.ok(!dns.calls.includes('A example.test'), 'no A lookup of the domain itself');
});

test('NAPTR for sips: only SIPS+D2T is used', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', [
    naptr(1, 1, 'SIP+D2U', '_sip._udp.example.test'),
    naptr(2, 1, 'SIP+D2T', '_sip._tcp.example.test'),
    naptr(3, 1, 'SIPS+D2T', '_sips._tcp.example.test'),
  ]);
  dns.srv.set('_sip._udp.example.test', [srv('pbx.example.test', 5060)]);
  dns.srv.set('_sips._tcp.example.test', [srv('pbx.example.test', 5061)]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: true }), [t('tls', '127.0.0.2', 5061)]);
  assert.ok(!dns.calls.includes('SRV _sip._udp.example.test'));
});

test('NAPTR services we do not run are skipped (TLS-less stack)', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', [naptr(1, 1, 'SIPS+D2T', '_sips._tcp.example.test'), naptr(2, 1, 'SIP+D2U', '_sip._udp.example.test')]);
  dns.srv.set('_sips._tcp.example.test', [srv('pbx.example.test', 5061)]);
  dns.srv.set('_sip._udp.example.test', [srv('pbx.example.test', 5060)]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  assert.deepEqual(await locator(dns, { transports: ['udp', 'tcp'] }).locate({ host: 'example.test', secure: false }), [
    t('udp', '127.0.0.2', 5060),
  ]);
  assert.ok(!dns.calls.includes('SRV _sips._tcp.example.test'));
});

test('NAPTR whose SRV names hold nothing: carry on with SRV, then A/AAAA', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', [naptr(1, 1, 'SIP+D2T', '_sip._tcp.nowhere.example.test')]);
  dns.a.set('example.test', [v4('127.0.0.6')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: false }), [t('udp', '127.0.0.6', 5060)]);
  assert.ok(dns.calls.includes('SRV _sip._tcp.nowhere.example.test'));
  assert.ok(dns.calls.includes('SRV _sip._udp.example.test'));
});

// ── §4.1 SRV without NAPTR ───────────────────────────────────────────────────

test('no NAPTR: SRV for _sip._udp, _sip._tcp, _sips._tcp, in that preference order', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', 'nodata');
  dns.srv.set('_sips._tcp.example.test', [srv('pbx.example.test', 5061)]);
  dns.srv.set('_sip._tcp.example.test', [srv('pbx.example.test', 5060)]);
  dns.srv.set('_sip._udp.example.test', [srv('pbx.example.test', 5060)]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: false }), [
    t('udp', '127.0.0.2', 5060),
    t('tcp', '127.0.0.2', 5060),
    t('tls', '127.0.0.2', 5061),
  ]);
  // Only the transports we run are asked about; sips asks only _sips._tcp.
  dns.calls.length = 0;
  await locator(dns, { transports: ['tcp'] }).locate({ host: 'example.test', secure: false });
  assert.deepEqual(dns.calls.filter((c) => c.startsWith('SRV')), ['SRV _sip._tcp.example.test']);
  dns.calls.length = 0;
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: true }), [t('tls', '127.0.0.2', 5061)]);
  assert.deepEqual(dns.calls.filter((c) => c.startsWith('SRV')), ['SRV _sips._tcp.example.test']);
});

test('SRV: priority first, then weighted random with the injected source (RFC 2782)', async () => {
  const dns = new FakeDns();
  dns.srv.set('_sip._udp.example.test', [
    srv('backup.example.test', 5060, 20, 0),
    srv('light.example.test', 5060, 10, 10),
    srv('heavy.example.test', 5060, 10, 90),
    srv('.', 5060, 1, 0), // "no service here" is not a target
  ]);
  dns.a.set('backup.example.test', [v4('127.0.0.30')]);
  dns.a.set('light.example.test', [v4('127.0.0.10')]);
  dns.a.set('heavy.example.test', [v4('127.0.0.90')]);
  const draws = (values: number[]) => () => values.shift() ?? 0;
  const expectOrder = async (random: () => number, addresses: string[]) =>
    assert.deepEqual(
      (await locator(dns, { random, transports: ['udp'] }).locate({ host: 'example.test', secure: false })).map((x) => x.address),
      addresses,
    );
  // sum 100: a draw of 0.05 → 5 ≤ 10 picks light first; 0.5 → 50 picks heavy first.
  await expectOrder(draws([0.05, 0]), ['127.0.0.10', '127.0.0.90', '127.0.0.30']);
  await expectOrder(draws([0.5, 0]), ['127.0.0.90', '127.0.0.10', '127.0.0.30']);
});

test('no NAPTR and no SRV: A/AAAA of the host, UDP 5060 for sip:, TLS 5061 for sips:', async () => {
  const dns = new FakeDns();
  dns.a.set('example.test', [v4('127.0.0.8')]);
  dns.aaaa.set('example.test', [v4('::1')]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: false }), [t('udp', '127.0.0.8', 5060), t('udp', '::1', 5060, 6)]);
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: true }), [t('tls', '127.0.0.8', 5061), t('tls', '::1', 5061, 6)]);
});

test('an SRV target written as an address is used as is; duplicates are tried once', async () => {
  const dns = new FakeDns();
  dns.srv.set('_sip._udp.example.test', [srv('127.0.0.44', 5064, 1), srv('127.0.0.44', 5064, 2)]);
  assert.deepEqual(await locator(dns, { transports: ['udp'] }).locate({ host: 'example.test', secure: false }), [t('udp', '127.0.0.44', 5064)]);
});

// ── errors ───────────────────────────────────────────────────────────────────

test('nothing found anywhere: a LocateError not-found naming the host', async () => {
  const dns = new FakeDns();
  const error = await rejection(locator(dns).locate({ host: 'missing.example.test', secure: false }));
  assert.equal(error.code, 'not-found');
  assert.equal(error.host, 'missing.example.test');
  assert.ok(dns.calls.includes('A missing.example.test') && dns.calls.includes('AAAA missing.example.test'));
});

test('one branch timing out while another works: the working one is returned', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', 'timeout');
  dns.srv.set('_sip._udp.example.test', 'timeout');
  dns.srv.set('_sip._tcp.example.test', [srv('pbx.example.test', 5070)]);
  dns.srv.set('_sips._tcp.example.test', 'servfail');
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  dns.aaaa.set('pbx.example.test', 'timeout');
  assert.deepEqual(await locator(dns).locate({ host: 'example.test', secure: false }), [t('tcp', '127.0.0.2', 5070)]);
});

test('everything empty and something timed out: code timeout', async () => {
  const dns = new FakeDns();
  dns.naptr.set('slow.example.test', 'timeout');
  dns.a.set('slow.example.test', 'nodata');
  const error = await rejection(locator(dns).locate({ host: 'slow.example.test', secure: false }));
  assert.equal(error.code, 'timeout');
  assert.equal(error.host, 'slow.example.test');
  const portError = await rejection(locator(dns).locate({ host: 'slow.example.test', port: 5060, secure: false }));
  assert.equal(portError.code, 'not-found', 'A and AAAA both answered "none"');
});

test('our own deadline ends a query that never answers, and its late failure is swallowed', async () => {
  const dns = new FakeDns();
  dns.a.set('hang.example.test', 'hang');
  dns.aaaa.set('hang.example.test', 'hang');
  const timers: Array<{ fire: () => void; ms: number; cancelled: boolean }> = [];
  const setTimer: SetTimer = (fire, ms) => {
    const timer = { fire, ms, cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  const pending = locator(dns, { setTimer, timeoutMs: 1500 }).locate({ host: 'hang.example.test', port: 5060, secure: false });
  await new Promise((r) => setImmediate(r));
  assert.equal(timers.length, 2);
  assert.ok(timers.every((x) => x.ms === 1500));
  for (const timer of timers) timer.fire();
  assert.equal((await rejection(pending)).code, 'timeout');
  // The resolver finally gives up: no unhandled rejection may follow.
  for (const reject of dns.hanging) reject(dnsError('ECANCELLED'));
  await new Promise((r) => setImmediate(r));
});

test('cancelQueries (shutdown) ends the questions in flight at once: the location fails as unanswered, its deadline timers are cleared', async () => {
  const dns = new FakeDns();
  dns.a.set('hang.example.test', 'hang');
  dns.aaaa.set('hang.example.test', 'hang');
  let cancels = 0;
  dns.cancel = () => {
    cancels++;
    for (const reject of dns.hanging.splice(0)) reject(dnsError('ECANCELLED'));
  };
  const timers: Array<{ cancelled: boolean }> = [];
  const setTimer: SetTimer = () => {
    const timer = { cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  const loc = locator(dns, { setTimer, timeoutMs: 60_000 });
  const pending = loc.locate({ host: 'hang.example.test', port: 5060, secure: false });
  await new Promise((r) => setImmediate(r));
  assert.equal(dns.hanging.length, 2, 'A and AAAA asked, neither answered');
  loc.cancelQueries();
  assert.equal(cancels, 1);
  assert.equal((await rejection(pending)).code, 'timeout', 'no answer came: worth trying again later, as a timeout');
  assert.ok(timers.length === 2 && timers.every((x) => x.cancelled), 'the 60-s deadlines do not outlive the questions');
  // A resolver without cancel (a test double, an old one): nothing to do, nothing thrown.
  locator(new FakeDns()).cancelQueries();
});

test('answered queries cancel their deadline timer', async () => {
  const dns = new FakeDns();
  dns.a.set('pbx.example.test', [v4('127.0.0.2')]);
  dns.aaaa.set('pbx.example.test', 'nodata');
  const cancelled: boolean[] = [];
  const setTimer: SetTimer = () => {
    const i = cancelled.push(false) - 1;
    return () => {
      cancelled[i] = true;
    };
  };
  await locator(dns, { setTimer }).locate({ host: 'pbx.example.test', port: 5060, secure: false });
  assert.deepEqual(cancelled, [true, true]);
});

test('a resolver that throws synchronously is a failed query, not an exception', async () => {
  const dns = new FakeDns();
  dns.naptr.set('example.test', 'throw');
  dns.a.set('example.test', [v4('127.0.0.8')]);
  assert.deepEqual(await locator(dns, { ipFamilies: [4] }).locate({ host: 'example.test', secure: false }), [t('udp', '127.0.0.8', 5060)]);
});

test('invalid input: empty host, bad port', async () => {
  const loc = locator(new FakeDns());
  assert.equal((await rejection(loc.locate({ host: ' ', secure: false }))).code, 'invalid-target');
  assert.equal((await rejection(loc.locate({ host: '[]', secure: false }))).code, 'invalid-target');
  assert.equal((await rejection(loc.locate({ host: 'example.test', port: 0, secure: false }))).code, 'invalid-target');
  assert.equal((await rejection(loc.locate({ host: 'example.test', port: 70000, secure: false }))).code, 'invalid-target');
});

// ── cache ────────────────────────────────────────────────────────────────────

test('cache: answers reused within their TTL (capped), asked again after; timeouts never kept', async () => {
  let now = 1_000_000;
  const cache = new DnsCache({ maxTtlMs: 60_000, negativeTtlMs: 10_000, unknownTtlMs: 30_000, now: () => now });
  const dns = new FakeDns();
  dns.srv.set('_sip._udp.example.test', [srv('pbx.example.test', 5060)]);
  dns.a.set('pbx.example.test', [v4('127.0.0.2', 20), v4('127.0.0.3', 3600)]);
  dns.aaaa.set('pbx.example.test', 'timeout');
  const loc = locator(dns, { cache, transports: ['udp'] });
  const request = { host: 'example.test', secure: false };
  const expected = [t('udp', '127.0.0.2', 5060), t('udp', '127.0.0.3', 5060)];

  assert.deepEqual(await loc.locate(request), expected);
  const first = dns.calls.splice(0);
  assert.deepEqual(first.sort(), ['A pbx.example.test', 'AAAA pbx.example.test', 'NAPTR example.test', 'SRV _sip._udp.example.test']);

  now += 5_000; // everything but the timed-out AAAA is still fresh
  assert.deepEqual(await loc.locate(request), expected);
  assert.deepEqual(dns.calls.splice(0), ['AAAA pbx.example.test']);

  now += 10_000; // 15 s: negative NAPTR (10 s) expired; A (smallest TTL 20 s) and SRV (30 s) not
  await loc.locate(request);
  assert.deepEqual(dns.calls.splice(0).sort(), ['AAAA pbx.example.test', 'NAPTR example.test']);

  now += 10_000; // 25 s: the A answer's 20 s TTL has run out
  await loc.locate(request);
  assert.ok(dns.calls.includes('A pbx.example.test'));
  assert.ok(!dns.calls.includes('SRV _sip._udp.example.test'));
});

test('cache: the TTL cap wins over a long TTL, and the oldest entry leaves when full', () => {
  let now = 0;
  const cache = new DnsCache({ maxEntries: 2, maxTtlMs: 1_000, now: () => now });
  cache.set('A one', ['x'], 3_600_000);
  now = 999;
  assert.deepEqual(cache.get('A one'), { hit: true, value: ['x'] });
  now = 1_000;
  assert.equal(cache.get('A one').hit, false);
  cache.set('A a', 1, 500);
  cache.set('A b', 2, 500);
  cache.get('A a'); // a is now the most recently used
  cache.set('A c', 3, 500);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('A b').hit, false);
  assert.equal(cache.get('A a').hit, true);
  assert.equal(cache.get('A c').hit, true);
  cache.set('A zero', 4, 0);
  assert.equal(cache.get('A zero').hit, false, 'TTL 0 is not cached');
  cache.setNegative('A none');
  assert.deepEqual(cache.get('A none'), { hit: true, value: undefined });
});
