// TLS through real sockets, with self-signed certificates made by openssl in a temporary folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { TransportError } from '../../src/sip/transport/transport-error.js';
import type { ListenerSpec, SendTarget, TlsSettings, TransportLayerOptions } from '../../src/sip/transport/types.js';
import { peer as basePeer, send, waitFor, type Peer } from '../support/transport-peer.js';

interface Cert {
  cert: Buffer;
  key: Buffer;
}

let dir = '';
let serverCert: Cert;
let otherCert: Cert;

function makeCert(name: string): Cert {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const run = spawnSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-keyout', keyFile, '-out', certFile,
    ],
    { encoding: 'utf8' },
  );
  if (run.error) {
    throw new Error(`the TLS tests need the openssl command (Debian package 'openssl'): ${run.error.message}`);
  }
  if (run.status !== 0) throw new Error(`openssl failed (${run.status}): ${run.stderr}`);
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'clicktocall-tls-'));
  serverCert = makeCert('server');
  otherCert = makeCert('other');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A TLS peer: the shared harness with this test's certificate. */
function peer(listeners: ListenerSpec[], tls: TlsSettings, extra: Partial<TransportLayerOptions> = {}): Peer {
  return basePeer(listeners, { tls, ...extra });
}

const request = (n: number) => `MESSAGE sip:b@localhost SIP/2.0\r\nCall-ID: t${n}\r\nContent-Length: 5\r\n\r\nhello`;
const response = (n: number) => `SIP/2.0 200 OK\r\nCall-ID: t${n}\r\nContent-Length: 0\r\n\r\n`;
const TLS4: ListenerSpec[] = [{ transport: 'tls', address: '127.0.0.1', port: 0 }];

test('TLS close() leaves no handles behind (first, while the process is quiet)', async () => {
  const countHandles = () => {
    const counts: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
    return counts;
  };
  const before = countHandles();
  const a = peer(TLS4, { ...serverCert, rejectUnauthorized: false }, { keepAliveIntervalMs: 60_000 });
  const b = peer(TLS4, { ...serverCert, rejectUnauthorized: false });
  await a.layer.listen();
  const [bBound] = await b.layer.listen();
  assert.equal(await send(a.layer, request(1), { transport: 'tls', address: '127.0.0.1', port: bBound!.port }), undefined);
  await waitFor('request', () => b.inbox.length === 1);
  // A raw TCP client that never starts its handshake: close() must abort it too.
  const { connect } = await import('node:net');
  const stalled = connect({ port: bBound!.port, host: '127.0.0.1' });
  stalled.on('error', () => {});
  await new Promise((r) => stalled.once('connect', r));
  await Promise.all([a.layer.close(), b.layer.close()]);
  await new Promise((r) => stalled.once('close', r));
  await new Promise((r) => setImmediate(r));
  const afterClose = countHandles();
  for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) {
    assert.equal(afterClose[kind] ?? 0, before[kind] ?? 0, `${kind}: ${JSON.stringify({ before, afterClose })}`);
  }
  assert.equal(a.layer.stats().connections, 0);
  assert.equal(b.layer.stats().connections, 0);
});

