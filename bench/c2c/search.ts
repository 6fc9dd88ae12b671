/**
 * "Sustained" (issue 6): the closed-loop window is stepped up until a step fails a session or its
 * rate stops improving (latency then only grows); the best zero-failure step is run again for the
 * full duration (the figure reported), then a fixed-rate run at half that rate measures latency
 * without queueing.
 */
import type { Pinning } from './affinity.js';
import type { C2cBudget } from './budget.js';
import type { Via } from './driver.js';
import { scenario, type ScenarioName } from './scenarios.js';
import { runStep, type StepOptions, type StepResult } from './step.js';

export interface SustainedResult {
  scenario: ScenarioName;
  via: Via;
  describe: string;
  /** Every search step, in order. */
  steps: StepResult[];
  /** The best zero-failure window of the search (undefined when even the first failed). */
  bestWindow?: number;
  /** The confirmation run at bestWindow (or the best step itself when confirmMs is 0). */
  sustained?: StepResult;
  /** Confirmation runs that failed sessions, before the one in `sustained` (each at a smaller window). */
  failedConfirmations: StepResult[];
  /** The fixed-rate run at half the sustained rate with the median request→INVITE p99. */
  halfRate?: StepResult;
  /** Every half-rate run, in order (halfRate is one of them). */
  halfRateRuns?: StepResult[];
}

export interface SearchOverrides {
  windows?: number[];
  rate?: number;
  confirmMs?: number;
}

export async function findSustained(
  name: ScenarioName, via: Via, b: C2cBudget, cliPath: string, pinning: Pinning,
  progress: (text: string) => void, over: SearchOverrides = {},
): Promise<SustainedResult> {
  const spec = scenario(name);
  const base: Omit<StepOptions, 'load' | 'durationMs' | 'lingerMs'> = {
    cliPath, pinning, scenario: spec, via, transport: b.transport, drainMs: b.drainMs, ringMs: b.ringMs,
    holdMs: b.holdMs, ringTimeoutS: b.ringTimeoutS, initiatorPhones: b.initiatorPhones,
    xmlConnections: b.xmlConnections, serverExtra: b.serverExtra, serverNodeArgs: b.serverNodeArgs,
  };
  const result: SustainedResult = { scenario: name, via, describe: spec.describe, steps: [], failedConfirmations: [] };
  const confirmMs = over.confirmMs ?? b.confirmMs;
  const line = (s: StepResult) =>
    `${s.sessionsPerSec.toFixed(0)}/s, ${s.succeeded}/${s.started} ok${s.failed ? `, FAILED ${JSON.stringify(s.failures)}` : ''}`;

  if (over.rate !== undefined) {
    // A fixed rate asked for: one run, no search.
    progress(`c2c ${name} via ${via}: rate ${over.rate}/s for ${confirmMs || b.stepMs} ms …`);
    // Warmed up like the half-rate run: a fixed rate on a cold server measures its JIT (step.ts).
    const s = await runStep({ ...base, load: { kind: 'rate', perSec: over.rate }, durationMs: confirmMs || b.stepMs, lingerMs: b.lingerMs, warmupMs: b.halfRateWarmupMs });
    result.steps.push(s);
    result.sustained = s;
    progress(`  ${line(s)}${clockNote(s)}`);
    return result;
  }

  let best: StepResult | undefined;
  for (const window of over.windows ?? b.windows) {
    progress(`c2c ${name} via ${via}: window ${window}, ${b.stepMs} ms …`);
    const s = await runStep({ ...base, load: { kind: 'window', window }, durationMs: b.stepMs, lingerMs: confirmMs > 0 ? 0 : b.lingerMs });
    result.steps.push(s);
    progress(`  ${line(s)}`);
    if (s.failed > 0) break;
    if (best && s.sessionsPerSec < best.sessionsPerSec * 1.05) {
      // No gain from a larger window: the server is saturated; keep the smaller window if it was at least as fast.
      if (s.sessionsPerSec > best.sessionsPerSec) best = s;
      break;
    }
    best = s;
  }
  if (!best || best.load.kind !== 'window') return result;
  result.bestWindow = best.load.window;
  if (confirmMs > 0) {
    // A confirmation that fails sessions is retried at the next smaller zero-failure window (at most twice).
    const candidates = result.steps
      .filter((s) => s.failed === 0 && s.load.kind === 'window' && s.load.window <= (best.load as { window: number }).window)
      .map((s) => (s.load as { window: number }).window)
      .sort((x, y) => y - x)
      .slice(0, 3);
    for (const window of candidates) {
      progress(`c2c ${name} via ${via}: confirming window ${window} for ${confirmMs} ms …`);
      const run = await runStep({ ...base, load: { kind: 'window', window }, durationMs: confirmMs, lingerMs: b.lingerMs });
      progress(`  ${line(run)}${clockNote(run)}`);
      result.sustained = run;
      result.bestWindow = window;
      if (run.failed === 0) break;
      result.failedConfirmations.push(run);
    }
    if (result.sustained && result.sustained.failed > 0) result.failedConfirmations.pop();
  } else {
    result.sustained = best;
  }
  if (!result.sustained) return result;
  const rate = result.sustained.sessionsPerSec;
  if (b.halfRateMs > 0 && result.sustained.failed === 0 && rate > 0) {
    const half = Math.max(1, Math.round(rate / 2));
    const runs: StepResult[] = [];
    const wanted = Math.max(1, b.halfRateRuns);
    // A run during which the wall clock stepped has no latencies to compare: run another, up to
    // as many again as asked for (a machine whose clock keeps stepping still ends).
    let valid = 0;
    for (let i = 1; valid < wanted && i <= 2 * wanted; i++) {
      progress(`c2c ${name} via ${via}: half rate ${half}/s for ${b.halfRateMs} ms (run ${i}) …`);
      // After a warm-up on the same server: the latency of a running server, not of its first seconds' JIT.
      const run = await runStep({ ...base, load: { kind: 'rate', perSec: half }, durationMs: b.halfRateMs, lingerMs: 0, warmupMs: b.halfRateWarmupMs });
      progress(`  ${line(run)}, request→INVITE p99 ${run.requestToInvite.p99?.toFixed(2)} ms${clockNote(run)}`);
      runs.push(run);
      if (run.clockStepMs === undefined) valid++;
    }
    result.halfRateRuns = runs;
    result.halfRate = medianByInviteP99(runs);
  }
  return result;
}

/** Said after a run whose request→INVITE latencies the wall clock's step voided. */
export function clockNote(r: StepResult): string {
  return r.clockStepMs === undefined ? '' : ` (the wall clock stepped ${r.clockStepMs.toFixed(1)} ms during the run: its request→INVITE figures are void)`;
}

/**
 * The run whose request→INVITE p99 is the median of the runs with latencies to compare: a run
 * whose wall clock stepped is left out unless every run did; a run that failed a session counts
 * as the worst.
 */
export function medianByInviteP99(all: StepResult[]): StepResult {
  const steady = all.filter((r) => r.clockStepMs === undefined);
  const runs = steady.length > 0 ? steady : all;
  const key = (r: StepResult) => (r.failed > 0 || r.requestToInvite.p99 === undefined ? Number.POSITIVE_INFINITY : r.requestToInvite.p99);
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
