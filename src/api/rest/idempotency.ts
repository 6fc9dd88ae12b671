/**
 * `Idempotency-Key` for `POST /v1/calls` (draft-ietf-httpapi-idempotency-key-header): the first
 * request with a key places the call; a retry with the same key and the same body gets the same
 * call and places none; the same key with another body is a client error (422). Keys are scoped
 * by caller (API key name, or admin/loopback), bounded in number and kept for `ttlMs`.
 */
import { createHash } from 'node:crypto';

export interface IdempotentOutcome {
  fingerprint: string;
  /** The call placed (or refused) by the first request. */
  callId: string;
  status: number;
  /** The first answer's body when it was a problem (a refusal); a 201 is rebuilt from the call. */
  problem?: Record<string, unknown>;
  at: number;
}

export type IdempotencyLookup =
  | { kind: 'new' }
  | { kind: 'replay'; outcome: IdempotentOutcome }
  | { kind: 'mismatch'; outcome: IdempotentOutcome };

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Keys remembered at most (`HttpMaxIdempotencyKeys`), and for how long each (24 h). */
const DEFAULT_IDEMPOTENCY_KEYS = 10_000;
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export class IdempotencyCache {
  private readonly entries = new Map<string, IdempotentOutcome>();

  constructor(
    private readonly maxEntries = DEFAULT_IDEMPOTENCY_KEYS,
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  lookup(scope: string, key: string, fingerprint: string): IdempotencyLookup {
    const id = `${scope}\n${key}`;
    const outcome = this.entries.get(id);
    if (!outcome) return { kind: 'new' };
    if (this.now() - outcome.at > this.ttlMs) {
      this.entries.delete(id);
      return { kind: 'new' };
    }
    return outcome.fingerprint === fingerprint ? { kind: 'replay', outcome } : { kind: 'mismatch', outcome };
  }

  remember(scope: string, key: string, outcome: Omit<IdempotentOutcome, 'at'>): void {
    const id = `${scope}\n${key}`;
    this.entries.delete(id);
    this.entries.set(id, { ...outcome, at: this.now() });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** SHA-256 of the body with object keys sorted, so that key order and spacing do not matter. */
export function fingerprintOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
