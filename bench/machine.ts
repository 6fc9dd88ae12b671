/** Where the figures were measured: CPU, cores, Node, the git commit — read once per run. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  memoryGiB: number;
  /** 1-minute load average when the run began: other work on a shared machine skews the figures. */
  loadAverageAtStart: number;
  commit: string;
  /** True when the working tree differs from the commit (the figures may not be the commit's). */
  dirty: boolean;
}

export function machineInfo(projectRoot: string): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
    commit: git(projectRoot, ['rev-parse', '--short', 'HEAD']) ?? 'unknown',
    dirty: (git(projectRoot, ['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** Read-only git queries; undefined when git or the repository is unavailable. */
function git(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}
