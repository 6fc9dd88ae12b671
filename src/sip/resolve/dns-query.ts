// One DNS question at a time, with a deadline, an optional cache, and failures turned into
// values: the locator never sees a rejected promise from here.
import type { NaptrRecord, RecordWithTtl, SrvRecord } from 'node:dns';
import type { DnsCache } from './dns-cache.js';
import type { DnsLike } from './types.js';

export type QueryFailure = 'not-found' | 'timeout';

export interface QueryResult<T> {
  records: T[];
  /** Set when records is empty: why. */
  failure?: QueryFailure;
}

/** Starts a timer and returns the function that cancels it. Injected by tests. */
export type SetTimer = (callback: () => void, ms: number) => () => void;

export const realTimer: SetTimer = (callback, ms) => {
  const handle = setTimeout(callback, ms);
  handle.unref?.();
  return () => clearTimeout(handle);
};

// node:dns codes meaning "this name has no such record": worth caching, not worth retrying.
const ABSENT_CODES = new Set(['ENODATA', 'ENOTFOUND', 'ENONAME', 'EBADNAME']);

const TIMED_OUT = Symbol('timed out');

export class DnsQuery {
  constructor(
    private readonly dns: DnsLike,
    private readonly timeoutMs: number,
    private readonly cache: DnsCache | undefined,
    private readonly setTimer: SetTimer = realTimer,
  ) {}

  naptr(name: string): Promise<QueryResult<NaptrRecord>> {
    return this.ask('NAPTR', name, (n) => this.dns.resolveNaptr(n), () => this.cache?.unknownTtlMs ?? 0);
  }

  srv(name: string): Promise<QueryResult<SrvRecord>> {
    return this.ask('SRV', name, (n) => this.dns.resolveSrv(n), () => this.cache?.unknownTtlMs ?? 0);
  }

  a(name: string): Promise<QueryResult<RecordWithTtl>> {
    return this.ask('A', name, (n) => this.dns.resolve4(n, { ttl: true }), smallestTtlMs);
  }

  aaaa(name: string): Promise<QueryResult<RecordWithTtl>> {
    return this.ask('AAAA', name, (n) => this.dns.resolve6(n, { ttl: true }), smallestTtlMs);
  }

  private async ask<T>(
    type: string,
    rawName: string,
    send: (name: string) => Promise<T[]>,
    ttlMsOf: (records: T[]) => number,
  ): Promise<QueryResult<T>> {
    const name = normaliseName(rawName);
    const key = `${type} ${name}`;
    const cached = this.cache?.get(key);
    if (cached?.hit) {
      const records = cached.value as T[] | undefined;
      return records ? { records } : { records: [], failure: 'not-found' };
    }
    const outcome = await this.withDeadline(send, name);
    if (outcome === TIMED_OUT) return { records: [], failure: 'timeout' };
    if (Array.isArray(outcome)) {
      if (outcome.length === 0) {
        this.cache?.setNegative(key);
        return { records: [], failure: 'not-found' };
      }
      this.cache?.set(key, outcome, ttlMsOf(outcome));
      return { records: outcome };
    }
    // A rejection: "no such record" is an answer; anything else means the server gave none.
    if (ABSENT_CODES.has(errorCode(outcome))) {
      this.cache?.setNegative(key);
      return { records: [], failure: 'not-found' };
    }
    return { records: [], failure: 'timeout' };
  }

  /** Resolves to the records, the rejection reason, or TIMED_OUT; never rejects. */
  private withDeadline<T>(send: (name: string) => Promise<T[]>, name: string): Promise<T[] | unknown> {
    return new Promise((resolve) => {
      let settled = false;
      let cancel: (() => void) | undefined;
      const finish = (value: unknown): void => {
        if (settled) return;
        settled = true;
        cancel?.();
        resolve(value);
      };
      cancel = this.setTimer(() => finish(TIMED_OUT), this.timeoutMs);
      if (settled) cancel();
      let pending: Promise<T[]>;
      try {
        pending = send(name);
      } catch (error) {
        // A resolver that throws synchronously (e.g. a bad name) is still only a failed query.
        finish(error);
        return;
      }
      // The late answer after our deadline is dropped here, so it never becomes unhandled.
      Promise.resolve(pending).then(finish, finish);
    });
  }
}

function smallestTtlMs(records: RecordWithTtl[]): number {
  let ttl = Infinity;
  for (const r of records) ttl = Math.min(ttl, r.ttl);
  return Number.isFinite(ttl) ? ttl * 1000 : 0;
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
    ? (error as { code: string }).code
    : '';
}

/** DNS names compare case-insensitively; a trailing dot (absolute name) changes nothing here. */
export function normaliseName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
