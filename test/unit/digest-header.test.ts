import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatChallenge,
  formatCredentials,
  parseChallenges,
  parseCredentials,
  type AuthChallenge,
} from '../../src/sip/digest/index.js';

function challengesOf(value: string | string[]): AuthChallenge[] {
  const parsed = parseChallenges(value);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
}

test('parses one Digest challenge with quoted and token params, names lower-cased', () => {
  const [c, ...rest] = challengesOf(
    'Digest Realm="http-auth@example.org", QOP="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
  assert.equal(rest.length, 0);
  assert.equal(c!.scheme, 'Digest');
  assert.deepEqual({ ...c!.params }, {
    realm: 'http-auth@example.org',
    qop: 'auth, auth-int',
    algorithm: 'SHA-256',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  });
});

test('several challenges in one value, including Basic and a scheme with no params', () => {
  const list = challengesOf(
    'Digest realm="a", nonce="n1", algorithm=SHA-256, qop="auth",Digest realm="a", nonce="n1", algorithm=MD5, Basic realm="a b, c", Negotiate',
  );
  assert.deepEqual(
    list.map((c) => [c.scheme, { ...c.params }]),
    [
      ['Digest', { realm: 'a', nonce: 'n1', algorithm: 'SHA-256', qop: 'auth' }],
      ['Digest', { realm: 'a', nonce: 'n1', algorithm: 'MD5' }],
      ['Basic', { realm: 'a b, c' }],
      ['Negotiate', {}],
    ],
  );
});

test('challenges spread over several header values keep their order', () => {
  const list = challengesOf(['Digest realm="r", nonce="x", algorithm=SHA-256', 'Basic realm="r"', 'Digest realm="r", nonce="x"']);
  assert.deepEqual(list.map((c) => `${c.scheme}/${c.params.algorithm ?? '-'}`), ['Digest/SHA-256', 'Basic/-', 'Digest/-']);
});

test('quoted strings unescape backslashes; whitespace around = and , is tolerated', () => {
  const parsed = parseCredentials('Digest  username = "Mu\\"fa\\\\sa" ,realm="r"\t,\r\n nc = 00000001 , ,  response="ab"');
  assert.ok(parsed.ok);
  assert.deepEqual({ ...parsed.value.params }, { username: 'Mu"fa\\sa', realm: 'r', nc: '00000001', response: 'ab' });
});

test('Basic credentials come back as token68', () => {
  const parsed = parseCredentials('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  assert.ok(parsed.ok);
  assert.equal(parsed.value.scheme, 'Basic');
  assert.equal(parsed.value.token68, 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  assert.deepEqual({ ...parsed.value.params }, {});
});

test('unquoted values may end with "=" and hold SIP URI characters', () => {
  const parsed = parseCredentials('Digest nonce=abc+/de==, uri=sip:bob@biloxi.com, username="bob"');
  assert.ok(parsed.ok);
  assert.equal(parsed.value.params.nonce, 'abc+/de==');
  assert.equal(parsed.value.params.uri, 'sip:bob@biloxi.com');
});

test('malformed values return errors and never throw', () => {
  const bad = [
    '',
    '   ',
    'Digest realm="unterminated',
    'Digest realm="trailing backslash\\',
    'Digest realm="a" nonce="b"',
    'Digest realm="a", realm="b"',
    'Digest =x',
    '"Digest" realm=x',
    'Digest realm=, nonce="x"',
    'Dig(est realm=x',
    '\u0000\u0001garbage',
  ];
  for (const value of bad) {
    const c = parseChallenges(value);
    assert.equal(c.ok, false, `challenge ${JSON.stringify(value)}`);
    if (!c.ok) assert.equal(typeof c.error, 'string');
    assert.equal(parseCredentials(value).ok, false, `credentials ${JSON.stringify(value)}`);
  }
  // Credentials are exactly one item: a second scheme is an error.
  assert.equal(parseCredentials('Digest username="a", Basic realm="b"').ok, false);
  // Non-string input from an untyped caller.
  assert.equal(parseCredentials(undefined as unknown as string).ok, false);
  assert.equal(parseChallenges([42 as unknown as string]).ok, false);
});

test('formatting quotes what RFC 7616 quotes and leaves algorithm, qop, nc, stale bare', () => {
  const challenge = formatChallenge({
    scheme: 'Digest',
    params: { realm: 'r "x"', nonce: 'n', algorithm: 'SHA-256', qop: 'auth', stale: 'true' },
  });
  assert.equal(challenge, 'Digest realm="r \\"x\\"", nonce="n", algorithm=SHA-256, qop="auth", stale=true');
  const credentials = formatCredentials({
    scheme: 'Digest',
    params: { username: 'a\\b', realm: 'r', uri: '/x', algorithm: 'MD5', nonce: 'n', nc: '00000001', cnonce: 'c', qop: 'auth', response: 'ff' },
  });
  assert.equal(
    credentials,
    'Digest username="a\\\\b", realm="r", uri="/x", algorithm=MD5, nonce="n", nc=00000001, cnonce="c", qop=auth, response="ff"',
  );
});

test('format → parse round trip keeps every value', () => {
  const params = { username: 'we\\ird "name", ok', realm: 'r@x', uri: 'sip:a@b;transport=tcp', qop: 'auth', nc: '0000000a', opaque: '' };
  const parsed = parseCredentials(formatCredentials({ scheme: 'Digest', params }));
  assert.ok(parsed.ok);
  assert.deepEqual({ ...parsed.value.params }, params);
  const challenge = { realm: 'r', nonce: 'a,b=c', algorithm: 'MD5-sess', qop: 'auth,auth-int' };
  const back = challengesOf(formatChallenge({ scheme: 'Digest', params: challenge }) + ', ' + formatChallenge({ scheme: 'Basic', params: { realm: 'r' } }));
  assert.equal(back.length, 2);
  assert.deepEqual({ ...back[0]!.params }, challenge);
});

test('formatting refuses CR/LF so a header cannot be injected', () => {
  assert.throws(() => formatCredentials({ scheme: 'Digest', params: { username: 'a\r\nX-Evil: 1' } }), RangeError);
});
