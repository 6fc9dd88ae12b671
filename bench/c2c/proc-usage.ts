/**
 * CPU time and memory of another process, read from /proc (Linux): no dependency, no help from
 * the process itself. CPU = utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks);
 * RSS and its peak from /proc/<pid>/status (VmRSS, VmHWM, in kB).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcUsage {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** Clock ticks per second (sysconf(_SC_CLK_TCK)); 100 on every Linux we know when getconf is missing. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** undefined when the process is gone or /proc is not there. */
export function readProcUsage(pid: number, ticksPerSecond: number): ProcUsage | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14 → index 11, stime field 15 → index 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    cpuSeconds: ticks / ticksPerSecond,
    rssBytes: statusKb(status, 'VmRSS') * 1024,
    peakRssBytes: statusKb(status, 'VmHWM') * 1024,
  };
}

function statusKb(status: string, name: string): number {
  const at = status.indexOf(`${name}:`);
  if (at < 0) return 0;
  return Number.parseInt(status.slice(at + name.length + 1).trim(), 10) || 0;
}
