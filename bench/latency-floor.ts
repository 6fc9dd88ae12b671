/**
 * The latency floor of request → INVITE on this machine: what a Node process on the server's
 * pinned core achieves for the path issue 6 times, when it does nothing else than the I/O a
 * click-to-call session costs. Run by hand beside the c2c bench (docs/benchmarks.md, fifteenth
 * round); it is a model, not the server:
 *
 *   node dist-bench/bench/latency-floor.js [--rate 2250] [--duration 15] [--alloc 0] [--keep 0]
 *        [--keep-ms 300] [--burn-us 0] [--node-args=--max-semi-space-size=4]
 *
 * (built by `npm run bench` or `npx tsc -p tsconfig.bench.json`; through `node --import tsx`
 * it runs too, with tsx's loader in both processes and noisier tails).
 *
 * The "server" (its own process on CPU 0, with the server's V8 flags) reads newline-framed
 * requests from 4 TCP connections and at once sends a 600-byte "INVITE" datagram; per session
 * it sends 5 more datagrams on later turns and reads the 5 answers the "phones" send back, like
 * the 12 SIP messages of a REFER session. Optionally it burns `burn-us` of CPU per message (to
 * be as busy as the server at that rate) and allocates `alloc` bytes per session in small
 * objects, `keep` bytes of which stay reachable for `keep-ms` (what outlives a scavenge). The
 * "driver and phones" (one process on CPU 1) send requests at a fixed rate and time each
 * request → INVITE arrival on the same clock. Loopback only; bounded by --duration.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planPinning, pinnedCommand } from './c2c/affinity.js';
import { summarize } from './c2c/percentiles.js';
import { clockTicksPerSecond, readProcUsage } from './c2c/proc-usage.js';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';

const OUT_PER_SESSION = 6;
const CONNECTIONS = 4;
/** Requests of the first 3 s (a fifth of a shorter run) are not measured: JIT warm-up. */
const warmUpMs = (durationMs: number) => Math.min(3000, durationMs / 5);

const role = process.argv[2];
if (role === '--server') runServer();
else if (role === '--client') void runClient();
else void runMain();

function env(name: string): number {
  return Number(process.env[name] ?? 0);
}

function runServer(): void {
  const alloc = env('FLOOR_ALLOC');
  const keep = env('FLOOR_KEEP');
  const keepMs = env('FLOOR_KEEP_MS');
  const burnNs = BigInt(Math.round(env('FLOOR_BURN_US') * 1000));
  const perMessage = Math.round(alloc / (OUT_PER_SESSION * 2) / 100);
  const keptPerMessage = Math.round(keep / (OUT_PER_SESSION * 2) / 100);
  const kept: Array<[number, unknown]> = [];
  const work = (): void => {
    if (burnNs > 0n) {
      const end = process.hrtime.bigint() + burnNs;
      while (process.hrtime.bigint() < end);
    }
    // ~100-byte objects; the first keptPerMessage of them chained and held for keepMs.
    let chain: { next: unknown } | null = null;
    for (let i = 0; i < perMessage; i++) {
      const o = { a: i, b: 'k' + i, next: null as unknown, d: i * 2, e: true };
      if (i < keptPerMessage) {
        o.next = chain;
        chain = o;
      }
    }
    const now = performance.now();
    if (chain) kept.push([now, chain]);
    while (kept.length > 0 && now - kept[0]![0] > keepMs) kept.shift();
  };
  const padding = 'x'.repeat(600);
  const udp = dgram.createSocket('udp4');
  udp.on('message', work);
  /** The phones' port: each connection's first line says it (`phone <port>`). */
  let phonePort = 0;
  const tcp = net.createServer((socket) => {
    socket.setNoDelay(true);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const id = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (id.startsWith('phone ')) {
          phonePort = Number(id.slice(6));
          continue;
        }
        work();
        udp.send(`INVITE ${id} ${padding}`, phonePort, '127.0.0.1');
        for (let i = 1; i < OUT_PER_SESSION; i++) {
          setImmediate(() => {
            work();
            udp.send(`OTHER ${id} ${padding}`, phonePort, '127.0.0.1');
          });
        }
        socket.write(`ok ${id}\n`);
      }
    });
    socket.on('error', () => {});
  });
  udp.bind(0, '127.0.0.1', () => {
    tcp.listen(0, '127.0.0.1', () => {
      process.stdout.write(`ready ${udp.address().port} ${(tcp.address() as net.AddressInfo).port}\n`);
    });
  });
}

