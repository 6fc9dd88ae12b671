/** message/sipfrag status lines (RFC 3420, RFC 3515 §2.4.5), lenient about line ends (RFC 3261 §7.5). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSipfragStatus, sipfrag } from '../../src/sip/dialog/sipfrag.js';

test('CRLF status line', () => {
  assert.deepEqual(parseSipfragStatus(Buffer.from('SIP/2.0 200 OK\r\n')), { status: 200, reason: 'OK' });
});

test('LF-only status line (baresip 1.0)', () => {
  assert.deepEqual(parseSipfragStatus(Buffer.from('SIP/2.0 100 Trying\n')), { status: 100, reason: 'Trying' });
});

test('no line end at all, and a string body', () => {
  assert.deepEqual(parseSipfragStatus('SIP/2.0 180 Ringing'), { status: 180, reason: 'Ringing' });
});

test('leading blank lines and spaces are skipped', () => {
  assert.deepEqual(parseSipfragStatus('\r\n\n  SIP/2.0 486 Busy Here\r\n'), { status: 486, reason: 'Busy Here' });
});

test('a status line followed by headers: only the status line counts', () => {
  const body = 'SIP/2.0 603 Declined\r\nWarning: 399 example.com "no"\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(parseSipfragStatus(Buffer.from(body)), { status: 603, reason: 'Declined' });
  assert.deepEqual(parseSipfragStatus('SIP/2.0 183 Session Progress\nContact: <sip:x@y>\n'), { status: 183, reason: 'Session Progress' });
});

test('reason phrase with spaces kept, trailing spaces trimmed; no reason → empty', () => {
  assert.deepEqual(parseSipfragStatus('SIP/2.0 480 Temporarily Unavailable  \r\n'), { status: 480, reason: 'Temporarily Unavailable' });
  assert.deepEqual(parseSipfragStatus('SIP/2.0 200\r\n'), { status: 200, reason: '' });
});

test('version is case-insensitive', () => {
  assert.deepEqual(parseSipfragStatus('sip/2.0 200 OK'), { status: 200, reason: 'OK' });
});

test('garbage → undefined', () => {
  for (const body of ['', '\r\n\r\n', 'hello', 'SIP/2.0 OK', 'SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/3.0 200 OK',
    'INVITE sip:bob@example.com SIP/2.0\r\n', 'SIP/2.0 2000 OK', 'xSIP/2.0 200 OK']) {
    assert.equal(parseSipfragStatus(Buffer.from(body)), undefined, JSON.stringify(body));
  }
  assert.equal(parseSipfragStatus(Buffer.from([0xff, 0xfe, 0x00, 0x01])), undefined);
});

test('the status line is found in a large body without reading all of it', () => {
  const body = Buffer.concat([Buffer.from('SIP/2.0 200 OK\r\n'), Buffer.alloc(100_000, 0x41)]);
  assert.deepEqual(parseSipfragStatus(body), { status: 200, reason: 'OK' });
});

test('sipfrag() writes a CRLF-terminated status line that parses back', () => {
  const b = sipfrag(180, 'Ringing');
  assert.equal(b.toString(), 'SIP/2.0 180 Ringing\r\n');
  assert.deepEqual(parseSipfragStatus(b), { status: 180, reason: 'Ringing' });
});
