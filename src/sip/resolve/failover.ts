// RFC 3263 §4.3: walk the located targets, moving on when one fails.
import type { Target } from './types.js';

/** Why the current target is given up; only these trigger failover (RFC 3263 §4.3). */
export type FailoverReason = 'timeout' | 'transport-error' | { status: number };

/**
 * RFC 3263 §4.3: try the next element "if a failure occurs (transport error or timeout)" or
 * "a 503 (Service Unavailable) response is received". Any other response is an answer.
 */
export function shouldFailOver(reason: FailoverReason): boolean {
  return typeof reason === 'string' || reason.status === 503;
}

/**
 * A position in an ordered target list. The caller sends to `current()`; on a failover
 * reason it calls `next()` and, RFC 3263 §4.3, sends a new request (new Via branch) there.
 */
export class TargetCursor {
  private readonly targets: readonly Target[];
  private index = 0;

  constructor(targets: readonly Target[]) {
    this.targets = [...targets];
  }

  /** The target to use now; undefined once every target has failed. */
  current(): Target | undefined {
    return this.targets[this.index];
  }

  /** Gives up the current target and returns the next one, or undefined when none is left. */
  next(): Target | undefined {
    if (this.index < this.targets.length) this.index++;
    return this.targets[this.index];
  }

  /** How many targets are left to try, the current one included. */
  get remaining(): number {
    return this.targets.length - this.index;
  }

  get exhausted(): boolean {
    return this.index >= this.targets.length;
  }
}
