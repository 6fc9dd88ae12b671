import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrettyLine } from '../../src/log/pretty.js';

// A local-time instant, so that the expected clock does not depend on the time zone.
const TIME = new Date(2024, 0, 2, 3, 4, 5, 6).getTime();

test('a record becomes `time LEVEL component: msg key=value …`', () => {
  const line = formatPrettyLine({
    level: 30,
    time: TIME,
    pid: 42,
    hostname: 'h',
    component: 'api',
    msg: 'call placed',
    callId: 'abc',
    from: 'sip:alice@example.com',
    note: 'two words',
    n: 3,
    ok: true,
    leg: { code: 180 },
  });
  assert.equal(line, '03:04:05.006 INFO    api: call placed callId=abc from=sip:alice@example.com note="two words" n=3 ok=true leg={"code":180}\n');
});

test('multi-line text and error stacks go below the line, indented', () => {
  const line = formatPrettyLine({
    level: 50,
    time: TIME,
    msg: 'failed',
    err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' },
    sip: 'OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n',
  });
  assert.equal(
    line,
    '03:04:05.006 ERR     failed err=boom\n' +
      '    Error: boom\n' +
      '        at x (y.js:1:1)\n' +
      '    sip:\n' +
      '      OPTIONS sip:a SIP/2.0\n' +
      '      Via: x\n',
  );
});

test('control characters from the network cannot drive the terminal', () => {
  const line = formatPrettyLine({ level: 20, time: TIME, msg: 'from \x1b[2Jevil\x9b' });
  assert.equal(line, '03:04:05.006 DEBUG   from \\x1b[2Jevil\\x9b\n');
});

test('no component: no colon', () => {
  assert.equal(formatPrettyLine({ level: 60, time: TIME, msg: 'down' }), '03:04:05.006 CRIT    down\n');
});
