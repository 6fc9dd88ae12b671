import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer, readContentLength } from '../../src/sip/transport/stream-framer.js';
import type { FramerErrorCode, FramerLimits } from '../../src/sip/transport/stream-framer.js';

interface Recorded {
  messages: string[];
  pings: number;
  pongs: number;
  errors: { code: FramerErrorCode; detail: string }[];
}

function framer(limits: Partial<FramerLimits> = {}): { f: StreamFramer; r: Recorded } {
  const r: Recorded = { messages: [], pings: 0, pongs: 0, errors: [] };
  const f = new StreamFramer(
    { maxMessageSize: 65535, maxHeaders: 100, ...limits },
    {
      message: (d) => r.messages.push(d.toString('latin1')),
      ping: () => r.pings++,
      pong: () => r.pongs++,
      error: (code, detail) => r.errors.push({ code, detail }),
    },
  );
  return { f, r };
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n\r\n'; // CRLFs inside the body and at its end
const INVITE =
  'INVITE sip:bob@example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1\r\n' +
  'Call-ID: a@b\r\n' +
  'CSeq: 1 INVITE\r\n' +
  'Content-Type: application/sdp\r\n' +
  `Content-Length: ${SDP.length}\r\n` +
  '\r\n' +
  SDP;
const BYE = 'BYE sip:bob@example.com SIP/2.0\r\nCall-ID: a@b\r\nl: 5\r\n\r\nhello';

test('the test messages have the body lengths they claim', () => {
  assert.equal(Buffer.byteLength(INVITE.slice(INVITE.indexOf('\r\n\r\n') + 4)), 31);
  assert.ok(INVITE.includes('Content-Length: 31\r\n'));
});

test('two pipelined messages in one chunk come out whole and in order', () => {
  const { f, r } = framer();
  f.push(Buffer.from(INVITE + BYE));
  assert.deepEqual(r.messages, [INVITE, BYE]);
  assert.equal(f.midMessage, false);
  assert.equal(f.buffered, 0);
  assert.equal(f.messages, 2);
});

test('split at every byte position of two pipelined messages', () => {
  const all = Buffer.from(INVITE + BYE);
  for (let i = 0; i <= all.length; i++) {
    const { f, r } = framer();
    f.push(all.subarray(0, i));
    f.push(all.subarray(i));
    assert.deepEqual(r.messages, [INVITE, BYE], `split at ${i}`);
    assert.deepEqual(r.errors, []);
  }
});

test('split at every pair of positions (three chunks), with keep-alives between messages', () => {
  const all = Buffer.from('\r\n\r\n' + INVITE + '\r\n' + BYE + '\r\n\r\n');
  for (let i = 0; i <= all.length; i += 3) {
    for (let j = i; j <= all.length; j += 5) {
      const { f, r } = framer();
      f.push(all.subarray(0, i));
      f.push(all.subarray(i, j));
      f.push(all.subarray(j));
      assert.deepEqual(r.messages, [INVITE, BYE], `split at ${i},${j}`);
      assert.equal(r.pings, 2, `pings at ${i},${j}`);
    }
  }
});

test('one byte at a time', () => {
  const { f, r } = framer();
  const all = Buffer.from(INVITE + BYE + INVITE);
  for (let i = 0; i < all.length; i++) {
    f.push(all.subarray(i, i + 1));
    if (i < INVITE.length - 1) assert.equal(f.midMessage, true);
  }
  assert.deepEqual(r.messages, [INVITE, BYE, INVITE]);
  assert.equal(f.midMessage, false);
});

test('a message handed up is never overwritten by later input', () => {
  const kept: Buffer[] = [];
  const f = new StreamFramer(
    { maxMessageSize: 65535, maxHeaders: 100 },
    { message: (d) => kept.push(d), ping() {}, pong() {}, error() {} },
  );
  const all = Buffer.from(INVITE + BYE + INVITE + BYE);
  for (let i = 0; i < all.length; i += 7) f.push(Buffer.from(all.subarray(i, i + 7)));
  assert.deepEqual(
    kept.map((b) => b.toString('latin1')),
    [INVITE, BYE, INVITE, BYE],
  );
});

test('compact form l: and odd spellings of Content-Length', () => {
  const cases: [string, number][] = [
    ['l: 3', 3],
    ['L:3', 3],
    ['content-length: 3', 3],
    ['CONTENT-LENGTH:3', 3],
    ['Content-Length \t: 3 ', 3],
    ['l :3', 3],
  ];
  for (const [header, n] of cases) {
    const { f, r } = framer();
    const msg = `MESSAGE sip:a@b SIP/2.0\r\n${header}\r\n\r\nabc`;
    f.push(Buffer.from(msg + BYE));
    assert.deepEqual(r.messages, [msg, BYE], header);
    assert.equal(n, 3);
  }
});

test('headers that only look like Content-Length are not read as it', () => {
  const { f, r } = framer();
  const msg = 'MESSAGE sip:a@b SIP/2.0\r\nContent-Lengthx: 99\r\nLength: 99\r\nContact: <sip:l@x>\r\nl: 2\r\n\r\nab';
  f.push(Buffer.from(msg));
  assert.deepEqual(r.messages, [msg]);
  assert.deepEqual(r.errors, []);
});

test('readContentLength classifies lines', () => {
  const line = (s: string) => readContentLength(Buffer.from(s), 0, s.length);
  assert.equal(line('Content-Length: 42'), 42);
  assert.equal(line('l:0'), 0);
  assert.equal(line('Call-ID: 12'), -1);
  assert.equal(line('Content-Type: x'), -1);
  assert.equal(line('Content-Length: -1'), -2);
  assert.equal(line('Content-Length: 12a'), -2);
  assert.equal(line('Content-Length:'), -2);
  assert.equal(line('l: 1 2'), -2);
  assert.ok(line('Content-Length: 99999999999999999999') > 0x7fffffff);
});

test('a body with CRLFs and CRLFCRLF inside is cut by Content-Length, not by blank lines', () => {
  const { f, r } = framer();
  const body = '\r\n\r\nline\r\n\r\n';
  const msg = `NOTIFY sip:a@b SIP/2.0\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  f.push(Buffer.from(msg + msg));
  assert.deepEqual(r.messages, [msg, msg]);
  assert.equal(r.pings, 0);
});

test('CRLFCRLF ping between messages is reported once; a lone CRLF is skipped (and seen as a pong)', () => {
  const { f, r } = framer();
  f.push(Buffer.from('\r\n\r\n'));
  assert.equal(r.pings, 1);
  assert.equal(r.pongs, 0);
  f.push(Buffer.from('\r\n'));
  assert.equal(r.pongs, 1);
  f.push(Buffer.from(BYE));
  assert.equal(r.pongs, 1, 'a pong is not counted twice');
  f.push(Buffer.from('\r\n' + BYE + '\r\n\r\n\r\n\r\n'));
  assert.deepEqual(r.messages, [BYE, BYE]);
  assert.equal(r.pings, 3);
  assert.equal(r.pongs, 2);
  assert.equal(f.midMessage, false);
});

test('a ping split across chunks is still one ping', () => {
  const ping = Buffer.from('\r\n\r\n');
  for (let i = 1; i < 4; i++) {
    const { f, r } = framer();
    f.push(ping.subarray(0, i));
    f.push(ping.subarray(i));
    assert.equal(r.pings, 1, `split at ${i}`);
    assert.equal(f.midMessage, false);
  }
});

test('stray LFs before a start line are ignored (RFC 3261 §7.5)', () => {
  const { f, r } = framer();
  f.push(Buffer.from('\n\n\r\n\n' + BYE));
  assert.deepEqual(r.messages, [BYE]);
  assert.equal(r.pings, 0);
});

test('bare LF line ends are tolerated, including the empty line', () => {
  const { f, r } = framer();
  const msg = 'OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nContent-Length: 2\n\nok';
  f.push(Buffer.from(msg + BYE));
  assert.deepEqual(r.messages, [msg, BYE]);
});

test('missing Content-Length on a stream means an empty body', () => {
  const { f, r } = framer();
  const msg = 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n';
  f.push(Buffer.from(msg + BYE));
  assert.deepEqual(r.messages, [msg, BYE]);
});

test('non-numeric, negative or conflicting Content-Length stops the framer with an error', () => {
  for (const header of ['Content-Length: abc', 'Content-Length: -5', 'l: 1.5', 'Content-Length:', 'Content-Length: 2\r\nl: 3']) {
    const { f, r } = framer();
    f.push(Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\n${header}\r\n\r\nabc` + BYE));
    assert.equal(r.errors.length, 1, header);
    assert.equal(r.errors[0]!.code, 'bad-content-length');
    assert.deepEqual(r.messages, [], 'nothing after the error is framed');
    assert.equal(f.isStopped, true);
    f.push(Buffer.from(BYE));
    assert.deepEqual(r.messages, [], 'input after an error is ignored');
  }
});

