/**
 * `RecordRetentionDays` (decisions.md §2, default 90): calls created longer ago than that are
 * deleted with their events, soon after start and then once a day. A large purge goes in
 * slices with a turn of the event loop between them, so calls are never held up for long.
 * 0 (or less) keeps records for ever.
 */
import type { TimerHandle, TimerHost } from '../sip/timer.js';
import type { CallStore } from './store.js';

export const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** Between purges; a day unless a test says otherwise. */
  intervalMs?: number;
  /** Calls deleted per slice. */
  sliceSize?: number;
  /** First purge this long after start. */
  firstDelayMs?: number;
  reportError(err: unknown, where: string): void;
  /** After each purge, with how many calls it deleted (logs, tests). */
  onPurged?: (deleted: number) => void;
}

/** Returns `stop` (shutdown: a pending timer would keep the process alive). */
export function startRetention(store: CallStore, days: number, timers: TimerHost, opts: RetentionOptions): () => void {
  if (!(days > 0)) return () => {};
  const intervalMs = opts.intervalMs ?? DAY_MS;
  const sliceSize = opts.sliceSize ?? 1000;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const schedule = (fn: () => void, ms: number): void => {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };

  const purge = (cutoff: number, deletedSoFar: number): void => {
    let deleted: number;
    try {
      deleted = store.deleteOlderThan(cutoff, sliceSize);
    } catch (err) {
      opts.reportError(err, 'store.retention');
      schedule(start, intervalMs);
      return;
    }
    if (deleted === sliceSize) {
      schedule(() => purge(cutoff, deletedSoFar + deleted), 0);
      return;
    }
    opts.onPurged?.(deletedSoFar + deleted);
    schedule(start, intervalMs);
  };

  const start = (): void => purge(timers.now() - days * DAY_MS, 0);

  schedule(start, opts.firstDelayMs ?? 0);
  return () => {
    stopped = true;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
}
