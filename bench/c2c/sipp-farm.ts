/**
 * The phone farm: one SIPp 3.6 process per role (scenarios in ./sipp/), each on its own port,
 * pinned to the load core. SIPp answers whatever comes (no rate limit of its own: -l very high).
 * Each phone logs `invite <user> <s> <µs>` and `done <user>` per call (-trace_logs), writes its
 * counters every second (-trace_stat) and its unexpected messages (-trace_err); stop() ends it
 * with SIGUSR1 (SIPp's graceful exit, which writes the final counters) and reads all three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedCommand, type Pinning } from './affinity.js';
import { freeUdpTcpPort } from './ports.js';
import { nowMs } from '../stats.js';
import { PROJECT_ROOT } from '../root.js';

export type PhoneRole =
  | 'initiator-refer'
  | 'initiator-anchored'
  | 'initiator-refuse'
  | 'initiator-hold'
  | 'destination-answer'
  | 'destination-busy'
  | 'destination-noanswer';

export type SipTransport = 'udp' | 'tcp';

export interface PhoneOptions {
  role: PhoneRole;
  /** A name for its files when one role has several processes. */
  name: string;
  transport: SipTransport;
  pinning: Pinning;
  dir: string;
  /** Initiators: ms between 180 and 200. */
  ringMs: number;
  /** Ms a connected call is held before the phone hangs up. */
  holdMs: number;
  /** SIPp gives up on a call when an expected message does not come within this (counted as failed). */
  recvTimeoutMs: number;
  /** Most calls open at once in this SIPp (its -l). */
  maxCalls: number;
}

/** What one SIPp process saw, from its final statistics, its log and its error log. */
export interface PhoneReport {
  role: PhoneRole;
  name: string;
  port: number;
  created: number;
  successful: number;
  failed: number;
  /** Messages SIPp retransmitted (a sign of loss or of a slow peer: zero expected on loopback). */
  retransmissions: number;
  /** Non-zero failure counters by SIPp's name (FailedUnexpectedMessage, FailedTimeoutOnRecv, …). */
  failures: Record<string, number>;
  outOfCallMessages: number;
  deadCallMessages: number;
  /** Per user: the INVITE's arrival (epoch ms, µs resolution) — initiators log it. */
  inviteAt: Map<string, number>;
  /** Users whose call ran to the end of the scenario. */
  done: Set<string>;
  /** The first lines of the unexpected-message log (empty when none). */
  errorSample: string;
  /** SIPp's own complaints on stdout/stderr (start-up errors). */
  output: string;
}

export interface Phone {
  readonly role: PhoneRole;
  readonly name: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** SIPp's current open calls, from its last statistics line (refreshed every second). */
  currentCalls(): number | undefined;
  stop(): Promise<PhoneReport>;
}

// The XML scenarios stay in the source tree (not copied to dist-bench).
const SCENARIO_DIR = join(PROJECT_ROOT, 'bench', 'c2c', 'sipp') + '/';
const SIPP = '/usr/bin/sipp';
const HOLDING_ROLES = new Set<PhoneRole>(['initiator-refer', 'initiator-anchored', 'initiator-refuse']);

export function sippAvailable(): boolean {
  return existsSync(SIPP);
}

export async function startPhone(o: PhoneOptions): Promise<Phone> {
  // A port probed free can be taken by a concurrent test before SIPp binds it ("errno = 98"):
  // another pair of ports, a few times, before giving up.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPhoneOnce(o);
    } catch (err) {
      if (attempt >= 3 || !/errno = 98|Address already in use/.test(String(err))) throw err;
    }
  }
}

