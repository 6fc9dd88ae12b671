/**
 * `npm run demo` (issue 5, "a newcomer's first minutes"): the server on the sample config with
 * two simulated phones places one call of each mode and prints their events. Run with --once so
 * it stops by itself. (It binds the sample's fixed ports, below the OS's ephemeral range that
 * every other test draws from.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

test('npm run demo places a refer, an anchored and an ood-refer call that all connect', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-demo-'));
  try {
    copyFileSync('clicktocall.config.sample', join(dir, 'clicktocall.config.sample'));
    const child = spawn(process.execPath, [resolve('dist/demo/run.js'), '--once'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.match(out, /^ready sip=udp:127\.0\.0\.1:5072/m);
    const sections = out.split(/\n── /).slice(1);
    assert.deepEqual(sections.map((s) => s.split(':', 1)[0]), ['refer', 'anchored', 'ood-refer']);
    for (const s of sections) {
      assert.match(s, /event connected +200 destination Connected to destination/, s);
      assert.match(s, /record: http:\/\/127\.0\.0\.1:5095\/v1\/calls\//);
    }
    assert.match(sections[2]!, /event fallback .*Out-of-dialog REFER refused \(405\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
