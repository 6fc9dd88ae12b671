/**
 * The REST layer's view of every call event: one publisher subscription that gives each event a
 * global id, keeps the last `ringSize` events for SSE resumption (`Last-Event-ID`), keeps the
 * last `historyCalls` calls as records (the JSON history of `GET /v1/calls/{id}` when no store
 * is wired, and the per-call SSE replay), and fans events out to the open SSE streams.
 *
 * Event ids are one global counter that starts at the process start time in milliseconds × 1000,
 * so ids keep increasing across a restart (unless a process published more than 1000 events per
 * millisecond on average) and a `Last-Event-ID` from the previous run never hides new events.
 */
import type { CallEvent } from '../../call/events.js';
import type { CallRequest } from '../../call/request.js';
import { applyEvent, applyRequest, recordFromEvent, recordFromRequest, type CallRecord } from '../../store/record.js';

export interface LoggedEvent {
  id: number;
  event: CallEvent;
}

/** What the REST layer alone knows of a call it created. */
export interface CallExtras {
  statusCallback?: string;
  statusCallbackEvents?: string[];
}

export interface HistoryEntry {
  record: CallRecord;
  /** The global id of each of `record.events`, same index (an array, not a Map: one per call). */
  ids: number[];
  extras: CallExtras;
}

export interface EventSource {
  subscribe(listener: (event: CallEvent) => void): () => void;
}

export interface EventLogOptions {
  /** Events held for `Last-Event-ID` resumption [10000]. */
  ringSize?: number;
  /** Calls held in the in-memory history [1000]. */
  historyCalls?: number;
  /** Events held per call in the history [500]; later ones are still streamed. */
  eventsPerCall?: number;
  now?: () => number;
}

export type StreamListener = (logged: LoggedEvent) => void;

export class EventLog {
  // The last ringSize events and their ids, apart: no wrapper object per event (at a few thousand
  // calls a second, every event lives about a second here: the garbage collector copies what it holds).
  private readonly ring: (CallEvent | undefined)[];
  private readonly ringIds: Float64Array;
  private ringStart = 0;
  private ringLength = 0;
  private nextId: number;
  private readonly history = new Map<string, HistoryEntry>();
  private readonly streams = new Set<StreamListener>();
  private readonly historyCalls: number;
  private readonly eventsPerCall: number;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;

  constructor(opts: EventLogOptions = {}) {
    const ringSize = Math.max(1, opts.ringSize ?? 10_000);
    this.ring = new Array<CallEvent | undefined>(ringSize);
    this.ringIds = new Float64Array(ringSize);
    this.historyCalls = Math.max(1, opts.historyCalls ?? 1000);
    this.eventsPerCall = Math.max(1, opts.eventsPerCall ?? 500);
    this.now = opts.now ?? Date.now;
    this.nextId = Math.floor(this.now()) * 1000 + 1;
  }

  /** Starts following the publisher (once). */
  attach(source: EventSource): void {
    if (this.unsubscribe) return;
    this.unsubscribe = source.subscribe((e) => this.add(e));
  }

  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Open SSE streams (tests assert it returns to 0 after a disconnect). */
  get listenerCount(): number {
    return this.streams.size;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  listen(listener: StreamListener): () => void {
    this.streams.add(listener);
    return () => this.streams.delete(listener);
  }

  add(event: CallEvent): number {
    const id = this.nextId++;
    const size = this.ring.length;
    let at: number;
    if (this.ringLength < size) {
      at = (this.ringStart + this.ringLength) % size;
      this.ringLength++;
    } else {
      at = this.ringStart;
      this.ringStart = (this.ringStart + 1) % size;
    }
    this.ring[at] = event;
    this.ringIds[at] = id;
    const entry = this.entryFor(event.callId, () => recordFromEvent(event));
    const events = entry.record.events;
    if (events.length < this.eventsPerCall && applyEvent(entry.record, event)) {
      // applyEvent keeps seq order: the event is almost always the last one.
      let i = events.length - 1;
      while (i > 0 && events[i] !== event) i--;
      entry.ids.splice(i, 0, id);
    }
    if (this.streams.size > 0) {
      const logged: LoggedEvent = { id, event };
      for (const l of [...this.streams]) l(logged);
    }
    return id;
  }

  /** Fills in the request of a call (after submitCall: raw addresses, mode, options, client). */
  describe(request: CallRequest, extras: CallExtras = {}): void {
    const entry = this.entryFor(request.id, () => recordFromRequest(request, this.createdAt(request.id)));
    applyRequest(entry.record, request);
    entry.extras = { ...entry.extras, ...extras };
  }

  call(callId: string): HistoryEntry | undefined {
    return this.history.get(callId);
  }

  /** Newest first (by creation, then id, descending), as the store lists. */
  calls(): CallRecord[] {
    const out = [...this.history.values()].map((e) => e.record);
    out.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out;
  }

  /**
   * Events after `afterId` still held, oldest first; `complete` is false when some events after
   * `afterId` have already left the ring.
   */
  since(afterId: number): { events: LoggedEvent[]; complete: boolean } {
    const events: LoggedEvent[] = [];
    const size = this.ring.length;
    for (let i = 0; i < this.ringLength; i++) {
      const at = (this.ringStart + i) % size;
      const id = this.ringIds[at]!;
      if (id > afterId) events.push({ id, event: this.ring[at]! });
    }
    const oldest = this.ringLength > 0 ? this.ringIds[this.ringStart]! : this.nextId;
    return { events, complete: afterId >= oldest - 1 || afterId >= this.lastId };
  }

  private createdAt(callId: string): number {
    return this.history.get(callId)?.record.createdAt ?? this.now();
  }

  private entryFor(callId: string, make: () => CallRecord): HistoryEntry {
    let entry = this.history.get(callId);
    if (!entry) {
      entry = { record: make(), ids: [], extras: {} };
      this.history.set(callId, entry);
      // Bounded: the oldest call leaves first (Map keeps insertion order).
      if (this.history.size > this.historyCalls) {
        const oldest = this.history.keys().next().value as string;
        this.history.delete(oldest);
      }
    }
    return entry;
  }
}
