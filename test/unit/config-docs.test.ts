import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/parse-file.js';
import { SETTINGS } from '../../src/config/settings.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('docs/configuration.md lists every setting of the table, with its default', () => {
  const doc = readFileSync(root + 'docs/configuration.md', 'utf8');
  for (const s of SETTINGS) {
    const row = doc.split('\n').find((line) => line.startsWith('| `' + s.name + '`'));
    assert.ok(row !== undefined, `${s.name} has a row in docs/configuration.md`);
    for (const alias of s.aliases) assert.ok(row.includes('`' + alias + '`'), `${s.name} row names its alias ${alias}`);
  }
  assert.ok(doc.includes('AllowAnonymous = true'));
  assert.ok(doc.includes('Invalid command line parameters!'));
});

test('clicktocall.config.sample parses with no errors and no warnings, and translates as it says', () => {
  const text = readFileSync(root + 'clicktocall.config.sample', 'utf8');
  const r = parseConfigText(text, 'clicktocall.config.sample', { hostName: 'h' });
  assert.deepEqual(r.errors.map((e) => e.text), []);
  assert.deepEqual(r.warnings.map((w) => w.text), []);
  const t = r.config.translationRules;
  assert.deepEqual(t.translate('1001'), { uri: 'sip:1001@127.0.0.1:25161' });
  assert.deepEqual(t.translate('1002'), { uri: 'sip:1002@127.0.0.1:25171' });
  assert.deepEqual(t.translate('5551234'), { uri: 'sip:5551234@127.0.0.1:5060', mode: 'anchored' });
  assert.deepEqual(t.translate('sip:bob@127.0.0.1:5070'), { uri: 'sip:bob@127.0.0.1:5070' });
  assert.deepEqual(t.translate('carol@127.0.0.1'), { uri: 'sip:carol@127.0.0.1' });
  assert.equal(r.config.ipAddress, '127.0.0.1');
  assert.equal(r.config.destinationAllow[0]?.regex.test('sip:1001@127.0.0.1:25161'), true);
  assert.equal(r.config.destinationAllow[0]?.regex.test('sip:900@evil.example'), false);
});
