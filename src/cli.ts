#!/usr/bin/env -S node --initial-old-space-size=256 --v8-pool-size=1
/**
 * The `clicktocall` command: reads `./clicktocall.config` or `--config FILE` with the legacy
 * command-line overrides (decisions.md §8), starts the server, prints one `ready …` line when
 * every listener is up, reloads the TLS files on SIGHUP, and shuts down cleanly on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig, usageText, exposureNotices } from './config/index.js';
import { createLogger, sipMessageLogger } from './log/index.js';
import { startServer } from './server.js';

const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<number> {
  const loaded = loadConfig({ argv, cwd: process.cwd(), readFile: (p) => readFileSync(p, 'utf8') });
  if (loaded.kind === 'command') {
    const c = loaded.command;
    switch (c.action) {
      case 'help':
        process.stdout.write(usageText('clicktocall') + '\n');
        return 0;
      case 'version':
        process.stdout.write(`clicktocall ${VERSION}\n`);
        return 0;
      case 'hash-key': {
        const key = randomBytes(24).toString('base64url');
        const hash = createHash('sha256').update(key).digest('hex');
        const name = c.args[0] ?? 'client';
        process.stdout.write(`key: ${key}\nApiKey = ${name}|${hash}\n`);
        return 0;
      }
      case 'invalid':
        process.stderr.write(`${c.message}\n`);
        if (c.detail) process.stderr.write(`${c.detail}\n`);
        return c.exitCode;
    }
  }
  for (const w of loaded.warnings) process.stderr.write(`WARNING ${w.text}\n`);
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) process.stderr.write(`ERROR ${e.text}\n`);
    process.stderr.write(`clicktocall: not started: ${loaded.errors.length} configuration error(s)\n`);
    return 1;
  }
  const config = loaded.config;
  const { logger, close: closeLog, flushConsole, droppedLines } = createLogger({
    level: config.logLevel,
    file: config.logFilename || undefined,
    maxLines: config.logFileMaxLines,
  });
  for (const n of loaded.notices) logger.info(n);
  for (const n of exposureNotices(config, loaded.fileName ?? 'clicktocall.config')) logger.warn(n);
  let server;
  try {
    server = await startServer(config, {
      logger,
      logDropped: droppedLines,
      sipTrace: logger.isLevelEnabled('trace') ? sipMessageLogger(logger) : undefined,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const msg = e.code === 'EADDRINUSE' ? `a port is already in use (${e.message})` : e.message ?? String(err);
    process.stderr.write(`clicktocall: cannot start: ${msg}\n`);
    logger.error({ err }, 'cannot start');
    await closeLog();
    return 1;
  }
  // The signal handlers go in before the ready line: a supervisor (or a test) may send SIGTERM
  // the moment it reads it, and a signal with no handler yet kills the process without a drain.
  // SIGHUP: new certificate files (e.g. renewed by an ACME client) without dropping calls.
  const onHangup = () => {
    const r = server!.reloadTls();
    if (r.outcome === 'reloaded') logger.info('SIGHUP: TLS certificate reloaded');
    else if (r.outcome === 'off') logger.info('SIGHUP: no TLS listener, nothing to reload');
    else logger.error({ error: r.error }, `SIGHUP: TLS reload failed: ${r.error}; the old certificate stays in use`);
  };
  process.on('SIGHUP', onHangup);
  const stopped = new Promise<void>((resolve) => {
    let signals = 0;
    const stop = (sig: string) => {
      signals++;
      if (signals > 1) {
        logger.warn(`${sig} again: exiting now`);
        process.exit(1);
      }
      logger.info(`${sig}: draining calls (up to ${config.drainTimeout} s), then stopping`);
      server!.shutdown().then(resolve, (err) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  flushConsole(); // what was logged while starting comes before the ready line
  process.stdout.write(server.readyLine + '\n');
  logger.info(server.readyLine);
  await stopped;
  process.off('SIGHUP', onHangup);
  logger.info('stopped');
  await closeLog();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`clicktocall: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(70);
  },
);
