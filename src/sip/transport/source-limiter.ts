// Counts inbound stream connections per source (an IPv4 address, an IPv6 /64) against a ceiling.
import { sourceKey } from './address.js';

export class SourceLimiter {
  private readonly counts = new Map<string, number>();
  private readonly max: number;

  constructor(maxPerSource: number) {
    this.max = maxPerSource;
  }

  /** Takes a slot for the address; returns the release function, or undefined when the source is full. */
  acquire(address: string): (() => void) | undefined {
    const key = sourceKey(address);
    const count = this.counts.get(key) ?? 0;
    if (count >= this.max) return undefined;
    this.counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.counts.get(key) ?? 1) - 1;
      if (now <= 0) this.counts.delete(key);
      else this.counts.set(key, now);
    };
  }

  count(address: string): number {
    return this.counts.get(sourceKey(address)) ?? 0;
  }
}