async function runClient(): Promise<void> {
  const rate = env('FLOOR_RATE');
  const durationMs = env('FLOOR_DURATION_MS');
  const serverUdp = env('FLOOR_SERVER_UDP');
  const serverTcp = env('FLOOR_SERVER_TCP');
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const firstMeasured = Math.ceil((warmUpMs(durationMs) * rate) / 1000);
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m) => {
    if (m[0] === 0x49 /* I */) {
      const text = m.toString('latin1', 7, 32);
      const id = Number(text.slice(0, text.indexOf(' ')));
      const t0 = sentAt.get(id);
      if (t0 === undefined) return;
      sentAt.delete(id);
      if (id >= firstMeasured) latencies.push(performance.now() - t0);
    } else {
      udp.send(m.subarray(0, 300), serverUdp, '127.0.0.1'); // the phone's answer
    }
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const sockets: net.Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = net.connect(serverTcp, '127.0.0.1');
    s.setNoDelay(true);
    s.on('data', () => {});
    await new Promise<void>((r, j) => s.once('connect', r).once('error', j));
    s.write(`phone ${udp.address().port}\n`);
    sockets.push(s);
  }
  const total = Math.round((rate * durationMs) / 1000);
  const start = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
      for (; next < due; next++) {
        sentAt.set(next, performance.now());
        sockets[next % CONNECTIONS]!.write(`${next}\n`);
      }
      if (next >= total) setTimeout(resolve, 500);
      else setImmediate(tick);
    };
    tick();
  });
  process.stdout.write(JSON.stringify({ lost: sentAt.size, summary: summarize(latencies, 2) }) + '\n');
  for (const s of sockets) s.destroy();
  udp.close();
}

async function runMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '2250' },
      duration: { type: 'string', default: '15' },
      alloc: { type: 'string', default: '0' },
      keep: { type: 'string', default: '0' },
      'keep-ms': { type: 'string', default: '300' },
      'burn-us': { type: 'string', default: '0' },
      'node-args': { type: 'string', default: '' },
    },
    strict: true,
  });
  const numbers = Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'node-args').map(([k, v]) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} takes a number ≥ 0, not "${String(v)}"`);
    return [k, n];
  })) as Record<'rate' | 'duration' | 'alloc' | 'keep' | 'keep-ms' | 'burn-us', number>;
  if (numbers.rate <= 0 || numbers.duration <= 0 || numbers.duration > 600) throw new Error('--rate > 0 and 0 < --duration ≤ 600');
  const childEnv = {
    ...process.env,
    FLOOR_ALLOC: String(numbers.alloc), FLOOR_KEEP: String(numbers.keep), FLOOR_KEEP_MS: String(numbers['keep-ms']),
    FLOOR_BURN_US: String(numbers['burn-us']), FLOOR_RATE: String(numbers.rate), FLOOR_DURATION_MS: String(numbers.duration * 1000),
  };
  const pinning = planPinning();
  const self = fileURLToPath(import.meta.url);
  const loader = self.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const extra = values['node-args'].split(' ').filter(Boolean);
  const [serverCmd, serverArgs] = pinnedCommand(pinning, pinning.serverCpu, [process.execPath, ...SERVER_NODE_FLAGS, ...extra, ...loader, self, '--server']);
  const server = spawn(serverCmd, serverArgs, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const ports = await new Promise<string[]>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`floor server exited (${String(code)})`)));
      server.stdout.on('data', (d: Buffer) => {
        const m = /ready (\d+) (\d+)/.exec(d.toString());
        if (m) resolve([m[1]!, m[2]!]);
      });
    });
    const clientEnv = { ...childEnv, FLOOR_SERVER_UDP: ports[0], FLOOR_SERVER_TCP: ports[1] };
    const ticks = clockTicksPerSecond();
    const cpuBefore = readProcUsage(server.pid!, ticks)?.cpuSeconds ?? NaN;
    const startedAt = performance.now();
    const [clientCmd, clientArgs] = pinnedCommand(pinning, pinning.loadCpu, [process.execPath, ...loader, self, '--client']);
    const client = spawn(clientCmd, clientArgs, { env: clientEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((r) => client.once('exit', () => r()));
    const busy = ((readProcUsage(server.pid!, ticks)?.cpuSeconds ?? NaN) - cpuBefore) / ((performance.now() - startedAt) / 1000);
    const { lost, summary } = JSON.parse(out) as { lost: number; summary: ReturnType<typeof summarize> };
    const f = (x: number | undefined) => (x === undefined ? '?' : x.toFixed(2));
    process.stdout.write(
      `latency floor (${pinning.enabled ? 'server on CPU 0, driver and phones on CPU 1' : pinning.note}; server ${[...SERVER_NODE_FLAGS, ...extra].join(' ')})\n` +
      `  rate ${numbers.rate}/s for ${numbers.duration} s, alloc ${numbers.alloc} B/session, keep ${numbers.keep} B for ${numbers['keep-ms']} ms, burn ${numbers['burn-us']} µs/message\n` +
      `  request→INVITE ms p50 ${f(summary.p50)} p99 ${f(summary.p99)} max ${f(summary.max)}; over 2 ms ${((summary.over?.share ?? NaN) * 100).toFixed(2)} %; ` +
      `${summary.count} measured, ${lost} lost; server core ${(busy * 100).toFixed(1)} % busy\n`,
    );
  } finally {
    server.kill('SIGKILL');
  }
}
