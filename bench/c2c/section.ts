/**
 * The click-to-call sections of `bench/run.ts`: `c2c` (sustained sessions/s per scenario and
 * interface, with the raw UDP echo ceiling measured in the same run), `hold` (N calls held) and
 * `soak` (a steady rate, memory slope). The bench process itself (driver, echo sender) is pinned
 * to the load core; the server and the echo child to the other.
 */
import type { ChildRegistry } from '../child.js';
import { runEchoBench, type EchoBudget, type EchoResult } from '../udp-echo-bench.js';
import { pinPid, planPinning, type Pinning } from './affinity.js';
import type { C2cBudget } from './budget.js';
import type { Via } from './driver.js';
import { runHold, type HoldResult } from './hold.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';
import { findSustained, type SustainedResult } from './search.js';
import { sippAvailable, type SipTransport } from './sipp-farm.js';
import { runSoak, type SoakResult } from './soak.js';

export interface C2cOptions {
  scenarios?: ScenarioName[];
  vias?: Via[];
  transport?: SipTransport;
  /** Confirmation (or fixed-rate) run length. */
  durationMs?: number;
  /** One window instead of the search. */
  window?: number;
  /** A fixed rate instead of the search. */
  rate?: number;
  holdCalls?: number[];
  soakRate?: number;
  soakDurationMs?: number;
  /** Profile the server (node --cpu-prof) into this folder: one .cpuprofile per server process. */
  cpuProfDir?: string;
}

/** The budget with the command line's transport and profiling applied. */
function withOptions(b: C2cBudget, o: C2cOptions): C2cBudget {
  return {
    ...b,
    transport: o.transport ?? b.transport,
    serverNodeArgs: o.cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : b.serverNodeArgs,
  };
}

export interface C2cSection {
  pinning: string;
  transport: SipTransport;
  /** The raw Node UDP round-trip ceiling, measured in this run with the same pinning. */
  echo?: EchoResult;
  results: SustainedResult[];
  /** Pairs not run, and why. */
  skipped: string[];
}

export function prepareLoadProcess(): Pinning {
  if (!sippAvailable()) throw new Error('SIPp is missing (/usr/bin/sipp): `apt-get install sip-tester`');
  const pinning = planPinning();
  pinPid(pinning, pinning.loadCpu, process.pid);
  return pinning;
}

export async function runC2cSection(
  b: C2cBudget, echoBudget: EchoBudget, o: C2cOptions, children: ChildRegistry, cliPath: string, pinning: Pinning,
  progress: (text: string) => void,
): Promise<C2cSection> {
  const budget = withOptions(b, o);
  const section: C2cSection = { pinning: pinning.note, transport: budget.transport, results: [], skipped: [] };
  progress(`c2c: ${pinning.note}`);
  progress('c2c: UDP echo ceiling …');
  const echo = await children.start('./udp-echo-server.ts');
  try {
    if (echo.pid !== undefined) pinPid(pinning, pinning.serverCpu, echo.pid);
    const port = echo.ready.port;
    if (typeof port !== 'number') throw new Error('echo child announced no port');
    section.echo = await runEchoBench(port, echoBudget);
  } finally {
    await echo.stop();
  }
  let matrix = budget.matrix;
  if (o.scenarios || o.vias) {
    const scenarios = o.scenarios ?? [...new Set(matrix.map((m) => m.scenario))];
    const vias = o.vias ?? ['xml'];
    matrix = scenarios.flatMap((scenario) => vias.map((via) => ({ scenario, via })));
  }
  for (const { scenario, via } of matrix) {
    if (budget.transport === 'tcp' && scenario === 'refer') {
      // The server reaches the phone over one TCP connection shared by every call, and SIPp's
      // setdest cannot point a shared inbound connection elsewhere: the phone cannot dial the target.
      const why = `${scenario} via ${via} over TCP: not supported by the SIPp REFER phone (setdest on a shared inbound TCP connection)`;
      section.skipped.push(why);
      progress(`c2c: skipped ${why}`);
      continue;
    }
    section.results.push(await findSustained(scenario, via, budget, cliPath, pinning, progress, {
      windows: o.window !== undefined ? [o.window] : undefined,
      rate: o.rate,
      confirmMs: o.durationMs,
    }));
  }
  return section;
}

export async function runHoldSection(b: C2cBudget, o: C2cOptions, cliPath: string, pinning: Pinning, progress: (t: string) => void): Promise<HoldResult[]> {
  const out: HoldResult[] = [];
  for (const n of o.holdCalls ?? b.hold.calls) out.push(await runHold(n, withOptions(b, o), cliPath, pinning, progress));
  return out;
}

export async function runSoakSection(b: C2cBudget, o: C2cOptions, cliPath: string, pinning: Pinning, progress: (t: string) => void): Promise<SoakResult> {
  const name = o.scenarios?.[0] ?? 'refer';
  const via = o.vias?.[0] ?? 'xml';
  const perSec = o.soakRate ?? o.rate ?? b.soak.perSec;
  const durationMs = o.soakDurationMs ?? o.durationMs ?? b.soak.durationMs;
  progress(`soak: ${name} via ${via} at ${perSec}/s for ${(durationMs / 1000).toFixed(0)} s, sampling every ${b.soak.sampleMs} ms …`);
  return runSoak(name, via, perSec, durationMs, withOptions(b, o), cliPath, pinning);
}

export function parseScenarios(text: string): ScenarioName[] {
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`--scenario takes ${SCENARIOS.join(', ')} (comma-separated), not "${n}"`);
  return names as ScenarioName[];
}

export function parseVias(text: string): Via[] {
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) if (!['xml', 'rest', 'get'].includes(n)) throw new Error(`--via takes xml, rest, get (comma-separated), not "${n}"`);
  return names as Via[];
}
