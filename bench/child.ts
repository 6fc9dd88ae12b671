/**
 * Benchmark peers run in their own process (own event loop, own core, like the real deployment:
 * load generator on one core, server on the other). This module starts them, waits for their
 * "ready" message over IPC, and guarantees they die: on stop(), on the parent's exit, on SIGINT/
 * SIGTERM. A child also exits by itself when the IPC channel drops (see `serveChild`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMPILED, PROJECT_ROOT } from './root.js';

export interface ChildMessage {
  type: string;
  [field: string]: unknown;
}

export interface BenchChild {
  readonly pid: number | undefined;
  /** The child's "ready" message (it carries the bound port). */
  readonly ready: ChildMessage;
  /** Sends a request and waits for the reply of the same type, at most `timeoutMs`. */
  ask(message: ChildMessage, timeoutMs?: number): Promise<ChildMessage>;
  /** Kills the child (SIGKILL after a short grace) and waits for it to be gone. */
  stop(): Promise<void>;
}

/** Every child still alive, so that an exit path of the parent can kill them all by pid. */
export class ChildRegistry {
  private readonly live = new Set<ChildProcess>();
  private hooked = false;

  /** Forks `entry` (a .ts file next to this one) under tsx and waits up to `timeoutMs` for it to be ready. */
  async start(entry: string, args: string[] = [], timeoutMs = 20_000): Promise<BenchChild> {
    this.hookExit();
    // Compiled (npm run bench): the child's .js next to this file, plain node; else tsx.
    const file = fileURLToPath(new URL(COMPILED ? entry.replace(/\.ts$/, '.js') : entry, import.meta.url));
    const child = fork(file, args, {
      // BENCH_CHILD_NODE_ARGS (space-separated), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the children.
      execArgv: [...(COMPILED ? [] : ['--import', 'tsx']), ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.live.add(child);
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void gone.then(() => this.live.delete(child));
    let ready: ChildMessage;
    try {
      ready = await waitForMessage(child, 'ready', timeoutMs);
    } catch (err) {
      child.kill('SIGKILL');
      await gone;
      throw err;
    }
    return {
      pid: child.pid,
      ready,
      ask: (message, askTimeoutMs = 10_000) => {
        const reply = waitForMessage(child, message.type, askTimeoutMs);
        child.send(message);
        return reply;
      },
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
          await gone;
          clearTimeout(timer);
        }
      },
    };
  }

  /** Synchronous last resort: SIGKILL every child still alive (each by its own pid). */
  killAll(): void {
    for (const child of this.live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    this.live.clear();
  }

  private hookExit(): void {
    if (this.hooked) return;
    this.hooked = true;
    process.once('exit', () => this.killAll());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        this.killAll();
        process.exit(130);
      });
    }
  }
}

function waitForMessage(child: ChildProcess, type: string, timeoutMs: number): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown) => {
      if (m && typeof m === 'object' && (m as ChildMessage).type === type) {
        cleanup();
        resolve(m as ChildMessage);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`benchmark child exited (code ${code}, signal ${signal}) before "${type}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`benchmark child gave no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Child side: announce readiness, answer requests, and exit when the parent goes away
 * (the IPC channel closes when the parent dies, whatever the reason).
 */
export function serveChild(ready: ChildMessage, answer: (m: ChildMessage) => ChildMessage | Promise<ChildMessage>, onExit: () => void | Promise<void>): void {
  if (!process.send) throw new Error('a benchmark child must be started with an IPC channel');
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    const hardStop = setTimeout(() => process.exit(0), 1000);
    hardStop.unref();
    Promise.resolve()
      .then(onExit)
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.on('disconnect', exit);
  process.on('SIGTERM', exit);
  process.on('message', (m: unknown) => {
    if (!m || typeof m !== 'object') return;
    Promise.resolve()
      .then(() => answer(m as ChildMessage))
      .then((reply) => process.send?.(reply))
      .catch((err: unknown) => process.send?.({ type: (m as ChildMessage).type, error: String(err) }));
  });
  process.send(ready);
}
