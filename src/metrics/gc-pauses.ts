/**
 * Garbage-collection pauses by kind, as a histogram: `<prefix>nodejs_gc_duration_seconds`.
 *
 * prom-client's own collector (15.x) reads only the first entry of each PerformanceObserver
 * batch, and Node delivers every pause of one event-loop turn in one batch: a turn that ran
 * several collections counted as one (a test: 81 scavenges in one turn read 2), so the figure an
 * operator graphs and the bench's GC line were low whenever turns ran long. This counts every entry.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import type { Histogram } from 'prom-client';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** The kind label of one `gc` entry (`detail.kind` since Node 16). */
export function gcKind(entry: PerformanceEntry): string {
  const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
  return (kind !== undefined && KINDS[kind]) || 'other';
}

/** Observes every entry of a batch in `histogram` (seconds); returns how many. */
export function recordGcEntries(entries: readonly PerformanceEntry[], histogram: Pick<Histogram<'kind'>, 'observe'>): number {
  for (const entry of entries) histogram.observe({ kind: gcKind(entry) }, entry.duration / 1000);
  return entries.length;
}

// One observer for the process, whatever the number of registries (tests build many servers).
const histograms = new Set<Histogram<'kind'>>();
let observer: PerformanceObserver | undefined;

/** Feeds `histogram` with every GC pause from now on, until the returned function is called. */
export function observeGcPauses(histogram: Histogram<'kind'>): () => void {
  histograms.add(histogram);
  if (observer === undefined) {
    observer = new PerformanceObserver((list) => {
      const entries = list.getEntries();
      for (const h of histograms) recordGcEntries(entries, h);
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  return () => {
    histograms.delete(histogram);
    if (histograms.size === 0 && observer !== undefined) {
      observer.disconnect();
      observer = undefined;
    }
  };
}