test('TLS with a self-signed certificate and rejectUnauthorized false: request, and response on the same connection', async () => {
  const a = peer(TLS4, { ...serverCert, rejectUnauthorized: false });
  const b = peer(TLS4, { ...serverCert, rejectUnauthorized: false });
  try {
    await a.layer.listen();
    const [bBound] = await b.layer.listen();
    const toB: SendTarget = { transport: 'tls', address: '127.0.0.1', port: bBound!.port };
    assert.equal(await send(a.layer, request(1), toB), undefined);
    assert.equal(await send(a.layer, request(2), toB), undefined);
    await waitFor('requests at b', () => b.inbox.length === 2);
    const got = b.inbox[0]!;
    assert.equal(got.transport, 'tls');
    assert.equal(got.data.toString(), request(1));
    assert.equal(b.inbox[1]!.connectionId, got.connectionId);
    assert.equal(a.layer.stats().connectionsOpened, 1);
    assert.equal(await send(b.layer, response(1), { transport: 'tls', ...got.remote, connectionId: got.connectionId! }), undefined);
    await waitFor('response at a', () => a.inbox.length === 1);
    assert.equal(a.inbox[0]!.data.toString(), response(1));
    assert.equal(a.inbox[0]!.transport, 'tls');
    assert.equal(b.layer.stats().connectionsOpened, 1);
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('TLS verifies the server: a trusted CA and the right name pass; an unknown CA or a wrong name is refused', async () => {
  const b = peer(TLS4, { ...serverCert });
  try {
    const [bBound] = await b.layer.listen();
    const target = (servername?: string): SendTarget => ({
      transport: 'tls',
      address: '127.0.0.1',
      port: bBound!.port,
      ...(servername ? { servername } : {}),
    });

    const trusting = peer([], { ...otherCert, ca: [serverCert.cert], rejectUnauthorized: true });
    await trusting.layer.listen();
    try {
      assert.equal(await send(trusting.layer, request(1), target()), undefined, 'no name: checked against the IP address SAN');
      assert.equal(await send(trusting.layer, request(2), target('localhost')), undefined, 'trusted CA, right name');
      await waitFor('both at b', () => b.inbox.length === 2);
      const wrong = (await send(trusting.layer, request(3), target('sip.example.com'))) as TransportError;
      assert.equal(wrong?.code, 'connect-failed');
      assert.match(wrong.message, /ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
      assert.equal(trusting.layer.stats().connectionsOpened, 3, 'a connection checked for another name is not reused');
    } finally {
      await trusting.layer.close();
    }

    const unknownCa = peer([], { ...otherCert, ca: [otherCert.cert], rejectUnauthorized: true });
    await unknownCa.layer.listen();
    try {
      const err = (await send(unknownCa.layer, request(4), target('localhost'))) as TransportError;
      assert.equal(err?.code, 'connect-failed');
      assert.match(err.message, /self[- ]signed|unable to verify|DEPTH_ZERO|SELF_SIGNED/i);
      assert.equal(unknownCa.errors[0]?.code, 'connect-failed');
    } finally {
      await unknownCa.layer.close();
    }

    const systemCas = peer([], { ...otherCert }); // rejectUnauthorized defaults to true
    await systemCas.layer.listen();
    try {
      const err = (await send(systemCas.layer, request(5), target('localhost'))) as TransportError;
      assert.equal(err?.code, 'connect-failed', 'a self-signed certificate is not in the system store');
    } finally {
      await systemCas.layer.close();
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(b.inbox.length, 2, 'nothing from refused clients reached b');
  } finally {
    await b.layer.close();
  }
});

test('TLS refuses protocol versions below 1.2', async () => {
  const b = peer(TLS4, { ...serverCert });
  try {
    const [bBound] = await b.layer.listen();
    const outcome = await new Promise<string>((resolve) => {
      const s = tlsConnect({ port: bBound!.port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      s.once('secureConnect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e) => resolve(String((e as NodeJS.ErrnoException).code ?? e.message)));
    });
    assert.notEqual(outcome, 'connected');
    await waitFor('handshake failure reported', () => b.errors.some((e) => e.code === 'tls-handshake-failed'));
    assert.equal(b.layer.stats().connections, 0);
  } finally {
    await b.layer.close();
  }
});

test('reloadTls swaps the certificate for new connections; unusable material is refused and the old one kept', async () => {
  const b = peer(TLS4, { ...serverCert });
  try {
    const [bBound] = await b.layer.listen();
    const target: SendTarget = { transport: 'tls', address: '127.0.0.1', port: bBound!.port, servername: 'localhost' };
    assert.throws(() => b.layer.reloadTls({ cert: Buffer.from('not a cert'), key: Buffer.from('nor a key') }));

    const trustsServer = peer([], { ...otherCert, ca: [serverCert.cert] });
    const trustsOther = peer([], { ...otherCert, ca: [otherCert.cert] });
    await trustsServer.layer.listen();
    await trustsOther.layer.listen();
    try {
      assert.equal(await send(trustsServer.layer, request(1), target), undefined, 'the old certificate is still served');
      b.layer.reloadTls({ ...otherCert });
      assert.equal(await send(trustsOther.layer, request(2), target), undefined, 'new connections get the new certificate');
      const err = (await send(trustsServer.layer, request(3), { ...target, servername: 'localhost' })) as TransportError | undefined;
      assert.equal(err, undefined, 'an open connection is reused and keeps working');
      await waitFor('three at b', () => b.inbox.length === 3);
    } finally {
      await trustsServer.layer.close();
      await trustsOther.layer.close();
    }
    const fresh = peer([], { ...otherCert, ca: [serverCert.cert] });
    await fresh.layer.listen();
    try {
      const err = (await send(fresh.layer, request(4), target)) as TransportError;
      assert.equal(err?.code, 'connect-failed', 'the old certificate is no longer served');
    } finally {
      await fresh.layer.close();
    }
  } finally {
    await b.layer.close();
  }
});

test('TLS on ::1, and the per-source limit applies before the handshake', async () => {
  const b = peer([{ transport: 'tls', address: '::1', port: 0 }], { ...serverCert }, { maxConnectionsPerSource: 1 });
  const a = peer([], { ...serverCert, rejectUnauthorized: false });
  try {
    const [bBound] = await b.layer.listen();
    await a.layer.listen();
    assert.equal(await send(a.layer, request(1), { transport: 'tls', address: '::1', port: bBound!.port }), undefined);
    await waitFor('request', () => b.inbox.length === 1);
    assert.equal(b.inbox[0]!.remote.address, '::1');
    const second = await new Promise<string>((resolve) => {
      const s = tlsConnect({ port: bBound!.port, host: '::1', rejectUnauthorized: false });
      s.once('secureConnect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', () => resolve('refused'));
      s.once('close', () => resolve('refused'));
    });
    assert.equal(second, 'refused');
    assert.equal(b.layer.stats().dropped['connection-limit'], 1);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});
