/**
 * Debian's chromium for the browser tests, driven by playwright-core (which downloads no browser).
 * decisions.md §8: a missing prerequisite fails the test naming the Debian package, never skips;
 * as root (CI, the developers' machines) the test setup installs it with apt-get instead.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_PACKAGE = 'chromium';

/** Headless, and nothing that reaches beyond this machine (updates, sync, QUIC probes…). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
] as const;

const run = promisify(execFile);
const APT_TIMEOUT_MS = 10 * 60_000;

/** The path of Debian's chromium; installs the package when missing and running as root. */
export async function requireChromium(): Promise<string> {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const missing = `missing ${CHROMIUM_PATH}: install the Debian package ${CHROMIUM_PACKAGE} (apt-get install -y ${CHROMIUM_PACKAGE})`;
  if (process.getuid?.() !== 0) throw new Error(missing);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', CHROMIUM_PACKAGE], { env, timeout: APT_TIMEOUT_MS, maxBuffer: 64 << 20 });
  try {
    await install();
  } catch {
    // A fresh machine may have no package lists yet.
    try {
      await run('apt-get', ['update'], { env, timeout: APT_TIMEOUT_MS, maxBuffer: 64 << 20 });
      await install();
    } catch (err) {
      throw new Error(`${missing}; apt-get failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${missing}; apt-get finished but ${CHROMIUM_PATH} is still missing`);
  return CHROMIUM_PATH;
}

/** A headless chromium on a fresh profile in `profileDir` (launchPersistentContext). */
export async function launchChromium(profileDir: string, executablePath = CHROMIUM_PATH): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
}
