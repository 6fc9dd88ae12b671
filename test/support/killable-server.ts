/**
 * The real `clicktocall` command (dist/cli.js) for crash tests: like startServerProcess, but
 * the database lives where the test says (it outlives the process) and the test can SIGKILL
 * the process and wait for it to be gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findFreeSipPort, findFreeTcpPort, PORT_TAKEN } from './baresip.js';

const CLI = resolve('dist/cli.js');

export interface KillableServer {
  sipPort: number;
  xmlPort: number;
  readyLine: string;
  output(): string;
  /** Sends the signal; resolves with the exit code or signal name once the process is gone. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<number | string | null>;
}

/** Starts the CLI in `dir` with `settings` (config lines) after the port and base lines. */
export async function startKillableServer(dir: string, settings: string[]): Promise<KillableServer> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it in pretest)');
  for (let attempt = 0; ; attempt++) {
    const sipPort = await findFreeSipPort();
    const xmlPort = await findFreeTcpPort();
    const file = join(dir, 'crash.config');
    writeFileSync(file, [
      'IPAddress = 127.0.0.1', `UDPTCPPort = ${sipPort}`, 'TLSPort = 0', `XmlRpcPort = ${xmlPort}`, 'HttpPort = 0',
      'LogLevel = INFO', `LogFilename = ${join(dir, 'clicktocall.log')}`, 'DrainTimeout = 1', ...settings,
    ].join('\n') + '\n');
    const child: ChildProcess = spawn(process.execPath, [CLI, '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    const gone = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(signal ?? code)));
    const ready = await new Promise<string | undefined>((resolveReady) => {
      const timer = setTimeout(() => resolveReady(undefined), 10_000);
      const check = () => {
        const m = /^ready .*$/m.exec(out);
        if (m) { clearTimeout(timer); resolveReady(m[0]); }
      };
      child.stdout!.on('data', check);
      child.once('exit', () => { clearTimeout(timer); resolveReady(undefined); });
    });
    const kill = () => child.kill('SIGKILL');
    if (!ready) {
      kill();
      await gone;
      if (PORT_TAKEN.test(out) && attempt < 3) continue;
      throw new Error(`clicktocall did not start:\n${out}`);
    }
    process.once('exit', kill);
    return {
      sipPort, xmlPort, readyLine: ready,
      output: () => out,
      async stop(signal) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const t = setTimeout(kill, 8000);
        const how = await gone;
        clearTimeout(t);
        process.removeListener('exit', kill);
        return how;
      },
    };
  }
}
