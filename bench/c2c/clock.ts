/** Wall-clock time in ms with µs resolution: comparable with SIPp's gettimeofday() on the same machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
