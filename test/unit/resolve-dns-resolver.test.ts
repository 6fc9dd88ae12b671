// createDnsResolver against the in-test DNS server: the NAPTR → SRV → A/AAAA chain through
// the real node:dns resolver. Everything stays on loopback; names are under example.test.
import { test, after, before } from 'node:test';
import { Resolver } from 'node:dns/promises';
import assert from 'node:assert/strict';
import { createDnsResolver, formatDnsServer, parseDnsServer } from '../../src/sip/resolve/dns-resolver.js';
import { ServerLocator } from '../../src/sip/resolve/locate.js';
import { LocateError } from '../../src/sip/resolve/types.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

test('parseDnsServer accepts host, host:port, v6 and [v6]:port; rejects the rest as values', () => {
  assert.deepEqual(parseDnsServer('127.0.0.1'), { address: '127.0.0.1', port: 53, family: 4 });
  assert.deepEqual(parseDnsServer(' 127.0.0.1:5353 '), { address: '127.0.0.1', port: 5353, family: 4 });
  assert.deepEqual(parseDnsServer('::1'), { address: '::1', port: 53, family: 6 });
  assert.deepEqual(parseDnsServer('[::1]'), { address: '::1', port: 53, family: 6 });
  assert.deepEqual(parseDnsServer('[::1]:5300'), { address: '::1', port: 5300, family: 6 });
  for (const bad of ['dns.example.test', '127.0.0.1:0', '127.0.0.1:x', '[::1', '[::1]5300', '127.0.0.1:70000', '']) {
    assert.ok(parseDnsServer(bad) instanceof Error, bad);
  }
  assert.equal(formatDnsServer({ address: '::1', port: 5300, family: 6 }), '[::1]:5300');
});

test('createDnsResolver sets the configured servers, splits legacy lists, refuses bad entries', () => {
  const resolver = createDnsResolver(['127.0.0.1:5353, [::1]:5354', '127.0.0.2'], 1000);
  assert.deepEqual(resolver.getServers(), ['127.0.0.1:5353', '[::1]:5354', '127.0.0.2']);
  assert.throws(() => createDnsResolver(['dns.example.test'], 1000), /not an IP address/);
  // No list: the system's servers, untouched.
  assert.deepEqual(createDnsResolver(undefined, 1000).getServers(), new Resolver().getServers());
  assert.deepEqual(createDnsResolver([' '], 1000).getServers(), new Resolver().getServers());
});

let server: TestDnsServer;
before(async () => {
  server = await startDnsServer({
    'example.test': {
      NAPTR: [
        { order: 20, preference: 10, flags: 'S', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test' },
        { order: 10, preference: 10, flags: 'S', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.example.test' },
        { order: 5, preference: 10, flags: 'S', service: 'SIP+D2S', regexp: '', replacement: '_sip._sctp.example.test' },
      ],
    },
    '_sip._tcp.example.test': { SRV: [{ priority: 10, weight: 0, port: 5070, name: 'pbx.example.test' }] },
    '_sip._udp.example.test': { SRV: [{ priority: 10, weight: 0, port: 5072, name: 'pbx.example.test' }] },
    'pbx.example.test': { A: ['127.0.0.2'], AAAA: ['::1'], ttl: 30 },
    'plain.example.test': { A: ['127.0.0.3'] },
  });
});
after(() => server.close());

test('real node:dns resolver: NAPTR → SRV → A/AAAA chain from the loopback DNS server', async () => {
  const resolver = createDnsResolver([server.server], 2000);
  assert.deepEqual(resolver.getServers(), [server.server]);
  const locator = new ServerLocator({ resolver, transports: ['udp', 'tcp'], timeoutMs: 2000 });
  const targets = await locator.locate({ host: 'example.test', secure: false });
  assert.deepEqual(targets, [
    { transport: 'tcp', address: '127.0.0.2', port: 5070, family: 4 },
    { transport: 'tcp', address: '::1', port: 5070, family: 6 },
    { transport: 'udp', address: '127.0.0.2', port: 5072, family: 4 },
    { transport: 'udp', address: '::1', port: 5072, family: 6 },
  ]);
  const asked = server.queries.map((q) => `${q.type} ${q.name}`);
  assert.equal(asked[0], 'NAPTR example.test');
  for (const q of ['SRV _sip._tcp.example.test', 'SRV _sip._udp.example.test', 'A pbx.example.test', 'AAAA pbx.example.test']) {
    assert.ok(asked.includes(q), `${q} in ${asked.join(', ')}`);
  }
  assert.ok(!asked.includes('SRV _sip._sctp.example.test'), 'unsupported NAPTR service not followed');
});

test('real node:dns resolver: no NAPTR/SRV falls to A; an unknown name is a not-found LocateError', async () => {
  const locator = new ServerLocator({ resolver: createDnsResolver([server.server], 2000), transports: ['udp'], timeoutMs: 2000 });
  assert.deepEqual(await locator.locate({ host: 'plain.example.test', secure: false }), [
    { transport: 'udp', address: '127.0.0.3', port: 5060, family: 4 },
  ]);
  await assert.rejects(
    locator.locate({ host: 'absent.example.test', secure: false }),
    (error: unknown) => error instanceof LocateError && error.code === 'not-found' && error.host === 'absent.example.test',
  );
});
