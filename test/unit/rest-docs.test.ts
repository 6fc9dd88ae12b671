import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KEY, restFixture } from '../support/rest-fixture.js';

interface Example {
  expectStatus: number;
  expectType?: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Splits a shell command line into words: '…' literal, "…" and bare words expand $VARS. */
function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  const expand = (text: string) => text.replace(/\$([A-Z_][A-Z0-9_]*)/g, (_m, name: string) => {
    if (!(name in vars)) throw new Error(`docs/api.md uses an unknown variable $${name}`);
    return vars[name]!;
  });
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      word += expand(line.slice(i + 1, end));
      i = end;
      inWord = true;
    } else if (c === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      let j = i;
      while (j < line.length && !" '\"".includes(line[j]!)) j++;
      word += expand(line.slice(i, j));
      i = j - 1;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The curl examples of docs/api.md, each after its `# → <status> [content type]` line. */
function examples(markdown: string): { expectStatus: number; expectType?: string; command: string }[] {
  const out: { expectStatus: number; expectType?: string; command: string }[] = [];
  const lines = markdown.split('\n');
  let expect: { status: number; type?: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const m = /^# → (\d{3})(?: (\S+))?$/.exec(lines[i]!);
    if (m) {
      expect = { status: Number(m[1]), type: m[2] };
      continue;
    }
    if (lines[i] === '```sh') {
      const block: string[] = [];
      for (i++; lines[i] !== '```'; i++) block.push(lines[i]!);
      assert.ok(expect, `the curl example before line ${i} of docs/api.md has no "# → status" line`);
      out.push({ expectStatus: expect.status, expectType: expect.type, command: block.join('\n').replace(/\\\n\s*/g, '') });
      expect = undefined;
    }
  }
  return out;
}

function parseCurl(command: string, vars: Record<string, string>, base: string): Omit<Example, 'expectStatus'> {
  const words = shellWords(command, vars);
  assert.equal(words[0], 'curl');
  const ex: Omit<Example, 'expectStatus'> = { method: 'GET', url: '', headers: {} };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-X') ex.method = words[++i]!;
    else if (w === '-H') {
      const h = words[++i]!;
      const colon = h.indexOf(':');
      ex.headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    } else if (w === '-d') {
      ex.body = words[++i]!;
      if (ex.method === 'GET') ex.method = 'POST';
    } else if (w.startsWith('http')) ex.url = w.replace('http://127.0.0.1:5095', base);
    else assert.ok(['-sS', '-N', '-s', '-S'].includes(w), `unexpected curl option ${w} in docs/api.md`);
  }
  return ex;
}

test('every curl example of docs/api.md runs against a test server and gets the status it states', async (t) => {
  // A record store that holds nothing but can export (the CSV example needs one).
  const store = {
    get: () => undefined,
    list: () => ({ records: [] }),
    exportCsv: (_range: unknown, write: (line: string) => void) => write('id,state\r\n'),
  };
  const f = restFixture({ hosts: ['127.0.0.1'], store });
  // A failed assertion must not leave the server open (the test process would never end).
  t.after(() => f.close());
  const [bound] = await f.server.listen();
  const base = `http://127.0.0.1:${bound!.port}`;
  const markdown = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const found = examples(markdown);
  assert.ok(found.length >= 9, `docs/api.md has ${found.length} examples`);
  const vars: Record<string, string> = { CLICKTOCALL_KEY: KEY };
  const methods = new Set<string>();
  for (const { expectStatus, expectType, command } of found) {
    const ex = parseCurl(command, vars, base);
    const controller = new AbortController();
    const res = await fetch(ex.url, { method: ex.method, headers: ex.headers, body: ex.body, signal: controller.signal });
    assert.equal(res.status, expectStatus, `${ex.method} ${ex.url}`);
    if (expectType) {
      assert.match(String(res.headers.get('content-type')), new RegExp(`^${expectType}`));
      controller.abort();
    } else {
      const body = await res.json() as Record<string, unknown>;
      if (ex.method === 'POST' && res.status === 201) vars.CALL_ID ??= String(body.id);
      if (res.status >= 400) assert.match(String(res.headers.get('content-type')), /^application\/problem\+json/);
    }
    methods.add(`${ex.method} ${new URL(ex.url).pathname.replace(vars.CALL_ID ?? '\u0000', '{id}')}`);
  }
  // Every route is shown at least once.
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) assert.ok(methods.has(`${method.toUpperCase()} ${path}`), `docs/api.md shows ${method.toUpperCase()} ${path}`);
  }
  assert.equal(f.engine.started.length, 1, 'the idempotent retry placed no second call');
});

test('GET /openapi.json lists every route of the plugin, with its parameters and bodies from the route schemas', async (t) => {
  const f = restFixture();
  t.after(() => f.close());
  const registered: string[] = [];
  f.server.app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') registered.push(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  const res = await f.server.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { required: string[] } }> }; responses: Record<string, unknown> }>> };
  assert.equal(doc.openapi, '3.1.0');
  const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  assert.deepEqual(listed.sort(), registered.sort());
  assert.deepEqual(registered.sort(), [
    'DELETE /v1/calls/{id}', 'GET /openapi.json', 'GET /v1/calls', 'GET /v1/calls/{id}', 'GET /v1/calls/{id}/events', 'GET /v1/events', 'GET /v1/records.csv', 'POST /v1/calls',
  ]);
  const create = doc.paths['/v1/calls']!.post!;
  assert.deepEqual(create.requestBody!.content['application/json']!.schema.required, ['initiator', 'destination']);
  assert.ok(create.responses['201'] && create.responses['422'] && create.responses['429']);
  const list = doc.paths['/v1/calls']!.get!;
  assert.deepEqual(list.parameters!.map((p) => `${p.in}:${p.name}`), ['query:state', 'query:since', 'query:limit', 'query:cursor']);
  assert.deepEqual(doc.paths['/v1/calls/{id}']!.get!.parameters!.map((p) => `${p.in}:${p.name}`), ['path:id']);
  // /openapi.json itself is public; /v1 is not.
  assert.equal((await f.server.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '192.0.2.1' })).statusCode, 200);
});
