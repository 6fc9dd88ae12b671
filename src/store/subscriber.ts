/**
 * Connects the record store to the engine's publisher (decisions.md §7): the store is the
 * publisher's durable sink, so a final or `completed` event is committed before any other
 * subscriber (XML answer, REST, webhooks) sees it; every other event is queued for a batch.
 *
 * The events carry the translated URIs but not the request itself (raw addresses, client,
 * trigger, mode, options), so whoever hands a CallRequest to the engine also calls `begin`
 * with it — before `engine.start`, so that even a refusal's record has its request. A call
 * whose `begin` was missed is still recorded from its events, without those fields.
 */
import type { EventPublisher } from '../call/publisher.js';
import type { CallRequest } from '../call/request.js';
import type { CallStore } from './store.js';

export interface StoreAttachment {
  /** The request of a call about to start (queued, not written on the call path). */
  begin(request: CallRequest): void;
  /** Stops feeding the store (shutdown: detach, then `store.close()`). */
  detach(): void;
}

export function attachStore(publisher: EventPublisher, store: CallStore, now: () => number = Date.now): StoreAttachment {
  publisher.setDurableSink((e) => (e.final || e.kind === 'completed' ? store.appendDurable(e) : store.append(e)));
  return {
    begin: (request) => store.recordStart(request, now()),
    detach: () => publisher.setDurableSink(undefined),
  };
}
