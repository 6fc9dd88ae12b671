/**
 * The project's root folder (the one holding package.json), whether the bench runs from its
 * TypeScript sources under tsx (bench/) or compiled (dist-bench/bench/, as `npm run bench` runs
 * it: the code measured is the JavaScript users run, without tsx's per-function name helpers).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`bench: no package.json above ${from}`);
  }
}

export const PROJECT_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));

/** True when this file runs compiled (dist-bench), false under tsx. */
export const COMPILED: boolean = import.meta.url.endsWith('.js');
