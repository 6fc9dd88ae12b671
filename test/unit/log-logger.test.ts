import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { redactSecrets } from '../../src/log/redact.js';
import { createLogger } from '../../src/log/logger.js';

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clicktocall-log-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('file lines are JSON with level, time and msg', async (t) => {
  const file = path.join(tempDir(t), 'c.log');
  const out = collector();
  const { logger, close } = createLogger({ level: 'INFO', file, maxLines: 100, destination: out.stream, pretty: false });
  logger.child({ component: 'api' }).info({ calls: 2 }, 'started');
  logger.warn('careful');
  logger.debug('not at INFO');
  await close();
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 2);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(records.map((r) => [r.level, r.msg]), [[30, 'started'], [40, 'careful']]);
  for (const r of records) assert.equal(typeof r.time, 'number');
  assert.equal(records[0]!.component, 'api');
  assert.equal(records[0]!.calls, 2);
  assert.equal(out.text().trimEnd().split('\n').length, 2, 'the console gets the same lines');
});

test('secrets in logged objects are redacted', async () => {
  const out = collector();
  const { logger, close } = createLogger({ level: 'DEBUG', destination: out.stream, pretty: false });
  logger.info(
    {
      password: 'hunter2',
      credential: { user: 'bob', password: 'pw1' },
      headers: { authorization: 'Basic YWRtaW46YWRtaW4=', 'proxy-authorization': 'Digest x' },
      apiKey: 'k-123',
      xmlSecret: 's3',
    },
    'login',
  );
  await close();
  const text = out.text();
  for (const secret of ['hunter2', 'pw1', 'YWRtaW46YWRtaW4=', 'Digest x', 'k-123', 's3"']) {
    assert.equal(text.includes(secret), false, `${secret} leaked: ${text}`);
  }
  const record = JSON.parse(text) as { password: string; credential: { user: string; password: string }; headers: Record<string, string> };
  assert.equal(record.password, '[redacted]');
  assert.deepEqual(record.credential, { user: 'bob', password: '[redacted]' });
  assert.equal(record.headers.authorization, '[redacted]');
});

test('NONE logs nothing and opens no file', async (t) => {
  const file = path.join(tempDir(t), 'none.log');
  const out = collector();
  const { logger, close } = createLogger({ level: 'NONE', file, destination: out.stream, pretty: false });
  logger.fatal('even this');
  logger.error('and this');
  await close();
  assert.equal(out.text(), '');
  assert.equal(fs.existsSync(file), false);
});

test('the level filters: CRIT shows only fatal, STACK shows trace', async () => {
  const crit = collector();
  const a = createLogger({ level: 'CRIT', destination: crit.stream, pretty: false });
  a.logger.error('no');
  a.logger.fatal('yes');
  await a.close();
  assert.deepEqual(crit.text().trimEnd().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg), ['yes']);
  const stack = collector();
  const b = createLogger({ level: 'STACK', destination: stack.stream, pretty: false });
  b.logger.trace('deep');
  await b.close();
  assert.equal((JSON.parse(stack.text()) as { level: number }).level, 10);
});

test('pretty console lines use the legacy level names', async () => {
  const out = collector();
  const { logger, close } = createLogger({ level: 'INFO', destination: out.stream, pretty: true });
  logger.child({ component: 'sip' }).warn({ remote: '10.0.0.1:5060' }, 'no answer');
  await close();
  assert.match(out.text(), /^\d\d:\d\d:\d\d\.\d{3} WARNING sip: no answer remote=10\.0\.0\.1:5060\n$/);
});

test('an unwritable log file is reported, the logger keeps working', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'f'), '');
  const problems: string[] = [];
  const out = collector();
  const { logger, close, droppedLines } = createLogger({
    level: 'INFO',
    file: path.join(dir, 'f', 'c.log'),
    destination: out.stream,
    pretty: false,
    report: (s) => problems.push(s),
  });
  assert.doesNotThrow(() => logger.error('still here'));
  await close();
  assert.equal(problems.length, 1);
  assert.deepEqual(droppedLines(), { file: 1, console: 0 }, 'what /metrics exports (clicktocall_log_lines_dropped_total)');
  assert.match(out.text(), /still here/);
});

test('redactSecrets looks where secrets are logged, copies only what holds one, never changes the caller\'s object', () => {
  const plain = { callId: 'c1', kind: 'connected', leg: 'destination', code: 200, nested: { a: 1 } };
  assert.equal(redactSecrets(plain), plain, 'nothing secret: the same object, no copy');
  const req = { method: 'GET', headers: { authorization: 'Basic x', host: 'h', cookie: 'sid=1' } };
  const input = {
    req,
    upstream: { headers: { 'proxy-authorization': 'Digest y' }, secret: 'z' },
    hookSecret: 'hs',
    headers: { cookie: 'c=2', accept: '*/*' },
    list: ['password'],
    missing: undefined,
  };
  const out = redactSecrets(input) as typeof input;
  assert.deepEqual(out, {
    req: { method: 'GET', headers: { authorization: '[redacted]', host: 'h', cookie: '[redacted]' } },
    upstream: { headers: { 'proxy-authorization': '[redacted]' }, secret: '[redacted]' },
    hookSecret: '[redacted]',
    headers: { cookie: '[redacted]', accept: '*/*' },
    list: ['password'],
    missing: undefined,
  });
  assert.equal(req.headers.authorization, 'Basic x', 'the caller\'s objects are untouched');
  assert.equal(input.hookSecret, 'hs');
  assert.equal(out.list, input.list);
});
