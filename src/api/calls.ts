/**
 * What every trigger does with its input (architecture.md "the one flow"): build one
 * CallRequest (translation, mode, options), follow its events, and start it on the engine.
 * Triggers never touch SIP.
 */
import type { CallEngine } from '../call/engine.js';
import type { CallEvent } from '../call/events.js';
import type { EventPublisher } from '../call/publisher.js';
import { prepareCallRequest, type CallRequest, type PrepareContext, type RawCallInput } from '../call/request.js';

export interface CallDeps {
  engine: CallEngine;
  publisher: EventPublisher;
  prepare: PrepareContext;
}

export type Submitted =
  | { ok: true; request: CallRequest }
  | { ok: false; status: number; text: string; reason: string; request?: CallRequest };

/**
 * Prepares and starts a call. `onEvent` (optional) sees every event of the call, from the first;
 * it is unsubscribed after the call's last event (`completed`, or a final one when the call is
 * over with it).
 */
export function submitCall(deps: CallDeps, input: RawCallInput, onEvent?: (e: CallEvent) => void): Submitted {
  const prepared = prepareCallRequest(input, deps.prepare);
  if (!prepared.ok) return prepared;
  const request = prepared.request;
  let unsubscribe: (() => void) | undefined;
  if (onEvent) {
    unsubscribe = deps.publisher.subscribeCall(request.id, (e) => {
      onEvent(e);
      if (isLastEvent(e, request)) unsubscribe?.();
    });
  }
  const started = deps.engine.start(request);
  // A refusal is published as a `refused` event (the engine's contract), which may reach the
  // listener after start returns (the store's group commit holds finals to the end of the turn):
  // the listener ends its subscription on it.
  if (!started.ok) return { ...started, request };
  return { ok: true, request };
}

/** REFER-mode calls end with their final event; anchored ones that connected end with `completed`. */
function isLastEvent(e: CallEvent, _request: CallRequest): boolean {
  if (e.kind === 'completed' || e.kind === 'refused' || e.kind === 'failed') return true;
  return false;
}
