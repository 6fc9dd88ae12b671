// A small cache of DNS answers so that every request to the same domain does not repeat the
// NAPTR → SRV → A/AAAA chain. Bounded in entries and in lifetime; the clock is injected.

export interface DnsCacheOptions {
  /** Most entries kept; the least recently used goes first. */
  maxEntries?: number;
  /** No answer is kept longer than this, whatever its TTL says. */
  maxTtlMs?: number;
  /** Lifetime of "no such record" answers (RFC 2308 negative caching, simplified). */
  negativeTtlMs?: number;
  /** Lifetime of NAPTR and SRV answers: node:dns does not report their TTL. */
  unknownTtlMs?: number;
  now?: () => number;
}

interface Entry {
  expiresAt: number;
  /** undefined stands for a cached "no such record". */
  value: unknown;
}

export class DnsCache {
  readonly maxEntries: number;
  readonly maxTtlMs: number;
  readonly negativeTtlMs: number;
  readonly unknownTtlMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: DnsCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 512);
    this.maxTtlMs = Math.max(0, options.maxTtlMs ?? 300_000);
    this.negativeTtlMs = Math.min(this.maxTtlMs, Math.max(0, options.negativeTtlMs ?? 30_000));
    this.unknownTtlMs = Math.min(this.maxTtlMs, Math.max(0, options.unknownTtlMs ?? 60_000));
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** `hit: false` when absent or expired; a hit with `value: undefined` is a cached "none". */
  get(key: string): { hit: boolean; value: unknown } {
    const entry = this.entries.get(key);
    if (entry === undefined) return { hit: false, value: undefined };
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return { hit: false, value: undefined };
    }
    // Re-insert so that Map order is least-recently-used first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { hit: true, value: entry.value };
  }

  /** Keeps `value` for `ttlMs`, capped at maxTtlMs; a TTL of 0 is not kept at all. */
  set(key: string, value: unknown, ttlMs: number): void {
    const lifetime = Math.min(this.maxTtlMs, ttlMs);
    if (!(lifetime > 0)) return;
    this.entries.delete(key);
    this.entries.set(key, { expiresAt: this.now() + lifetime, value });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  setNegative(key: string): void {
    this.set(key, undefined, this.negativeTtlMs);
  }

  clear(): void {
    this.entries.clear();
  }
}
