/**
 * Who may have a call placed, and how many (toll-fraud guards, decisions.md §1–§2): allow/deny
 * patterns on the translated URIs of every leg we would dial, per-client call rate and
 * concurrency, and a global concurrency cap. Loopback clients are exempt from the per-client
 * limits unless `LimitLoopback` is set.
 */
import { matchesAnyPattern, type CompiledPattern } from './translate.js';
import type { CallRequest } from './request.js';

export interface AdmissionPolicy {
  destinationAllow: readonly CompiledPattern[];
  destinationDeny: readonly CompiledPattern[];
  initiatorAllow: readonly CompiledPattern[];
  initiatorDeny: readonly CompiledPattern[];
  maxCallsPerSecondPerClient: number;
  maxConcurrentCallsPerClient: number;
  maxConcurrentCalls: number;
  limitLoopback: boolean;
}

export type Admission = { ok: true } | { ok: false; status: 403 | 503; reason: string; text: string };

interface ClientState {
  tokens: number;
  updated: number;
  active: number;
}

export class AdmissionControl {
  private readonly clients = new Map<string, ClientState>();
  private active = 0;

  constructor(
    private policy: AdmissionPolicy,
    private readonly now: () => number,
  ) {}

  /** Checks a request and, when admitted, counts it as active until `release`. */
  admit(req: CallRequest): Admission {
    const p = this.policy;
    // Patterns: every URI we dial passes the destination lists (a "premium" initiator is a toll
    // fraud classic too); the initiator also passes its own lists. Deny wins; no allow list = all.
    for (const uri of [req.initiator, req.destination]) {
      if (matchesAnyPattern(p.destinationDeny, uri) || (p.destinationAllow.length > 0 && !matchesAnyPattern(p.destinationAllow, uri))) {
        return refuse(403, 'destination-not-allowed', `Refused: ${uri} is not an allowed destination`);
      }
    }
    if (matchesAnyPattern(p.initiatorDeny, req.initiator) || (p.initiatorAllow.length > 0 && !matchesAnyPattern(p.initiatorAllow, req.initiator))) {
      return refuse(403, 'initiator-not-allowed', `Refused: ${req.initiator} is not an allowed initiator`);
    }
    if (this.active >= p.maxConcurrentCalls) {
      return refuse(503, 'too-many-calls', 'Refused: too many calls in progress');
    }
    const key = req.client.key;
    const limited = key !== undefined && (p.limitLoopback || !isLoopback(req.client.address));
    if (limited) {
      const s = this.state(key);
      if (s.active >= p.maxConcurrentCallsPerClient) {
        return refuse(503, 'client-concurrency', 'Refused: too many calls in progress for this client');
      }
      if (s.tokens < 1) return refuse(503, 'client-rate', 'Refused: call rate limit for this client');
      s.tokens -= 1;
      s.active += 1;
    }
    this.active += 1;
    return { ok: true };
  }

  /** Whether the server may dial `uri` at all (transfer and hook-rewritten targets too). */
  allowTarget(uri: string): boolean {
    const p = this.policy;
    return !matchesAnyPattern(p.destinationDeny, uri) && (p.destinationAllow.length === 0 || matchesAnyPattern(p.destinationAllow, uri));
  }

  release(req: CallRequest): void {
    this.active = Math.max(0, this.active - 1);
    const key = req.client.key;
    if (key === undefined) return;
    const s = this.clients.get(key);
    if (s) {
      s.active = Math.max(0, s.active - 1);
      this.prune(key, s);
    }
  }

  get activeCalls(): number {
    return this.active;
  }

  /** Token bucket refill: `maxCallsPerSecondPerClient` tokens a second, bursts up to that many. */
  private state(key: string): ClientState {
    const now = this.now();
    const rate = this.policy.maxCallsPerSecondPerClient;
    let s = this.clients.get(key);
    if (!s) {
      s = { tokens: rate, updated: now, active: 0 };
      this.clients.set(key, s);
      return s;
    }
    s.tokens = Math.min(rate, s.tokens + ((now - s.updated) / 1000) * rate);
    s.updated = now;
    return s;
  }

  private prune(key: string, s: ClientState): void {
    if (s.active === 0 && s.tokens >= this.policy.maxCallsPerSecondPerClient - 1 && this.clients.size > 10_000) {
      this.clients.delete(key);
    }
  }
}

function refuse(status: 403 | 503, reason: string, text: string): Admission {
  return { ok: false, status, reason, text };
}

function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || a.startsWith('127.');
}
