import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type LoadResult } from '../../src/config/parse-file.js';

/** A fake file system: path → content; anything else is ENOENT. */
function files(map: Record<string, string>) {
  const read: string[] = [];
  const readFile = (path: string): string => {
    read.push(path);
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    return text;
  };
  return { readFile, read };
}

function loaded(r: LoadResult) {
  assert.equal(r.kind, 'config');
  return r as Extract<LoadResult, { kind: 'config' }>;
}

test('reads ./clicktocall.config from the working directory', () => {
  const fs = files({ '/srv/c2c/clicktocall.config': 'HttpPort = 6000\n' });
  const r = loaded(loadConfig({ argv: [], cwd: '/srv/c2c', readFile: fs.readFile, hostName: 'h' }));
  assert.equal(r.config.httpPort, 6000);
  assert.equal(r.fileName, 'clicktocall.config');
  assert.deepEqual(fs.read, ['/srv/c2c/clicktocall.config']);
  assert.deepEqual(r.notices, []);
  assert.deepEqual(r.errors, []);
});

test('no file and no --config: built-in defaults and a notice saying so', () => {
  const r = loaded(loadConfig({ argv: [], cwd: '/srv/c2c', readFile: files({}).readFile, hostName: 'h' }));
  assert.equal(r.config.httpPort, 5095);
  assert.equal(r.fileName, undefined);
  assert.equal(r.notices.length, 1);
  assert.match(r.notices[0] ?? '', /built-in defaults/);
  assert.deepEqual(r.errors, []);
});

test('--config FILE: relative to the working directory; a missing one is an error', () => {
  const fs = files({ '/srv/c2c/conf/a.config': 'XmlRpcPort = 7000\n', '/etc/b.config': 'XmlRpcPort = 7001\n' });
  assert.equal(loaded(loadConfig({ argv: ['--config', 'conf/a.config'], cwd: '/srv/c2c', readFile: fs.readFile })).config.xmlRpcPort, 7000);
  assert.equal(loaded(loadConfig({ argv: ['--config', '/etc/b.config'], cwd: '/srv/c2c', readFile: fs.readFile })).config.xmlRpcPort, 7001);
  const missing = loaded(loadConfig({ argv: ['--config', 'nope.config'], cwd: '/srv', readFile: fs.readFile }));
  assert.deepEqual(missing.errors.map((e) => e.text), ['nope.config: cannot read the config file: no such file']);
});

test('an unreadable file is an error', () => {
  const readFile = () => { throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }); };
  const r = loaded(loadConfig({ argv: [], cwd: '/srv', readFile }));
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]?.text ?? '', /^clicktocall\.config: cannot read the config file: EACCES/);
});

test('the command line overrides the file', () => {
  const fs = files({ '/w/clicktocall.config': 'HttpPort = 6000\nXmlRpcPort = 6001\nKeepAlives = on\nLogLevel = INFO\n' });
  const r = loaded(loadConfig({ argv: ['-httpport', '7000', '-nk', '-l', 'DEBUG'], cwd: '/w', readFile: fs.readFile }));
  assert.equal(r.config.httpPort, 7000);
  assert.equal(r.config.xmlRpcPort, 6001);
  assert.equal(r.config.keepAlives, false);
  assert.equal(r.config.logLevel, 'DEBUG');
  assert.deepEqual(r.warnings, []); // an override is not "set twice"
});

test('a list on the command line replaces the file\'s list; translation rules as one', () => {
  const fs = files({ '/w/clicktocall.config': 'XmlAllowFrom = 10.0.0.0/8\nTranslationPattern = ^1\nTranslationOutput = sip:file@h\nHttpPort = 6000\n' });
  const r = loaded(loadConfig({
    argv: ['-xmlallowfrom', '192.168.0.0/16', '-translationpattern', '^1', '-translationoutput', 'sip:cli@h'],
    cwd: '/w', readFile: fs.readFile,
  }));
  assert.deepEqual(r.config.xmlAllowFrom.map((b) => b.text), ['192.168.0.0/16']);
  assert.equal(r.config.translationRules.size, 1);
  assert.equal(r.config.translationRules.translate('1')?.uri, 'sip:cli@h');
  assert.equal(r.config.httpPort, 6000);
});

test('a bad value on the command line is an error naming the option', () => {
  const r = loaded(loadConfig({ argv: ['-sp', 'abc'], cwd: '/w', readFile: files({}).readFile }));
  assert.deepEqual(r.errors.map((e) => e.text), ['command line: UDPTCPPort (-sp): "abc" is not a port number (0-65535)']);
});

test('errors from the file and the command line are all collected', () => {
  const fs = files({ '/w/clicktocall.config': 'HttpAuth = maybe\nWhat = ever\n' });
  const r = loaded(loadConfig({ argv: ['-xmlrpcport', 'x', '-httpauthpwd', 'pw'], cwd: '/w', readFile: fs.readFile }));
  assert.deepEqual(r.errors.map((e) => e.text), [
    'clicktocall.config:1: HttpAuth: "maybe" is not a boolean (1/true/on/enable/yes or 0/false/off/disable/no)',
    'command line: XmlRpcPort (-xmlrpcport): "x" is not a port number (0-65535)',
  ]);
  assert.deepEqual(r.warnings.map((w) => w.setting ?? 'unknown'), ['HttpAuthPwd', 'unknown']);
});

test('help, version, hash-key and invalid command lines come back as commands', () => {
  const readFile = files({}).readFile;
  assert.deepEqual(loadConfig({ argv: ['--help'], cwd: '/w', readFile }), { kind: 'command', command: { action: 'help' } });
  assert.deepEqual(loadConfig({ argv: ['--version'], cwd: '/w', readFile }), { kind: 'command', command: { action: 'version' } });
  assert.deepEqual(loadConfig({ argv: ['hash-key'], cwd: '/w', readFile }), { kind: 'command', command: { action: 'hash-key', args: [] } });
  const bad = loadConfig({ argv: ['-zz', '1'], cwd: '/w', readFile });
  assert.equal(bad.kind, 'command');
  assert.equal(bad.kind === 'command' && bad.command.action === 'invalid' && bad.command.exitCode, 255);
});

test('TLSDomainName defaults to the host name given', () => {
  const r = loaded(loadConfig({ argv: [], cwd: '/w', readFile: files({}).readFile, hostName: 'pbx1.example' }));
  assert.equal(r.config.tlsDomainName, 'pbx1.example');
});
