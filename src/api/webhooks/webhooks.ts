/**
 * Webhooks (issue 5): every `WebhookUrl` receives every call event; a call's `statusCallback`
 * receives that call's events, filtered by `statusCallbackEvents`. Each event is a JSON POST
 * (the CallEvent, plus the call's `metadata` for a statusCallback) signed with `HookSecret`
 * (decisions.md §7). The publisher listener only enqueues, so a slow or dead receiver never
 * delays a call; each URL has its own bounded queue (delivery-queue.ts).
 */
import { randomUUID } from 'node:crypto';
import type { CallEvent } from '../../call/events.js';
import type { TimerHost } from '../../sip/timer.js';
import { DEFAULT_QUEUE_LIMITS, DeliveryQueue, type AttemptReport, type QueueLimits, type QueueStats } from './delivery-queue.js';

export interface WebhookDeps {
  /** The engine's EventPublisher (or anything with the same `subscribe`). */
  publisher: { subscribe(listener: (event: CallEvent) => void): () => void };
  /** `WebhookUrl` (every call, every event). */
  urls: readonly string[];
  /** `HookSecret`; absent: requests are not signed (start-up should warn). */
  secret: string | undefined;
  timers: TimerHost;
  fetch?: typeof fetch;
  /** Signature clock in milliseconds [timers.now]. */
  now?: () => number;
  newId?: () => string;
  limits?: Partial<QueueLimits>;
  /** Distinct statusCallback URLs with deliveries pending at once [1000] (`WebhookMaxCallbackUrls`); beyond: dropped. */
  maxCallbackUrls?: number;
  onAttempt?: (report: AttemptReport) => void;
  reportError?: (err: unknown, where: string) => void;
}

export interface Webhooks {
  /**
   * The listener for one call's statusCallback: pass it as `submitCall`'s `onEvent` so that it
   * sees the call's first event. `events` filters kinds (absent: all).
   */
  forCall(url: string, events?: readonly string[], metadata?: Record<string, string>): (event: CallEvent) => void;
  /** Per URL: queued, delivered, failed, dropped, attempts. */
  stats(): Record<string, QueueStats>;
  /** statusCallback deliveries dropped because too many callback URLs were pending. */
  readonly droppedCallbacks: number;
  /**
   * Deliveries dropped because their URL's queue was full (WebhookMaxQueued), WebhookUrl and
   * statusCallback queues alike; unlike `stats()`, it keeps the drops of statusCallback queues
   * that have since gone idle and been let go, so that it only grows.
   */
  readonly droppedQueueFull: number;
  /** Unsubscribes and stops every queue (pending deliveries are dropped). */
  stop(): void;
}

export const DEFAULT_MAX_CALLBACK_URLS = 1000;

export function startWebhooks(deps: WebhookDeps): Webhooks {
  const limits: QueueLimits = { ...DEFAULT_QUEUE_LIMITS, ...deps.limits };
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? (() => deps.timers.now());
  const newId = deps.newId ?? randomUUID;
  const report = deps.reportError ?? (() => {});
  const maxCallbackUrls = deps.maxCallbackUrls ?? DEFAULT_MAX_CALLBACK_URLS;
  const configured = new Map<string, DeliveryQueue>();
  const callbacks = new Map<string, DeliveryQueue>();
  let droppedCallbacks = 0;
  let droppedQueueFull = 0;
  let stopped = false;

  const makeQueue = (url: string, onIdle?: () => void) =>
    new DeliveryQueue({
      url, secret: deps.secret, timers: deps.timers, fetch: fetchFn, limits, now,
      onAttempt: deps.onAttempt, onIdle, onDropped: () => { droppedQueueFull++; }, reportError: (err) => report(err, 'webhook'),
    });

  for (const url of new Set(deps.urls)) configured.set(url, makeQueue(url));

  const deliver = (queue: DeliveryQueue, event: CallEvent, metadata?: Record<string, string>) => {
    const payload = metadata === undefined ? event : { ...event, metadata };
    queue.enqueue({ id: newId(), kind: event.kind, body: JSON.stringify(payload) });
  };

  const unsubscribe = configured.size === 0 ? () => {} : deps.publisher.subscribe((event) => {
    for (const queue of configured.values()) deliver(queue, event);
  });

  const callbackQueue = (url: string): DeliveryQueue | undefined => {
    let queue = callbacks.get(url);
    if (queue) return queue;
    if (callbacks.size >= maxCallbackUrls) return undefined;
    // A statusCallback queue lives while it has work; the next event makes a new one.
    const q = makeQueue(url, () => {
      if (callbacks.get(url) === q) callbacks.delete(url);
    });
    callbacks.set(url, q);
    return q;
  };

  return {
    forCall(url, events, metadata) {
      const kinds = events === undefined || events.length === 0 ? undefined : new Set(events);
      return (event) => {
        if (stopped || (kinds && !kinds.has(event.kind))) return;
        // A URL that is also a WebhookUrl already gets every event.
        if (configured.has(url)) return;
        const queue = callbackQueue(url);
        if (!queue) {
          droppedCallbacks++;
          return;
        }
        deliver(queue, event, metadata);
      };
    },
    stats() {
      const out: Record<string, QueueStats> = {};
      for (const [url, q] of [...configured, ...callbacks]) out[url] = q.stats;
      return out;
    },
    get droppedCallbacks() {
      return droppedCallbacks;
    },
    get droppedQueueFull() {
      return droppedQueueFull;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      for (const q of [...configured.values(), ...callbacks.values()]) q.close();
      callbacks.clear();
    },
  };
}
