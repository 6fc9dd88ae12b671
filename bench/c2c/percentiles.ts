/** p50 / p99 / max of a latency sample (nearest-rank), in ms; undefined fields when empty. */
export interface LatencySummary {
  count: number;
  min?: number;
  p50?: number;
  p99?: number;
  max?: number;
  /**
   * With a bound: the share of samples above it (0–1). A p99 bound restated — the p99 is under it
   * only when this is under 1 % — it says how far off a missed target is, which the p99 does not.
   */
  over?: { ms: number; share: number };
}

export function summarize(samples: number[], overMs?: number): LatencySummary {
  if (samples.length === 0) return { count: 0 };
  const s = Float64Array.from(samples).sort();
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  const summary: LatencySummary = { count: s.length, min: s[0]!, p50: rank(0.5), p99: rank(0.99), max: s[s.length - 1]! };
  if (overMs !== undefined) {
    let above = 0;
    for (let i = s.length - 1; i >= 0 && s[i]! > overMs; i--) above++;
    summary.over = { ms: overMs, share: above / s.length };
  }
  return summary;
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den === 0 ? Number.NaN : num / den;
}
