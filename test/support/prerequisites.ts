// External programs the wire tests need. decisions.md §8: a missing prerequisite FAILS the
// test with the Debian package to install — it never skips.
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

/** Absolute path of `cmd` on PATH, or an Error naming the Debian package that provides it. */
export function requireCommand(cmd: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  throw new Error(`missing ${cmd}: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`);
}

/**
 * `<dir>/tone.wav`: 30 s of 440 Hz, 8 kHz mono 16-bit — what baresip's aufile source needs to
 * answer a PCMU-only offer (ausine runs at 48 kHz only). The file itself is the cache: a second
 * call for the same folder (e.g. one folder per test process) returns the existing file. Written
 * under a temporary name and renamed, so concurrent callers never see half a file.
 */
export function makeToneWav(dir: string): string {
  const wav = join(dir, 'tone.wav');
  if (existsSync(wav)) return wav;
  const sox = requireCommand('sox', 'sox');
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, `tone.${process.pid}.${Date.now()}.partial.wav`);
  try {
    execFileSync(sox, ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', partial, 'synth', '30', 'sine', '440'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
    });
    renameSync(partial, wav);
  } finally {
    rmSync(partial, { force: true });
  }
  return wav;
}
