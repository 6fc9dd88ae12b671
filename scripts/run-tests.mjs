#!/usr/bin/env node
// Runs every test file under test/ with Node's built-in runner.
// Node 20's `node --test` neither expands globs nor finds .ts files, so the files are listed
// here, and the run fails when the runner reports a different number of files than were found
// (decisions.md §8). Pass paths or substrings as arguments to run a subset.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = walk('test').sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('run-tests: no test files found' + (filters.length ? ` for ${filters.join(' ')}` : ''));
  process.exit(1);
}

const markers = mkdtempSync(join(tmpdir(), 'clicktocall-tests-'));
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    '--import', 'tsx',
    '--import', resolve('scripts/test-marker.mjs'),
    '--test', `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, CLICKTOCALL_TEST_MARKERS: markers } },
);
child.on('close', (code) => {
  const ran = readdirSync(markers).length;
  rmSync(markers, { recursive: true, force: true });
  if (ran !== files.length) {
    console.error(`run-tests: ${files.length} test files found, ${ran} started`);
    process.exit(code || 1);
  }
  console.log(`run-tests: all ${files.length} test files started`);
  process.exit(code ?? 1);
});
