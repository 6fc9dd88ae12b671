import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgv, usageText, type ArgvCommand } from '../../src/config/argv.js';
import { SETTINGS } from '../../src/config/settings.js';

function run(args: string[]) {
  const c = parseArgv(args);
  assert.equal(c.action, 'run', JSON.stringify(c));
  return c as Extract<ArgvCommand, { action: 'run' }>;
}

function pairs(args: string[]): [string, string][] {
  return run(args).entries.map((e) => [e.name, e.value]);
}

function assertInvalid(args: string[], detail: RegExp) {
  const c = parseArgv(args);
  assert.equal(c.action, 'invalid');
  if (c.action !== 'invalid') return;
  assert.equal(c.message, 'Invalid command line parameters!');
  assert.equal(c.exitCode, 255);
  assert.match(c.detail, detail);
}

test('no arguments: run with nothing overridden', () => {
  const c = run([]);
  assert.deepEqual(c.entries, []);
  assert.equal(c.configFile, undefined);
});

test('each legacy short option names its setting', () => {
  assert.deepEqual(pairs(['-a', '10.0.0.1']), [['IPAddress', '10.0.0.1']]);
  assert.deepEqual(pairs(['-d', '8.8.8.8,1.1.1.1']), [['DNSServers', '8.8.8.8,1.1.1.1']]);
  assert.deepEqual(pairs(['-ci', 'sip:c2c@example.com']), [['ClickToCallIdentity', 'sip:c2c@example.com']]);
  assert.deepEqual(pairs(['-sp', '5080']), [['UDPTCPPort', '5080']]);
  assert.deepEqual(pairs(['-tp', '5081']), [['TLSPort', '5081']]);
  assert.deepEqual(pairs(['-td', 'sip.example.com']), [['TLSDomainName', 'sip.example.com']]);
  assert.deepEqual(pairs(['-op', 'sip:proxy.example.com']), [['OutboundProxy', 'sip:proxy.example.com']]);
  assert.deepEqual(pairs(['-l', 'DEBUG']), [['LogLevel', 'DEBUG']]);
});

test('-nk takes no value and turns keep-alives off', () => {
  assert.deepEqual(pairs(['-nk', '-l', 'INFO']), [['KeepAlives', 'false'], ['LogLevel', 'INFO']]);
});

test('any setting as -<lower-cased name> <value>, in any case', () => {
  assert.deepEqual(pairs(['-xmlrpcport', '6094']), [['XmlRpcPort', '6094']]);
  assert.deepEqual(pairs(['-HttpPort', '6095', '-tlsdomain', 'x.example']), [['HttpPort', '6095'], ['TLSDomainName', 'x.example']]);
  assert.deepEqual(pairs(['-translationpattern', '^1', '-translationoutput', 'sip:1@h']), [['TranslationPattern', '^1'], ['TranslationOutput', 'sip:1@h']]);
  const origin = run(['-xmlrpcport', '6094']).entries[0]?.origin;
  assert.deepEqual(origin, { file: 'command line', option: '-xmlrpcport' });
});

test('--config FILE and --config=FILE', () => {
  assert.equal(run(['--config', '/etc/c2c.config']).configFile, '/etc/c2c.config');
  assert.equal(run(['--config=my.config', '-l', 'DEBUG']).configFile, 'my.config');
  assertInvalid(['--config'], /--config needs a file name/);
});

test('--help (and the replaced system\'s -? /?) and --version', () => {
  for (const h of ['--help', '-?', '--?', '/?', '-h']) assert.deepEqual(parseArgv(['-l', 'INFO', h]), { action: 'help' });
  assert.deepEqual(parseArgv(['--version']), { action: 'version' });
});

test('the hash-key subcommand', () => {
  assert.deepEqual(parseArgv(['hash-key']), { action: 'hash-key', args: [] });
  assert.deepEqual(parseArgv(['hash-key', 'crm']), { action: 'hash-key', args: ['crm'] });
  assertInvalid(['-l', 'INFO', 'hash-key'], /unexpected argument "hash-key"/);
});

test('an unknown option: the replaced system\'s message and status 255', () => {
  assertInvalid(['-x', '1'], /unknown option "-x"/);
  assertInvalid(['--xmlrpcport', '6094'], /unexpected argument "--xmlrpcport"/);
  assertInvalid(['--verbose'], /unexpected argument/);
});

test('a stray argument: status 255', () => {
  assertInvalid(['stray'], /unexpected argument "stray"/);
  assertInvalid(['-l', 'DEBUG', 'extra'], /unexpected argument "extra"/);
  assertInvalid(['-'], /unexpected argument "-"/);
});

test('a missing value, or one starting with a dash, is invalid (as in the replaced system)', () => {
  assertInvalid(['-sp'], /-sp needs a value/);
  assertInvalid(['-sp', '-l', 'DEBUG'], /-sp needs a value/);
  assertInvalid(['-sp', ''], /-sp needs a value/);
});

test('a secret on the command line gives a warning (it shows in ps), without the secret', () => {
  for (const [option, name] of [['-httpauthpwd', 'HttpAuthPwd'], ['-xmlsecret', 'XmlSecret'], ['-hooksecret', 'HookSecret'],
    ['-apikey', 'ApiKey'], ['-referuser', 'ReferUser'], ['-sipcredential', 'SipCredential']] as const) {
    const c = run([option, 'TopSecret1']);
    assert.equal(c.warnings.length, 1, name);
    assert.equal(c.warnings[0]?.severity, 'warning');
    assert.equal(c.warnings[0]?.setting, name);
    assert.match(c.warnings[0]?.text ?? '', /^command line: \w+ \(-\w+\): a secret given on the command line shows in `ps`/);
    assert.ok(!(c.warnings[0]?.text ?? '').includes('TopSecret1'));
  }
  assert.equal(run(['-httpport', '1']).warnings.length, 0);
});

test('usageText lists the options and every setting', () => {
  const text = usageText();
  for (const option of ['--config FILE', '--help', '--version', 'hash-key', '-a ', '-d ', '-ci ', '-sp ', '-tp ', '-td ', '-nk', '-op ', '-l ', '-xmlrpcport 6094']) {
    assert.ok(text.includes(option), option);
  }
  for (const s of SETTINGS) assert.ok(text.includes(s.name), s.name);
});
