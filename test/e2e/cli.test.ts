/**
 * The `clicktocall` command as users run it: --help, the legacy invalid-option exit, config
 * errors naming file, line and setting, a port already in use, and SIGTERM → exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServerProcess } from '../support/server-process.js';

const CLI = resolve('dist/cli.js');

function run(args: string[], cwd = process.cwd()) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 15_000 });
}

test('--help lists the legacy options; --version prints the version', () => {
  const help = run(['--help']);
  assert.equal(help.status, 0);
  for (const opt of ['--config', '-a', '-d', '-ci', '-sp', '-tp', '-td', '-nk', '-op', '-l']) {
    assert.match(help.stdout, new RegExp(`(^|\\s)${opt}\\b`, 'm'), `help names ${opt}`);
  }
  const version = run(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^clicktocall \d+\.\d+\.\d+/);
});

test('an unknown option: the replaced system\'s message and status 255', () => {
  const r = run(['-bogus']);
  assert.equal(r.status, 255);
  assert.match(r.stderr, /^Invalid command line parameters!/);
});

test('a bad config stops the start naming file, line and setting; unknown settings warn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-cli-'));
  try {
    writeFileSync(join(dir, 'bad.config'), 'HttpPort = abc\nFooBar = 1\nTranslationOutput = sip:x@y\n');
    const r = run(['--config', 'bad.config'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.config:1: HttpPort: "abc" is not a port number/);
    assert.match(r.stderr, /WARNING bad\.config:2: unknown setting "FooBar"/);
    assert.match(r.stderr, /bad\.config:3: .*TranslationOutput/);
    assert.match(r.stderr, /not started/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hash-key prints a key and the ApiKey line with its SHA-256', async () => {
  const r = run(['hash-key', 'crm']);
  assert.equal(r.status, 0);
  const key = /^key: (\S+)$/m.exec(r.stdout)![1]!;
  const { createHash } = await import('node:crypto');
  assert.match(r.stdout, new RegExp(`^ApiKey = crm\\|${createHash('sha256').update(key).digest('hex')}$`, 'm'));
});

test('a port already in use is a clear start-up error', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'c2c-cli-'));
  try {
    writeFileSync(join(dir, 'c.config'), `IPAddress = 127.0.0.1\nUDPTCPPort = 0\nTLSPort = 0\nHttpPort = 0\nXmlRpcPort = ${port}\nLogLevel = NONE\n`);
    const r = run(['--config', 'c.config'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot start: .*in use/i);
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('starts with a ready line naming every listener, and SIGTERM stops it with status 0', async () => {
  const s = await startServerProcess(['TranslationPattern = ^(sip:.+)$', 'TranslationOutput = $1']);
  assert.match(s.readyLine, new RegExp(`^ready sip=udp:127\\.0\\.0\\.1:${s.sipPort},tcp:127\\.0\\.0\\.1:${s.sipPort} http=127\\.0\\.0\\.1:${s.httpPort},\\[::1\\]:${s.httpPort} xml=127\\.0\\.0\\.1:${s.xmlPort},\\[::1\\]:${s.xmlPort}$`));
  assert.equal(await s.stop(), 0);
});

test('SIGTERM the moment the ready line appears still drains and exits 0 (handlers are in before it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-cli-term-'));
  const config = join(dir, 'c.config');
  writeFileSync(config, 'IPAddress = 127.0.0.1\nUDPTCPPort = 0\nTLSPort = 0\nHttpPort = 0\nXmlRpcPort = 0\nDatabaseFile = ' + join(dir, 'db') + '\nDrainTimeout = 1\n');
  try {
    for (let i = 0; i < 10; i++) {
      const child = spawn(process.execPath, [CLI, '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stderr.on('data', (d) => (out += d));
      // SIGTERM in the same tick the ready line is read, as a quick supervisor would.
      let sent = false;
      child.stdout.on('data', (d) => {
        out += d;
        if (!sent && out.includes('ready ')) {
          sent = true;
          child.kill('SIGTERM');
        }
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, `run ${i}: a SIGTERM right after "ready" must drain, not kill\n${out}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
