// SIP TLS of the real `clicktocall` command (dist/cli.js): TLS 1.2 at least, the certificate
// reloaded on SIGHUP (a broken new file keeps the old one serving), and client certificates
// required with TLSRequireClientCert. Certificates are made by openssl in a temporary folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { findFreeSipPort, findFreeTcpPort, PORT_TAKEN } from '../support/baresip.js';

const CLI = resolve('dist/cli.js');
let dir = '';

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.error) throw new Error(`these tests need the openssl command (Debian package 'openssl'): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed (${run.status}): ${run.stderr}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed certificate `<name>.crt` / `<name>.key` for 127.0.0.1. */
function selfSigned(name: string, cn = 'localhost'): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC_KEY, '-subj', `/CN=${cn}`, '-days', '1',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** A certificate `<name>.crt` signed by the CA `ca`. */
function signedBy(ca: { cert: string; key: string }, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  openssl(['req', '-new', ...EC_KEY, '-subj', `/CN=${name}`, '-keyout', key, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '1', '-out', cert]);
  return { cert, key };
}

interface Cli {
  child: ChildProcess;
  tlsPort: number;
  output(): string;
  /** Resolves when the output holds `pattern` after `from` characters. */
  waitForOutput(pattern: RegExp, from: number, ms?: number): Promise<void>;
  stop(): Promise<number | null>;
}

/** Starts the CLI with TLS on a free port; `lines` are added to the config. */
async function startCli(name: string, lines: string[]): Promise<Cli> {
  const work = mkdtempSync(join(dir, `${name}-`));
  for (let attempt = 0; ; attempt++) {
    const sipPort = await findFreeSipPort();
    const tlsPort = await findFreeTcpPort();
    const config = join(work, 'test.config');
    writeFileSync(config, [
      'IPAddress = 127.0.0.1', `UDPTCPPort = ${sipPort}`, `TLSPort = ${tlsPort}`, 'XmlRpcPort = 0', 'HttpPort = 0',
      'LogLevel = INFO', `LogFilename = ${join(work, 'clicktocall.log')}`, 'DrainTimeout = 0', ...lines,
    ].join('\n') + '\n');
    const child = spawn(process.execPath, [CLI, '--config', config], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const ready = await Promise.race([
      waitUntil(() => /^ready .*$/m.test(out), 10_000).then(() => true, () => false),
      exited.then(() => false),
    ]);
    if (!ready) {
      child.kill('SIGKILL');
      if (PORT_TAKEN.test(out) && attempt < 3) continue;
      throw new Error(`clicktocall did not start:\n${out}`);
    }
    const match = new RegExp(`tls:127\\.0\\.0\\.1:${tlsPort}`).exec(out);
    assert.ok(match, `the ready line names the TLS listener: ${out}`);
    return {
      child,
      tlsPort,
      output: () => out,
      waitForOutput: (pattern, from, ms = 5000) => waitUntil(() => pattern.test(out.slice(from)), ms, `${pattern} in the output:\n${out}`),
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 8000);
        const code = await exited;
        clearTimeout(t);
        return code;
      },
    };
  }
}

async function waitUntil(predicate: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SHA-256 fingerprint of the certificate the server presents, and the protocol agreed. */
function peerCertificate(port: number, extra: ConnectionOptions = {}): Promise<{ fingerprint: string; protocol: string | null }> {
  return new Promise((resolvePeer, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...extra }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      const protocol = socket.getProtocol();
      socket.end();
      resolvePeer({ fingerprint, protocol });
    });
    socket.once('error', reject);
  });
}

/** `openssl x509 -fingerprint -sha256` of a certificate file, in Node's colon form. */
function fingerprintOf(certFile: string): string {
  const run = spawnSync('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return run.stdout.trim().replace(/^.*=/, '').toUpperCase();
}

const OPTIONS = (port: number, n: number) => [
  `OPTIONS sip:127.0.0.1:${port};transport=tls SIP/2.0`,
  `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-reload-${n};rport`,
  'Max-Forwards: 70',
  `From: <sip:tester@127.0.0.1>;tag=t${n}`,
  `To: <sip:127.0.0.1:${port}>`,
  `Call-ID: tls-reload-${n}@127.0.0.1`,
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '', '',
].join('\r\n');

let optionsSeq = 0;

/**
 * Connects (with `client` options), sends an OPTIONS and resolves with the status line of the
 * answer, or `refused: <why>` when the server ends the connection without one.
 */
function optionsOverTls(port: number, client: ConnectionOptions): Promise<string> {
  return new Promise((resolveAnswer) => {
    let data = '';
    let settled = false;
    const done = (answer: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveAnswer(answer);
    };
    const timer = setTimeout(() => done('refused: no answer within 5 s'), 5000);
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...client }, () => {
      socket.write(OPTIONS(port, ++optionsSeq));
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      data += d;
      const line = /^SIP\/2\.0 \d{3}[^\r\n]*/.exec(data);
      if (line) done(line[0]);
    });
    socket.once('error', (err) => done(`refused: ${err.message}`));
    socket.once('close', () => done('refused: connection closed'));
  });
}

let serverA: { cert: string; key: string };
let serverB: { cert: string; key: string };
let ca: { cert: string; key: string };
let goodClient: { cert: string; key: string };
let strangerClient: { cert: string; key: string };

before(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it in pretest)');
  dir = mkdtempSync(join(tmpdir(), 'c2c-tls-reload-'));
  serverA = selfSigned('server-a');
  serverB = selfSigned('server-b');
  ca = selfSigned('ca', 'clicktocall test CA');
  goodClient = signedBy(ca, 'good-client');
  strangerClient = selfSigned('stranger-client');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('SIGHUP swaps the served certificate; a broken or missing new file keeps the old one and logs why', async () => {
  const certFile = join(dir, 'served.crt');
  const keyFile = join(dir, 'served.key');
  copyFileSync(serverA.cert, certFile);
  copyFileSync(serverA.key, keyFile);
  const cli = await startCli('reload', [`TLSCertificate = ${certFile}`, `TLSPrivateKey = ${keyFile}`]);
  try {
    const a = fingerprintOf(serverA.cert);
    const b = fingerprintOf(serverB.cert);
    assert.notEqual(a, b);
    assert.equal((await peerCertificate(cli.tlsPort)).fingerprint, a);

    // New files, SIGHUP → the next connection sees certificate B.
    copyFileSync(serverB.cert, certFile);
    copyFileSync(serverB.key, keyFile);
    let mark = cli.output().length;
    cli.child.kill('SIGHUP');
    await cli.waitForOutput(/TLS certificate reloaded/, mark);
    assert.equal((await peerCertificate(cli.tlsPort)).fingerprint, b);

    // A certificate file that is not PEM: the reload fails with OpenSSL's reason; B stays.
    writeFileSync(certFile, 'this is not a certificate\n');
    mark = cli.output().length;
    cli.child.kill('SIGHUP');
    await cli.waitForOutput(/TLS reload failed: [^"]+; the old certificate stays in use/, mark);
    assert.equal((await peerCertificate(cli.tlsPort)).fingerprint, b);

    // A key that does not belong to the certificate: refused too.
    copyFileSync(serverA.cert, certFile);
    copyFileSync(serverB.key, keyFile);
    mark = cli.output().length;
    cli.child.kill('SIGHUP');
    await cli.waitForOutput(/TLS reload failed: .*(mismatch|key)/i, mark);
    assert.equal((await peerCertificate(cli.tlsPort)).fingerprint, b);

    // A missing file: the message names the setting and the file.
    unlinkSync(keyFile);
    mark = cli.output().length;
    cli.child.kill('SIGHUP');
    await cli.waitForOutput(/TLS reload failed: TLSPrivateKey [^ ]*served\.key: ENOENT/, mark);
    assert.equal((await peerCertificate(cli.tlsPort)).fingerprint, b);

    // Everything right again: A is served, and the process never stopped.
    copyFileSync(serverA.key, keyFile);
    mark = cli.output().length;
    cli.child.kill('SIGHUP');
    await cli.waitForOutput(/TLS certificate reloaded/, mark);
    assert.equal((await peerCertificate(cli.tlsPort)).fingerprint, a);
    assert.doesNotMatch(cli.output(), /internal error/);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test('SIP TLS speaks TLS 1.2 and 1.3 and refuses TLS 1.1', async () => {
  const cli = await startCli('versions', [`TLSCertificate = ${serverA.cert}`, `TLSPrivateKey = ${serverA.key}`]);
  try {
    assert.equal((await peerCertificate(cli.tlsPort, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    assert.equal((await peerCertificate(cli.tlsPort, { minVersion: 'TLSv1.3' })).protocol, 'TLSv1.3');
    await assert.rejects(peerCertificate(cli.tlsPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }));
    // The listener still works after the refused handshake.
    assert.match(await optionsOverTls(cli.tlsPort, {}), /^SIP\/2\.0 200/);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test('TLSRequireClientCert: no certificate or one from another issuer is refused; one signed by TLSClientCA is served', async () => {
  const cli = await startCli('mutual', [
    `TLSCertificate = ${serverA.cert}`, `TLSPrivateKey = ${serverA.key}`,
    'TLSRequireClientCert = true', `TLSClientCA = ${ca.cert}`,
  ]);
  try {
    const certOf = (c: { cert: string; key: string }) => ({ cert: readFileSync(c.cert), key: readFileSync(c.key) });
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const pin = { minVersion: version, maxVersion: version };
      assert.match(await optionsOverTls(cli.tlsPort, pin), /^refused/, `${version}: no client certificate`);
      assert.match(await optionsOverTls(cli.tlsPort, { ...pin, ...certOf(strangerClient) }), /^refused/, `${version}: a certificate of another issuer`);
      assert.match(await optionsOverTls(cli.tlsPort, { ...pin, ...certOf(goodClient) }), /^SIP\/2\.0 200/, `${version}: a certificate signed by the CA`);
    }
    // A reload keeps the requirement (and re-reads the CA file).
    const mark = cli.output().length;
    cli.child.kill('SIGHUP');
    await cli.waitForOutput(/TLS certificate reloaded/, mark);
    assert.match(await optionsOverTls(cli.tlsPort, {}), /^refused/);
    assert.match(await optionsOverTls(cli.tlsPort, certOf(goodClient)), /^SIP\/2\.0 200/);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test('TLSRequireClientCert without TLSClientCA does not start, and says why', async () => {
  await assert.rejects(
    startCli('no-ca', [`TLSCertificate = ${serverA.cert}`, `TLSPrivateKey = ${serverA.key}`, 'TLSRequireClientCert = true']),
    /TLSRequireClientCert = true needs TLSClientCA/,
  );
});