async function startPhoneOnce(o: PhoneOptions): Promise<Phone> {
  const port = await freeUdpTcpPort();
  // SIPp's remote control socket is UDP: probe both, as for the SIP port.
  const controlPort = await freeUdpTcpPort();
  const file = (ext: string) => join(o.dir, `${o.name}.${ext}`);
  const argv = [
    SIPP,
    '-sf', join(SCENARIO_DIR, `${o.role}.xml`),
    '-i', '127.0.0.1',
    '-p', String(port),
    '-cp', String(controlPort),
    // UDP: one socket for every call; TCP: one connection per call (needed by setdest).
    '-t', o.transport === 'udp' ? 'u1' : 'tn',
    '-buff_size', '4194304',
    '-d', String(o.ringMs),
    // Only the initiators that hang up themselves declare holdms.
    ...(HOLDING_ROLES.has(o.role) ? ['-set', 'holdms', String(o.holdMs)] : []),
    '-recv_timeout', String(o.recvTimeoutMs),
    '-l', String(o.maxCalls),
    // TCP: one socket per call; SIPp wants fewer sockets than the open-file limit (20000 here).
    ...(o.transport === 'tcp' ? ['-max_socket', '15000'] : []),
    '-nostdin',
    '-trace_stat', '-stf', file('csv'), '-fd', '1',
    '-trace_logs', '-log_file', file('log'),
    '-trace_err', '-error_file', file('err'),
  ];
  const [cmd, args] = pinnedCommand(o.pinning, o.pinning.loadCpu, argv);
  const child = spawn(cmd, args, { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    if (output.length < 20_000) output += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  await waitListening(child, file('csv'), () => output);
  return {
    role: o.role,
    name: o.name,
    port,
    pid: child.pid,
    currentCalls: () => lastStat(file('csv'))?.get('CurrentCall'),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGUSR1');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      process.removeListener('exit', kill);
      return readReport(o, port, file, output);
    },
  };
}

/** SIPp writes its first statistics line once it runs; an early exit is a start-up error. */
async function waitListening(child: ChildProcess, csv: string, output: () => string): Promise<void> {
  const end = nowMs() + 10_000;
  while (nowMs() < end) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sipp exited at start:\n${output()}`);
    if (existsSync(csv)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sipp did not start within 10 s:\n${output()}`);
}

/** The last line of a SIPp statistics file, by column name (cumulative "(C)" columns and the rest). */
function lastStat(csv: string): Map<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(csv, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const names = lines[0]!.split(';');
  const values = lines[lines.length - 1]!.split(';');
  const m = new Map<string, number>();
  names.forEach((n, i) => {
    const v = Number(values[i]);
    if (n !== '' && Number.isFinite(v)) m.set(n, v);
  });
  return m;
}

/**
 * The first few real problems of a SIPp error log: each entry starts with a date and a tab; the
 * open-files warning and messages for calls that ended well ("Dead call … (successful)": late
 * retransmissions SIPp answers by itself) are left out.
 */
function sampleErrors(log: string, count = 4, chars = 700): string {
  const entries = log.split(/(?=\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\.\d+\t)/);
  return entries
    .filter((e) => /^\d{4}-/.test(e) && !e.includes('Maximum number of open') && !/Dead call \S+ \(successful\)/.test(e))
    .slice(0, count)
    .map((e) => e.slice(0, chars))
    .join('\n');
}

function readReport(o: PhoneOptions, port: number, file: (ext: string) => string, output: string): PhoneReport {
  const stat = lastStat(file('csv')) ?? new Map<string, number>();
  const failures: Record<string, number> = {};
  for (const [k, v] of stat) {
    if (k.startsWith('Failed') && k.endsWith('(C)') && k !== 'FailedCall(C)' && v > 0) failures[k.slice(0, -3)] = v;
  }
  const inviteAt = new Map<string, number>();
  const done = new Set<string>();
  let log = '';
  try {
    log = readFileSync(file('log'), 'utf8');
  } catch {
    // no call reached a <log>: the maps stay empty
  }
  for (const line of log.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts[0] === 'invite' && parts[1] !== undefined) {
      // `invite <user> <epoch s> <µs>` (initiators) or `invite <user>` (destinations)
      if (parts.length >= 4) inviteAt.set(parts[1], Number.parseFloat(parts[2]!) * 1000 + Number.parseFloat(parts[3]!) / 1000);
      else inviteAt.set(parts[1], Number.NaN);
    } else if (parts[0] === 'done' && parts[1] !== undefined) {
      done.add(parts[1]);
    }
  }
  let errorSample = '';
  try {
    errorSample = sampleErrors(readFileSync(file('err'), 'utf8'));
  } catch {
    // no unexpected message
  }
  return {
    role: o.role,
    name: o.name,
    port,
    created: stat.get('TotalCallCreated') ?? 0,
    successful: stat.get('SuccessfulCall(C)') ?? 0,
    failed: stat.get('FailedCall(C)') ?? 0,
    retransmissions: stat.get('Retransmissions(C)') ?? 0,
    failures,
    outOfCallMessages: stat.get('OutOfCallMsgs(C)') ?? 0,
    deadCallMessages: stat.get('DeadCallMsgs(C)') ?? 0,
    inviteAt,
    done,
    errorSample,
    output: output.slice(0, 4000),
  };
}