test('equal repeated Content-Length values are accepted', () => {
  const { f, r } = framer();
  const msg = 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 3\r\n\r\nabc';
  f.push(Buffer.from(msg));
  assert.deepEqual(r.messages, [msg]);
});

test('a message over maxMessageSize by its Content-Length is an error before the body arrives', () => {
  const { f, r } = framer({ maxMessageSize: 200 });
  f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 500\r\n\r\n'));
  assert.equal(r.errors[0]?.code, 'message-too-large');
  assert.equal(f.buffered, 0, 'held bytes are released');
});

test('a header block over maxMessageSize without an end is an error (no unbounded buffering)', () => {
  const { f, r } = framer({ maxMessageSize: 200 });
  f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nSubject: '));
  for (let i = 0; i < 50 && r.errors.length === 0; i++) f.push(Buffer.alloc(10, 0x61));
  assert.equal(r.errors[0]?.code, 'message-too-large');
  const { f: f2, r: r2 } = framer({ maxMessageSize: 200 });
  for (let i = 0; i < 50 && r2.errors.length === 0; i++) f2.push(Buffer.from('X-Filler: 0123456789\r\n'));
  assert.equal(r2.errors[0]?.code, 'message-too-large', 'many short lines too');
});

test('a message of exactly maxMessageSize passes', () => {
  const head = 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\n';
  const msg = head + '0123456789';
  const { f, r } = framer({ maxMessageSize: msg.length });
  f.push(Buffer.from(msg));
  assert.deepEqual(r.messages, [msg]);
  const { f: f2, r: r2 } = framer({ maxMessageSize: msg.length - 1 });
  f2.push(Buffer.from(msg));
  assert.equal(r2.errors[0]?.code, 'message-too-large');
});

