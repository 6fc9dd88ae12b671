// The server's V8 flags (src/node-flags.ts) are on every command line that starts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const flags = SERVER_NODE_FLAGS.join(' ');

test('npm start, the systemd unit and the clicktocall shebang pass SERVER_NODE_FLAGS to node', () => {
  assert.ok(flags.length > 0);
  const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
  assert.equal(start, `node ${flags} dist/cli.js --config clicktocall.config.sample`);
  const execStart = read('deploy/clicktocall.service').split('\n').find((l) => l.startsWith('ExecStart='));
  assert.equal(execStart, `ExecStart=/usr/bin/node ${flags} /opt/clicktocall/dist/cli.js --config /etc/clicktocall/clicktocall.config`);
  assert.equal(read('src/cli.ts').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  assert.match(read('docs/deploy.md'), new RegExp(flags.replace(/[-=]/g, (c) => `\\${c}`)));
});

test('each flag is one V8 accepts on this node', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
