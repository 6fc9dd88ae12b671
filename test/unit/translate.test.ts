import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, matchesAnyPattern, TranslationRules, type TranslationRuleSource } from '../../src/call/translate.js';

const rule = (pattern: string, output: string, line = 1, extra: Partial<TranslationRuleSource> = {}): TranslationRuleSource =>
  ({ pattern, output, file: 'clicktocall.config', line, ...extra });

function compileOk(sources: TranslationRuleSource[]): TranslationRules {
  const { rules, problems } = TranslationRules.compile(sources);
  assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
  return rules;
}

test('the first rule whose pattern is found wins (search, not full match)', () => {
  const rules = compileOk([
    rule('00', 'sip:intl@example.com', 1),
    rule('([0-9]+)', 'sip:$1@example.com', 2),
    rule('.*', 'sip:never@example.com', 3),
  ]);
  // "00" is found inside the address although the address is longer: rule 1 wins.
  assert.deepEqual(rules.translate('4100123'), { uri: 'sip:intl@example.com' });
  // Rule 2 finds the digits inside letters: a search, not a full match.
  assert.deepEqual(rules.translate('abc123def'), { uri: 'sip:123@example.com' });
  assert.deepEqual(rules.translate('xyz'), { uri: 'sip:never@example.com' });
});

test('anchors only when written', () => {
  const rules = compileOk([rule('^1001$', 'sip:1001@127.0.0.1:5070')]);
  assert.deepEqual(rules.translate('1001'), { uri: 'sip:1001@127.0.0.1:5070' });
  assert.equal(rules.translate('10010'), undefined);
  assert.equal(rules.translate('x1001'), undefined);
});

test('no rule matches: undefined', () => {
  assert.equal(compileOk([rule('^[0-9]+$', 'sip:$1@h')]).translate('alice'), undefined);
  assert.equal(TranslationRules.empty.translate('1001'), undefined);
});

test('$1..$9 are replaced by the groups; unmatched groups become empty', () => {
  const rules = compileOk([rule('^(a)(b)(c)(d)(e)(f)(g)(h)(i)$', '$9$8$7$6$5$4$3$2$1')]);
  assert.equal(rules.translate('abcdefghi')?.uri, 'ihgfedcba');
  const optional = compileOk([rule('^([0-9]+)(x([0-9]+))?$', 'sip:$1;ext=$3@h')]);
  assert.equal(optional.translate('123')?.uri, 'sip:123;ext=@h');
  assert.equal(optional.translate('123x45')?.uri, 'sip:123;ext=45@h');
});

test('$0, $$, $x and $12 are not group 0 or 12', () => {
  const rules = compileOk([rule('^(7)$', '$0-$$-$x-$12')]);
  assert.equal(rules.translate('7')?.uri, '$0-$$-$x-72');
});

test('an output without groups is used as written', () => {
  assert.equal(compileOk([rule('^9', 'sip:operator@example.com')]).translate('9123')?.uri, 'sip:operator@example.com');
});

test('a leading (?i) becomes the i flag', () => {
  const rules = compileOk([rule('(?i)^sip:(ALICE)@', 'sip:$1@example.com')]);
  assert.equal(rules.translate('SIP:alice@x')?.uri, 'sip:alice@example.com');
  const cs = compileOk([rule('^sip:ALICE@', 'x')]);
  assert.equal(cs.translate('sip:alice@x'), undefined);
});

test('patterns compile with the u flag', () => {
  const r = compilePattern('^\\u{1F600}$');
  assert.ok(r.ok);
  assert.ok(r.ok && r.pattern.regex.flags.includes('u'));
  assert.ok(r.ok && r.pattern.regex.test('\u{1F600}'));
});

test('\\- (a PCRE escape the u flag refuses) compiles without u and warns naming the line', () => {
  const { rules, problems } = TranslationRules.compile([rule('^([0-9]+)\\-([0-9]+)$', 'sip:$1$2@h', 7)]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.severity, 'warning');
  assert.equal(problems[0]?.line, 7);
  assert.match(problems[0]?.message ?? '', /u flag/);
  assert.equal(rules.translate('555-1234')?.uri, 'sip:5551234@h');
});

test('an invalid pattern is an error with file and line, and the rule is left out', () => {
  const { rules, problems } = TranslationRules.compile([rule('([0-9]+', 'x', 4), rule('.', 'y', 6)]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.severity, 'error');
  assert.equal(problems[0]?.file, 'clicktocall.config');
  assert.equal(problems[0]?.line, 4);
  assert.equal(problems[0]?.setting, 'TranslationPattern');
  assert.match(problems[0]?.message ?? '', /not a valid pattern/);
  assert.equal(rules.size, 1);
  assert.equal(rules.translate('a')?.uri, 'y');
});

test('an output naming a group the pattern lacks is a warning on the output line', () => {
  const { problems } = TranslationRules.compile([rule('^(a)$', '$1$3', 2, { outputLine: 3 })]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.severity, 'warning');
  assert.equal(problems[0]?.setting, 'TranslationOutput');
  assert.equal(problems[0]?.line, 3);
});

test('a rule carries its mode', () => {
  const rules = compileOk([rule('^1', 'sip:a@h', 1, { mode: 'anchored' }), rule('^2', 'sip:b@h', 3)]);
  assert.deepEqual(rules.translate('1'), { uri: 'sip:a@h', mode: 'anchored' });
  assert.deepEqual(rules.translate('2'), { uri: 'sip:b@h' });
  assert.equal(rules.sources.length, 2);
});

test('translating repeatedly gives the same answer (no lastIndex state)', () => {
  const rules = compileOk([rule('([0-9]+)', 'sip:$1@h')]);
  for (let i = 0; i < 5; i++) assert.equal(rules.translate('n42')?.uri, 'sip:42@h');
});

test('matchesAnyPattern', () => {
  const p = ['^sip:[^@]+@127\\.0\\.0\\.1', '(?i)@EXAMPLE\\.com$'].map((s) => {
    const r = compilePattern(s);
    assert.ok(r.ok);
    return r.pattern;
  });
  assert.equal(matchesAnyPattern(p, 'sip:a@127.0.0.1:5060'), true);
  assert.equal(matchesAnyPattern(p, 'sip:b@example.COM'), true);
  assert.equal(matchesAnyPattern(p, 'sip:c@evil.net'), false);
  assert.equal(matchesAnyPattern([], 'sip:c@evil.net'), false);
});
