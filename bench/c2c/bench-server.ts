/**
 * The server under test: the compiled CLI (dist/cli.js, as users run it) in its own process,
 * pinned to its core, with a bench config in a temporary folder — UDP/TCP SIP, XML and HTTP on
 * 127.0.0.1, limits raised, an API key for REST, the default LogLevel (INFO) and TraceCalls.
 * Its CPU and RSS come from /proc; its counters from GET /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinnedCommand, type Pinning } from './affinity.js';
import { freeTcpPort, freeUdpTcpPort } from './ports.js';
import { clockTicksPerSecond, readProcUsage, type ProcUsage } from './proc-usage.js';
import { parseMetrics, type ServerMetrics } from './server-metrics.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

export interface BenchServerOptions {
  cliPath: string;
  pinning: Pinning;
  /** RingTimeout in seconds (the no-answer destinations wait this long for the CANCEL). */
  ringTimeoutS: number;
  /** Extra `Name = Value` lines. */
  extra?: string[];
  /** Extra node options for the server process (e.g. --cpu-prof --cpu-prof-dir DIR). */
  nodeArgs?: string[];
}

export interface BenchServer {
  readonly pid: number;
  readonly sipPort: number;
  readonly xmlPort: number;
  readonly httpPort: number;
  /** Bearer key for REST and the SSE stream. */
  readonly apiKey: string;
  readonly configLines: readonly string[];
  usage(): ProcUsage | undefined;
  metrics(): Promise<ServerMetrics>;
  /** Everything the process printed (stdout + stderr), for error reports. */
  output(): string;
  /** The first `max` "internal error" lines of the server's log (rotated files included), each cut to 600 characters. */
  internalErrorLines(max?: number): string[];
  stop(): Promise<void>;
}

/** Log lines of `dir`'s clicktocall.log* that report an internal error (server.ts `internalError`). */
export function internalErrorLines(dir: string, max = 3): string[] {
  const found: string[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith('clicktocall.log')).sort().reverse(); // oldest rotation first
  } catch {
    return found;
  }
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('"msg":"internal error"')) continue;
      found.push(line.slice(0, 600));
      if (found.length >= max) return found;
    }
  }
  return found;
}

export async function startBenchServer(opts: BenchServerOptions): Promise<BenchServer> {
  if (!existsSync(opts.cliPath)) throw new Error(`${opts.cliPath} is missing: build with \`npx tsc -p tsconfig.json\``);
  const dir = mkdtempSync(join(tmpdir(), 'c2c-bench-'));
  const apiKey = randomBytes(24).toString('base64url');
  const keyHash = createHash('sha256').update(apiKey, 'utf8').digest('hex');
  const ticks = clockTicksPerSecond();
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const sipPort = await freeUdpTcpPort();
    const xmlPort = await freeTcpPort();
    const httpPort = await freeTcpPort();
    const lines = [
      'IPAddress = 127.0.0.1',
      `UDPTCPPort = ${sipPort}`,
      'TLSPort = 0',
      `XmlRpcPort = ${xmlPort}`,
      `HttpPort = ${httpPort}`,
      // Defaults kept on purpose (issue 6): LogLevel INFO, TraceCalls 1000, RFC 3261 timers.
      `LogFilename = ${join(dir, 'clicktocall.log')}`,
      `DatabaseFile = ${join(dir, 'clicktocall.db')}`,
      'TranslationPattern = ^(sips?:.*)$',
      'TranslationOutput = $1',
      `RingTimeout = ${opts.ringTimeoutS}`,
      'MaxConcurrentCalls = 10000000',
      'MaxCallsPerSecondPerClient = 1000000',
      'MaxConcurrentCallsPerClient = 10000000',
      'XmlMaxRequestsPerConnection = 1000000',
      'DrainTimeout = 1',
      `ApiKey = bench|${keyHash}`,
      ...(opts.extra ?? []),
      // C2C_BENCH_CONFIG: extra config lines separated by ';' (experiments: `LogLevel = WARNING` …).
      ...(process.env['C2C_BENCH_CONFIG']?.split(';').map((l) => l.trim()).filter(Boolean) ?? []),
    ];
    const file = join(dir, 'bench.config');
    writeFileSync(file, lines.join('\n') + '\n');
    // The server as it is shipped: with the V8 flags npm start and the systemd unit pass.
    const [cmd, args] = pinnedCommand(opts.pinning, opts.pinning.serverCpu, [process.execPath, ...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []),
      // C2C_BENCH_KEEP: SIGUSR2 writes a heap snapshot into the kept folder (the hold test sends it).
      ...(process.env['C2C_BENCH_KEEP'] ? ['--heapsnapshot-signal=SIGUSR2'] : []),
      // C2C_BENCH_NODE_ARGS: extra flags for the server's node (`--trace-gc` …; output in stdout.txt when kept).
      ...(process.env['C2C_BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), opts.cliPath, '--config', file]);
    const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => {
      // Keep the start and the last 64 kB: the log goes to the file, this is for errors only.
      out += d.toString();
      if (out.length > 256_000) out = out.slice(0, 64_000) + '\n…\n' + out.slice(-64_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    if (process.env['C2C_BENCH_KEEP']) {
      const all = createWriteStream(join(dir, 'stdout.txt'));
      child.stdout!.pipe(all);
      child.stderr!.pipe(all);
    }
    const ready = await waitReady(child, () => out, 15_000);
    if (!ready || child.pid === undefined) {
      child.kill('SIGKILL');
      lastError = out;
      if (/in use|EADDRINUSE/.test(out)) continue;
      break;
    }
    const pid = child.pid;
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return {
      pid, sipPort, xmlPort, httpPort, apiKey, configLines: lines,
      usage: () => readProcUsage(pid, ticks),
      metrics: async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
        return parseMetrics(await res.text());
      },
      output: () => out,
      internalErrorLines: (max) => internalErrorLines(dir, max),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        process.removeListener('exit', kill);
        // C2C_BENCH_KEEP=1 keeps the server's folder (config, log, database) to look into a failure.
        if (process.env['C2C_BENCH_KEEP']) process.stderr.write(`bench: server folder kept: ${dir}\n`);
        else rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`clicktocall did not start:\n${lastError.slice(-4000)}`);
}

function waitReady(child: ChildProcess, output: () => string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const check = () => {
      if (/^ready /m.test(output())) done(true);
    };
    const onExit = () => done(false);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', onExit);
      resolve(ok);
    };
    child.stdout!.on('data', check);
    child.once('exit', onExit);
  });
}
