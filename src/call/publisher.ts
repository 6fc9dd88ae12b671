/**
 * The one way CallEvents leave the engine (architecture.md: "one publisher interface").
 * In-process by default. Decisions §7: a final event goes first to the durable subscriber (the
 * record store) and reaches the others only once it is stored; other events fan out at once.
 */
import type { CallEvent } from './events.js';

export type EventListener = (event: CallEvent) => void;
export type DurableSink = (event: CallEvent) => void | Promise<void>;

export class EventPublisher {
  private readonly listeners = new Set<EventListener>();
  private readonly perCall = new Map<string, Set<EventListener>>();
  private durable: DurableSink | undefined;
  /** Calls whose events wait behind a final that the durable sink has not yet stored. */
  private readonly held = new Map<string, Promise<void>>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events of one call only. Subscribe before starting the call (the id is known from the
   * CallRequest) so that the first event is not missed; unsubscribe when done.
   */
  subscribeCall(callId: string, listener: EventListener): () => void {
    let set = this.perCall.get(callId);
    if (!set) {
      set = new Set();
      this.perCall.set(callId, set);
    }
    set.add(listener);
    return () => {
      const s = this.perCall.get(callId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.perCall.delete(callId);
    };
  }

  /** Calls with a per-call subscriber (tests assert it returns to 0). */
  get callSubscriptions(): number {
    return this.perCall.size;
  }

  /** The record store: sees every event, and holds final ones before anyone else sees them. */
  setDurableSink(sink: DurableSink | undefined): void {
    this.durable = sink;
  }

  publish(event: CallEvent): void {
    // A call's events keep their order: behind a final still being stored, the next ones wait.
    const before = this.held.get(event.callId);
    if (before) {
      this.hold(event.callId, before.then(() => this.deliver(event)));
      return;
    }
    const stored = this.deliver(event);
    if (stored) this.hold(event.callId, stored);
  }

  /** Events of calls held behind a durable write (tests assert it returns to 0). */
  get heldCalls(): number {
    return this.held.size;
  }

  private hold(callId: string, until: Promise<void>): void {
    const tail: Promise<void> = until.then(() => {
      if (this.held.get(callId) === tail) this.held.delete(callId);
    });
    this.held.set(callId, tail);
  }

  /** Sink first, then everyone; a promise when the sink stores a final asynchronously. */
  private deliver(event: CallEvent): Promise<void> | undefined {
    const sink = this.durable;
    if (!sink) {
      this.fanOut(event);
      return undefined;
    }
    let pending: void | Promise<void> = undefined;
    try {
      pending = sink(event);
    } catch (err) {
      this.onListenerError(err);
    }
    if ((event.final || event.kind === 'completed') && pending && typeof (pending as Promise<void>).then === 'function') {
      return (pending as Promise<void>).then(
        () => this.fanOut(event),
        (err: unknown) => {
          this.onListenerError(err);
          this.fanOut(event);
        },
      );
    }
    this.fanOut(event);
    return undefined;
  }

  private fanOut(event: CallEvent): void {
    const own = this.perCall.get(event.callId);
    if (own) {
      for (const l of [...own]) {
        try {
          l(event);
        } catch (err) {
          this.onListenerError(err);
        }
      }
    }
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
