/**
 * Bearer API keys (decisions.md §2 `ApiKey = name|sha256hex[|callsPerSecond]`): the key itself is
 * never stored, only its SHA-256; a presented key is hashed and compared with every configured
 * hash in constant time, so neither the comparison nor the position of a match leaks timing.
 * Per-key `callsPerSecond` is a token bucket (bursts up to the rate, refilled continuously).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from '../../config/config.js';

export interface ApiKeyMatch {
  name: string;
  callsPerSecond?: number;
}

export type RateVerdict = { ok: true } | { ok: false; retryAfterS: number };

interface Bucket {
  tokens: number;
  updated: number;
}

export class ApiKeyRing {
  private readonly entries: { name: string; hash: Buffer; callsPerSecond?: number }[];
  private readonly buckets = new Map<string, Bucket>();

  constructor(keys: readonly ApiKeyEntry[], private readonly now: () => number = Date.now) {
    this.entries = keys
      .filter((k) => /^[0-9a-fA-F]{64}$/.test(k.sha256))
      .map((k) => ({ name: k.name, hash: Buffer.from(k.sha256, 'hex'), callsPerSecond: k.callsPerSecond }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The key's entry, or undefined. Checks every entry whatever matched (constant time). */
  match(key: string): ApiKeyMatch | undefined {
    const presented = createHash('sha256').update(key, 'utf8').digest();
    let found: ApiKeyMatch | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.hash) && found === undefined) {
        found = e.callsPerSecond === undefined ? { name: e.name } : { name: e.name, callsPerSecond: e.callsPerSecond };
      }
    }
    return found;
  }

  /** Takes one token from the key's bucket; keys without `callsPerSecond` are not limited here. */
  take(key: ApiKeyMatch): RateVerdict {
    const rate = key.callsPerSecond;
    if (rate === undefined || !(rate > 0)) return { ok: true };
    const now = this.now();
    let b = this.buckets.get(key.name);
    if (!b) {
      b = { tokens: rate, updated: now };
      this.buckets.set(key.name, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.updated) / 1000) * rate);
      b.updated = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    // RFC 9110 §10.2.3: Retry-After in whole seconds, at least 1.
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / rate)) };
  }
}
