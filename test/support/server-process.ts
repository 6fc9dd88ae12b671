/**
 * Starts the real `clicktocall` command (dist/cli.js, as users run it) with a config file written
 * by the test, waits for its `ready …` line, and stops it with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreeSipPort, findFreeTcpPort, PORT_TAKEN } from './baresip.js';

const CLI = resolve('dist/cli.js');

export interface ServerProcess {
  sipPort: number;
  xmlPort: number;
  httpPort: number;
  readyLine: string;
  dir: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** `settings`: extra config lines (`Name = Value`); ports and a short-timeout base are added. */
export async function startServerProcess(settings: string[], opts: { xml?: boolean; http?: boolean } = {}): Promise<ServerProcess> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it in pretest)');
  const dir = mkdtempSync(join(tmpdir(), 'c2c-server-'));
  for (let attempt = 0; ; attempt++) {
    const sipPort = await findFreeSipPort();
    const xmlPort = opts.xml === false ? 0 : await findFreeTcpPort();
    const httpPort = opts.http === false ? 0 : await findFreeTcpPort();
    const lines = [
      'IPAddress = 127.0.0.1',
      `UDPTCPPort = ${sipPort}`,
      'TLSPort = 0',
      `XmlRpcPort = ${xmlPort}`,
      `HttpPort = ${httpPort}`,
      'LogLevel = DEBUG',
      `LogFilename = ${join(dir, 'clicktocall.log')}`,
      'SipT1 = 100',
      'RingTimeout = 20',
      'ReferNotifyTimeout = 10',
      'DrainTimeout = 1',
      ...settings,
    ];
    const file = join(dir, 'test.config');
    writeFileSync(file, lines.join('\n') + '\n');
    const child = spawn(process.execPath, [CLI, '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    const ready = await new Promise<string | undefined>((resolveReady) => {
      const timer = setTimeout(() => resolveReady(undefined), 10_000);
      const check = () => {
        const m = /^ready .*$/m.exec(out);
        if (m) { clearTimeout(timer); resolveReady(m[0]); }
      };
      child.stdout!.on('data', check);
      child.on('exit', () => { clearTimeout(timer); resolveReady(undefined); });
    });
    if (!ready) {
      child.kill('SIGKILL');
      if (PORT_TAKEN.test(out) && attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`clicktocall did not start:\n${out}`);
    }
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    return {
      sipPort, xmlPort, httpPort, readyLine: ready, dir,
      output: () => out,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 8000);
        const code = await exit;
        clearTimeout(t);
        process.removeListener('exit', kill);
        rmSync(dir, { recursive: true, force: true });
        return code;
      },
    };
  }
}

/** A client of the XML interface: sends documents, collects the byte stream. */
export class XmlClient {
  private data = '';
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { this.data += d; });
  }

  static async connect(port: number): Promise<XmlClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => { socket.once('connect', res); socket.once('error', rej); });
    return new XmlClient(socket);
  }

  send(doc: string): void {
    this.socket.write(doc);
  }

  text(): string {
    return this.data;
  }

  /** Waits until the stream holds `count` `<Result` elements (or one matching `until`). */
  async waitFor(until: RegExp, ms: number): Promise<string> {
    const end = Date.now() + ms;
    while (!until.test(this.data)) {
      if (Date.now() > end) throw new Error(`XML stream did not match ${until} in ${ms} ms; got:\n${this.data}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.data;
  }

  close(): void {
    this.socket.destroy();
  }
}
