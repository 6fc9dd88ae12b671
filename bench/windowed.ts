/**
 * Keeps a fixed number of operations in flight: each completion starts the next, until the count
 * or the time budget is spent; then waits (at most `drainMs`) for the ones still running.
 * Those that never finish are reported as incomplete, not silently dropped.
 */
import { nowMs } from './stats.js';

export interface WindowBudget {
  window: number;
  maxCount: number;
  roundMs: number;
  drainMs: number;
}

export interface WindowOutcome {
  started: number;
  completed: number;
  failed: number;
  incomplete: number;
  /** From the first start to the last completion (or the drain deadline). */
  elapsedMs: number;
  /** Failure reasons and how often they occurred. */
  failures: Record<string, number>;
}

/** `startOne` must call `done` exactly once: with undefined on success, else with a failure reason. */
export type StartOne = (done: (failure?: string) => void) => void;

export function runWindowed(startOne: StartOne, budget: WindowBudget): Promise<WindowOutcome> {
  return new Promise((resolve) => {
    const start = nowMs();
    const deadline = start + budget.roundMs;
    let started = 0;
    let finished = 0;
    let completed = 0;
    let failed = 0;
    let lastFinish = start;
    let stopped = false;
    let resolved = false;
    const failures: Record<string, number> = {};

    const finish = (drainExpired: boolean) => {
      if (resolved) return;
      resolved = true;
      clearTimeout(timeLimit);
      clearTimeout(drainLimit);
      resolve({
        started,
        completed,
        failed,
        incomplete: started - finished,
        elapsedMs: (drainExpired ? nowMs() : lastFinish) - start,
        failures,
      });
    };
    const launch = () => {
      started++;
      let called = false;
      try {
        startOne((failure) => {
          if (called || resolved) return;
          called = true;
          onDone(failure);
        });
      } catch (err) {
        if (!called) {
          called = true;
          onDone(`threw: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
    const onDone = (failure?: string) => {
      finished++;
      lastFinish = nowMs();
      if (failure === undefined) completed++;
      else {
        failed++;
        failures[failure] = (failures[failure] ?? 0) + 1;
      }
      if (lastFinish >= deadline) stopped = true;
      // A new operation starts on a fresh tick, so that a synchronous failure cannot recurse.
      if (!stopped && started < budget.maxCount) setImmediate(launchIfRunning);
      else if (finished === started) finish(false);
    };
    const launchIfRunning = () => {
      if (!resolved && !stopped && started < budget.maxCount) launch();
      else if (!resolved && finished === started) finish(false);
    };
    // The time limit also holds when nothing completes at all.
    const timeLimit = setTimeout(() => {
      stopped = true;
      if (finished === started) finish(false);
    }, budget.roundMs);
    const drainLimit = setTimeout(() => finish(true), budget.roundMs + budget.drainMs);
    for (let i = 0; i < budget.window && started < budget.maxCount; i++) launch();
  });
}