test('header-count limit: maxHeaders lines pass, one more is an error', () => {
  const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join('');
  const ok = `OPTIONS sip:a@b SIP/2.0\r\n${headers(4)}Content-Length: 0\r\n\r\n`; // 5 header lines
  const { f, r } = framer({ maxHeaders: 5 });
  f.push(Buffer.from(ok));
  assert.deepEqual(r.messages, [ok]);
  const { f: f2, r: r2 } = framer({ maxHeaders: 5 });
  f2.push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${headers(5)}Content-Length: 0\r\n\r\n`));
  assert.equal(r2.errors[0]?.code, 'too-many-headers');
  assert.deepEqual(r2.messages, []);
});

test('the header count restarts for each message', () => {
  const msg = 'OPTIONS sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nl: 0\r\n\r\n';
  const { f, r } = framer({ maxHeaders: 3 });
  f.push(Buffer.from(msg + msg + msg));
  assert.deepEqual(r.messages, [msg, msg, msg]);
});

test('midMessage is true only while part of a message is held', () => {
  const { f } = framer();
  assert.equal(f.midMessage, false);
  f.push(Buffer.from('\r\n'));
  assert.equal(f.midMessage, false, 'CRLFs between messages are not a message');
  f.push(Buffer.from(BYE.slice(0, 10)));
  assert.equal(f.midMessage, true);
  f.push(Buffer.from(BYE.slice(10)));
  assert.equal(f.midMessage, false);
});

test('stop() from inside the message callback ends framing at once', () => {
  const got: string[] = [];
  const f: StreamFramer = new StreamFramer(
    { maxMessageSize: 65535, maxHeaders: 100 },
    {
      message: (d) => {
        got.push(d.toString('latin1'));
        f.stop();
      },
      ping() {},
      pong() {},
      error() {},
    },
  );
  f.push(Buffer.from(BYE + BYE));
  assert.deepEqual(got, [BYE]);
});

test('a message in one chunk is a view of that chunk (no copy)', () => {
  const views: Buffer[] = [];
  const f = new StreamFramer({ maxMessageSize: 65535, maxHeaders: 100 }, { message: (d) => views.push(d), ping() {}, pong() {}, error() {} });
  const chunk = Buffer.from(BYE + BYE);
  f.push(chunk);
  assert.equal(views.length, 2);
  assert.equal(views[0]!.buffer, chunk.buffer);
  assert.equal(views[1]!.byteOffset, chunk.byteOffset + BYE.length);
});

test("on a flow we opened ('pinger' role) every CRLF is a pong, so pongs in a row never read as a ping", () => {
  const r = { messages: [] as string[], pings: 0, pongs: 0 };
  const f = new StreamFramer(
    { maxMessageSize: 65535, maxHeaders: 100, keepAliveRole: 'pinger' },
    { message: (d) => r.messages.push(d.toString('latin1')), ping: () => r.pings++, pong: () => r.pongs++, error() {} },
  );
  f.push(Buffer.from('\r\n'));
  f.push(Buffer.from('\r\n'));
  f.push(Buffer.from('\r\n\r\n' + BYE + '\r\n'));
  assert.equal(r.pings, 0);
  assert.equal(r.pongs, 5);
  assert.deepEqual(r.messages, [BYE]);
});
