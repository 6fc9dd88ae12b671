import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { redactSipCredentials, sipMessageLogger } from '../../src/log/sip-trace.js';

const INVITE =
  'INVITE sip:bob@example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n' +
  'authorization: Digest username="alice", realm="x", response="secret-hash"\r\n' +
  'Proxy-Authorization : Digest username="alice",\r\n' +
  '  response="folded-secret"\r\n' +
  'Call-ID: abc\r\n' +
  'Content-Length: 28\r\n' +
  '\r\n' +
  'Authorization: body-untouched';

function capture(level: string): { logger: pino.Logger; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level }, stream);
  return { logger, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('Authorization and Proxy-Authorization values are redacted, any case, folded lines too', () => {
  const text = redactSipCredentials(INVITE);
  assert.equal(
    text,
    'INVITE sip:bob@example.com SIP/2.0\r\n' +
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n' +
      'authorization: [redacted]\r\n' +
      'Proxy-Authorization : [redacted]\r\n' +
      'Call-ID: abc\r\n' +
      'Content-Length: 28\r\n' +
      '\r\n' +
      'Authorization: body-untouched',
  );
});

test('a message without credentials comes back unchanged', () => {
  const plain = 'SIP/2.0 200 OK\nVia: x\nAuthentication-Info: nextnonce="n"\n\n';
  assert.equal(redactSipCredentials(plain), plain);
});

test('STACK logs each message at trace, redacted, with direction and peer', async () => {
  const { logger, records } = capture('trace');
  const log = sipMessageLogger(logger);
  log('in', Buffer.from(INVITE), 'udp', { address: '::1', port: 5060 });
  await new Promise((resolve) => setImmediate(resolve));
  const [r] = records();
  assert.equal(r?.level, 10);
  assert.equal(r?.msg, 'received from udp:[::1]:5060 INVITE sip:bob@example.com SIP/2.0');
  assert.equal(r?.direction, 'in');
  assert.equal(r?.bytes, Buffer.byteLength(INVITE));
  assert.equal(String(r?.sip).includes('secret-hash'), false);
  assert.equal(String(r?.sip).includes('folded-secret'), false);
  assert.match(String(r?.sip), /authorization: \[redacted\]/);
});

test('below STACK nothing is logged and the message is not even decoded', () => {
  const { logger, records } = capture('debug');
  const log = sipMessageLogger(logger);
  const data = Buffer.from(INVITE);
  let decoded = false;
  data.toString = () => {
    decoded = true;
    return INVITE;
  };
  log('out', data, 'tcp', { address: '10.0.0.2', port: 5060 });
  assert.equal(decoded, false);
  assert.deepEqual(records(), []);
});

test('long messages are cut at maxBytes', async () => {
  const { logger, records } = capture('trace');
  const log = sipMessageLogger(logger, { maxBytes: 40 });
  log('out', Buffer.from(INVITE), 'tls', { address: '10.0.0.2', port: 5061 });
  await new Promise((resolve) => setImmediate(resolve));
  const [r] = records();
  assert.equal(String(r?.sip).length, 40);
  assert.equal(r?.truncatedTo, 40);
  assert.match(String(r?.msg), /^sent to tls:10\.0\.0\.2:5061 /);
});
