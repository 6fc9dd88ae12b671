// Preloaded into every test process by scripts/run-tests.mjs: records that this test file
// actually started, so the runner can check that every file found was run.
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const dir = process.env.CLICKTOCALL_TEST_MARKERS;
const file = process.argv[1];
if (dir && file && file.endsWith('.test.ts')) {
  writeFileSync(join(dir, createHash('sha1').update(file).digest('hex')), file);
}
