/**
 * The soak (issue 7): one scenario at a steady rate for a long time, the server's RSS and heap
 * sampled every few seconds; the slope after warm-up (least squares, bytes per minute) says
 * whether memory grows with the number of sessions, and at the end every call, transaction and
 * dialog must be gone. 1,000,000 sessions is a run by hand (`--soak --rate R --duration S`).
 */
import type { Pinning } from './affinity.js';
import type { C2cBudget } from './budget.js';
import type { Via } from './driver.js';
import { slope } from './percentiles.js';
import { scenario, type ScenarioName } from './scenarios.js';
import { runStep, timersBack, type StepResult } from './step.js';

export interface SoakResult {
  step: StepResult;
  perSec: number;
  /** Samples taken after this many ms were used for the slopes. */
  warmupMs: number;
  rssSlopeBytesPerMin: number;
  heapSlopeBytesPerMin: number;
  /** Each call, transaction and dialog gone at the end (within the linger wait). */
  drained: boolean;
}

export async function runSoak(
  name: ScenarioName, via: Via, perSec: number, durationMs: number, b: C2cBudget, cliPath: string, pinning: Pinning,
): Promise<SoakResult> {
  const step = await runStep({
    cliPath, pinning, scenario: scenario(name), via, transport: b.transport, load: { kind: 'rate', perSec }, durationMs,
    drainMs: b.drainMs, ringMs: b.ringMs, holdMs: b.holdMs, ringTimeoutS: b.ringTimeoutS, initiatorPhones: b.initiatorPhones,
    xmlConnections: b.xmlConnections, lingerMs: b.soak.lingerMs, serverExtra: b.serverExtra, serverNodeArgs: b.serverNodeArgs, sampleEveryMs: b.soak.sampleMs,
  });
  const warmupMs = durationMs * b.soak.warmupFraction;
  const after = (step.samples ?? []).filter((s) => s.tMs >= warmupMs && s.tMs <= durationMs);
  const perMin = (pick: (s: (typeof after)[number]) => number) => slope(after.map((s) => [s.tMs / 60_000, pick(s)] as const));
  const l = step.leftover;
  return {
    step, perSec, warmupMs,
    rssSlopeBytesPerMin: perMin((s) => s.rssBytes),
    heapSlopeBytesPerMin: perMin((s) => s.heapUsedBytes),
    drained: l.callsActive === 0 && l.transactions === 0 && l.dialogs === 0 && timersBack({ timers: l.timers }, { timers: l.timersIdle }),
  };
}
