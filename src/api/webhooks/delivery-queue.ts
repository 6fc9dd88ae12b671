/**
 * Webhook deliveries to one URL, in order, one at a time: each a JSON POST signed afresh for
 * every attempt (decisions.md §7), retried with exponential back-off (1 s, 2 s, 4 s … by
 * default, at most `maxAttempts` attempts) when the receiver is unreachable, times out, or
 * answers 408, 429 or 5xx. Another 4xx is a permanent refusal. The queue is bounded: when full,
 * the oldest waiting delivery is dropped and counted. Nothing here ever throws to the caller:
 * `enqueue` only appends; the work happens on timers and promises.
 */
import type { TimerHandle, TimerHost } from '../../sip/timer.js';
import { SIGNATURE_HEADER, sign } from '../hooks/signature.js';

export interface Delivery {
  /** Unique per delivery, the same on every attempt: receivers de-duplicate with it. */
  id: string;
  /** Event kind, for the `Clicktocall-Event` header. */
  kind: string;
  body: string;
}

export interface QueueLimits {
  /** Deliveries waiting (besides the one in flight) [1000]. */
  maxQueued: number;
  /** Attempts per delivery, the first included [5]. */
  maxAttempts: number;
  /** Delay before the second attempt; doubled for each further one [1000]. */
  baseDelayMs: number;
  /** Longest delay between attempts [60000]. */
  maxDelayMs: number;
  /** One attempt's deadline (connect, send, answer headers) [5000]. */
  attemptTimeoutMs: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = {
  maxQueued: 1000, maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000, attemptTimeoutMs: 5000,
};

export interface AttemptReport {
  url: string;
  deliveryId: string;
  attempt: number;
  /** The receiver's status, when it answered. */
  status?: number;
  error?: string;
  outcome: 'delivered' | 'retry' | 'failed';
  /** For `retry`: the wait before the next attempt. */
  retryInMs?: number;
}

export interface QueueStats {
  queued: number;
  inFlight: boolean;
  delivered: number;
  failed: number;
  dropped: number;
  attempts: number;
}

export interface DeliveryQueueOptions {
  url: string;
  /** HookSecret; absent: requests go unsigned. */
  secret: string | undefined;
  timers: TimerHost;
  fetch: typeof fetch;
  limits: QueueLimits;
  /** Clock of the signature (milliseconds since the epoch). */
  now: () => number;
  onAttempt?: (report: AttemptReport) => void;
  /** Nothing waiting or in flight any more. */
  onIdle?: () => void;
  /** The queue was full: its oldest waiting delivery was dropped (not called for those `close` drops). */
  onDropped?: () => void;
  reportError: (err: unknown) => void;
}

export class DeliveryQueue {
  private readonly waiting: Delivery[] = [];
  private busy = false;
  private closed = false;
  private retryTimer: TimerHandle | undefined;
  private abort: AbortController | undefined;
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, attempts: 0 };

  constructor(private readonly opts: DeliveryQueueOptions) {}

  get stats(): QueueStats {
    return { queued: this.waiting.length, inFlight: this.busy, ...this.counts };
  }

  get idle(): boolean {
    return !this.busy && this.waiting.length === 0;
  }

  enqueue(delivery: Delivery): void {
    if (this.closed) return;
    this.waiting.push(delivery);
    if (this.waiting.length > this.opts.limits.maxQueued) {
      this.waiting.shift();
      this.counts.dropped++;
      this.opts.onDropped?.();
    }
    this.next();
  }

  /** Stops: the delivery in flight is aborted, the waiting ones are dropped (and counted). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) this.opts.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.abort?.abort();
    this.counts.dropped += this.waiting.length;
    this.waiting.length = 0;
  }

  private next(): void {
    if (this.busy || this.closed) return;
    const delivery = this.waiting.shift();
    if (!delivery) {
      this.opts.onIdle?.();
      return;
    }
    this.busy = true;
    this.attempt(delivery, 1);
  }

  private attempt(delivery: Delivery, n: number): void {
    this.counts.attempts++;
    this.send(delivery, n).then(
      (r) => this.settle(delivery, n, r),
      (err: unknown) => {
        this.opts.reportError(err);
        this.settle(delivery, n, { retry: false, error: String(err) });
      },
    );
  }

  private async send(delivery: Delivery, n: number): Promise<{ retry: boolean; ok?: boolean; status?: number; error?: string; retryAfterMs?: number }> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'clicktocall',
      'clicktocall-delivery': delivery.id,
      'clicktocall-event': delivery.kind,
      'clicktocall-attempt': String(n),
    };
    if (this.opts.secret) headers[SIGNATURE_HEADER] = sign(this.opts.secret, delivery.body, this.opts.now());
    const controller = new AbortController();
    this.abort = controller;
    const deadline = this.opts.timers.setTimeout(() => controller.abort(), this.opts.limits.attemptTimeoutMs);
    try {
      const res = await this.opts.fetch(this.opts.url, {
        method: 'POST', headers, body: delivery.body, redirect: 'error', signal: controller.signal,
      });
      // The answer's body is not read; cancelling it frees the connection.
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return { retry: false, ok: true, status: res.status };
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      return { retry, status: res.status, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
    } catch (err) {
      // Refused connection, DNS failure, redirect, timeout: the receiver may come back.
      const error = controller.signal.aborted ? 'timeout' : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      return { retry: true, error };
    } finally {
      this.opts.timers.clearTimeout(deadline);
      if (this.abort === controller) this.abort = undefined;
    }
  }

  private settle(delivery: Delivery, n: number, r: { retry: boolean; ok?: boolean; status?: number; error?: string; retryAfterMs?: number }): void {
    if (this.closed) return;
    const report: AttemptReport = { url: this.opts.url, deliveryId: delivery.id, attempt: n, outcome: 'delivered' };
    if (r.status !== undefined) report.status = r.status;
    if (r.error !== undefined) report.error = r.error;
    if (r.ok) {
      this.counts.delivered++;
    } else if (r.retry && n < this.opts.limits.maxAttempts) {
      const { baseDelayMs, maxDelayMs } = this.opts.limits;
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
      const wait = Math.min(maxDelayMs, Math.max(backoff, r.retryAfterMs ?? 0));
      report.outcome = 'retry';
      report.retryInMs = wait;
      this.observe(report);
      this.retryTimer = this.opts.timers.setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.closed) this.attempt(delivery, n + 1);
      }, wait);
      return;
    } else {
      this.counts.failed++;
      report.outcome = 'failed';
    }
    this.observe(report);
    this.busy = false;
    this.next();
  }

  private observe(report: AttemptReport): void {
    try {
      this.opts.onAttempt?.(report);
    } catch (err) {
      this.opts.reportError(err);
    }
  }
}

/** RFC 9110 §10.2.3: delay-seconds (an HTTP-date is ignored: back-off applies). */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}
