/**
 * CPU pinning with taskset (util-linux), as issue 6 asks: the server on one core, the load
 * generators on the other. Absent taskset or a single core, nothing is pinned and the output says so.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** True when taskset exists and there are at least two cores. */
  enabled: boolean;
  serverCpu: number;
  loadCpu: number;
  /** What the report prints about it. */
  note: string;
}

export function planPinning(): Pinning {
  const cores = availableParallelism();
  let taskset = false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    taskset = true;
  } catch {
    taskset = false;
  }
  const enabled = taskset && cores >= 2;
  return {
    enabled,
    serverCpu: 0,
    loadCpu: 1,
    note: enabled
      ? 'taskset: server on CPU 0; SIPp phones, driver and echo sender on CPU 1'
      : `not pinned (${taskset ? `${cores} core(s)` : 'no taskset'}): server and load share the cores`,
  };
}

/** [command, args] that run `argv` on `cpu` when pinning is enabled. */
export function pinnedCommand(p: Pinning, cpu: number, argv: string[]): [string, string[]] {
  if (!p.enabled) return [argv[0]!, argv.slice(1)];
  return ['taskset', ['-c', String(cpu), ...argv]];
}

/**
 * Pins an already running process (e.g. this one, or a forked child), every thread of it: `-a`,
 * since without it taskset moves only the main thread, and the threads Node started before (V8's
 * GC and compiler workers, libuv's pool) would go on running on the server's core — the load
 * side's garbage collections competing with the server. Returns false on failure.
 */
export function pinPid(p: Pinning, cpu: number, pid: number): boolean {
  if (!p.enabled) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
