/**
 * The REST layer's view of every call event: one publisher subscription that gives each event a
 * global id, keeps the last `ringSize` events for SSE resumption (`Last-Event-ID`), keeps the
 * last `historyCalls` calls as records (the JSON history of `GET /v1/calls/{id}` when no store
 * is wired, and the per-call SSE replay), and fans events out to the open SSE streams.
 *
 * The ring holds each event's fields apart (typed arrays and arrays of strings the events already
 * share), not the event objects: under load the ring spans about a second, and holding a call's
 * five or so event objects for it had the garbage collector copy them twice (docs/benchmarks.md,
 * tenth round). With a record store wired (`historyForAll: false`) only the calls this layer
 * describes (created over REST) get a history entry; the store answers for the others.
 *
 * Event ids are one global counter that starts at the process start time in milliseconds × 1000,
 * so ids keep increasing across a restart (unless a process published more than 1000 events per
 * millisecond on average) and a `Last-Event-ID` from the previous run never hides new events.
 */
import type { CallEvent, CallEventKind, LegName } from '../../call/events.js';
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
  /**
   * Whether every call gets a history entry [true]. False when a record store answers for the
   * calls: then only the calls `describe` names (those created over REST) get one.
   */
  historyForAll?: boolean;
  now?: () => number;
}

export type StreamListener = (logged: LoggedEvent) => void;

export class EventLog {
  // The last ringSize events, field by field (see the file comment), and their ids.
  private readonly ringIds: Float64Array;
  private readonly ringSeq: Float64Array;
  private readonly ringTime: Float64Array;
  private readonly ringCode: Float64Array;
  private readonly ringFinal: Uint8Array;
  private readonly ringCallId: (string | undefined)[];
  private readonly ringKind: (CallEventKind | undefined)[];
  private readonly ringLeg: (LegName | undefined)[];
  private readonly ringText: (string | undefined)[];
  private readonly ringReason: (string | undefined)[];
  private readonly ringInitiator: (string | undefined)[];
  private readonly ringDestination: (string | undefined)[];
  private ringStart = 0;
  private ringLength = 0;
  private nextId: number;
  private readonly history = new Map<string, HistoryEntry>();
  private readonly streams = new Set<StreamListener>();
  private readonly historyCalls: number;
  private readonly eventsPerCall: number;
  private readonly historyForAll: boolean;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;

  constructor(opts: EventLogOptions = {}) {
    const ringSize = Math.max(1, opts.ringSize ?? 10_000);
    this.ringIds = new Float64Array(ringSize);
    this.ringSeq = new Float64Array(ringSize);
    this.ringTime = new Float64Array(ringSize);
    this.ringCode = new Float64Array(ringSize);
    this.ringFinal = new Uint8Array(ringSize);
    this.ringCallId = new Array<string | undefined>(ringSize);
    this.ringKind = new Array<CallEventKind | undefined>(ringSize);
    this.ringLeg = new Array<LegName | undefined>(ringSize);
    this.ringText = new Array<string | undefined>(ringSize);
    this.ringReason = new Array<string | undefined>(ringSize);
    this.ringInitiator = new Array<string | undefined>(ringSize);
    this.ringDestination = new Array<string | undefined>(ringSize);
    this.historyCalls = Math.max(1, opts.historyCalls ?? 1000);
    this.eventsPerCall = Math.max(1, opts.eventsPerCall ?? 500);
    this.historyForAll = opts.historyForAll ?? true;
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
    const size = this.ringIds.length;
    let at: number;
    if (this.ringLength < size) {
      at = (this.ringStart + this.ringLength) % size;
      this.ringLength++;
    } else {
      at = this.ringStart;
      this.ringStart = (this.ringStart + 1) % size;
    }
    this.keep(at, id, event);
    const entry = this.history.get(event.callId) ?? (this.historyForAll ? this.newEntry(event.callId, recordFromEvent(event)) : undefined);
    if (entry) this.record(entry, event, id);
    if (this.streams.size > 0) {
      const logged: LoggedEvent = { id, event };
      for (const l of [...this.streams]) l(logged);
    }
    return id;
  }

  /**
   * Fills in the request of a call (after submitCall: raw addresses, mode, options, client). A
   * call without an entry yet (history for described calls only) gets one, with the events the
   * ring still holds for it: they were published while submitCall ran.
   */
  describe(request: CallRequest, extras: CallExtras = {}): void {
    let entry = this.history.get(request.id);
    if (!entry) {
      const held = this.heldFor(request.id);
      entry = this.newEntry(request.id, recordFromRequest(request, held[0]?.event.time ?? this.now()));
      for (const e of held) this.record(entry, e.event, e.id);
    }
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
    const size = this.ringIds.length;
    for (let i = 0; i < this.ringLength; i++) {
      const at = (this.ringStart + i) % size;
      const id = this.ringIds[at]!;
      if (id > afterId) events.push({ id, event: this.eventAt(at) });
    }
    const oldest = this.ringLength > 0 ? this.ringIds[this.ringStart]! : this.nextId;
    return { events, complete: afterId >= oldest - 1 || afterId >= this.lastId };
  }

  /**
   * The ids the ring still holds for one call's events, by seq (the first id of a duplicate). A
   * scan of the whole ring: once per stream opened, not per event.
   */
  idsOf(callId: string): Map<number, number> {
    const ids = new Map<number, number>();
    const size = this.ringIds.length;
    for (let i = 0; i < this.ringLength; i++) {
      const at = (this.ringStart + i) % size;
      if (this.ringCallId[at] === callId && !ids.has(this.ringSeq[at]!)) ids.set(this.ringSeq[at]!, this.ringIds[at]!);
    }
    return ids;
  }

  /** Stores an event's fields in ring slot `at`. */
  private keep(at: number, id: number, e: CallEvent): void {
    this.ringIds[at] = id;
    this.ringSeq[at] = e.seq;
    this.ringTime[at] = e.time;
    this.ringCode[at] = e.code;
    this.ringFinal[at] = e.final ? 1 : 0;
    this.ringCallId[at] = e.callId;
    this.ringKind[at] = e.kind;
    this.ringLeg[at] = e.leg;
    this.ringText[at] = e.text;
    this.ringReason[at] = e.reason;
    this.ringInitiator[at] = e.translatedInitiator;
    this.ringDestination[at] = e.translatedDestination;
  }

  /** The event in ring slot `at`, made again (its fields in the order CallSession writes them). */
  private eventAt(at: number): CallEvent {
    const e: CallEvent = {
      callId: this.ringCallId[at]!, seq: this.ringSeq[at]!, time: this.ringTime[at]!, kind: this.ringKind[at]!,
      leg: this.ringLeg[at], code: this.ringCode[at]!, text: this.ringText[at]!, final: this.ringFinal[at] === 1,
    };
    const initiator = this.ringInitiator[at];
    const destination = this.ringDestination[at];
    const reason = this.ringReason[at];
    if (initiator !== undefined) e.translatedInitiator = initiator;
    if (destination !== undefined) e.translatedDestination = destination;
    if (reason !== undefined) e.reason = reason;
    return e;
  }

  /**
   * The ring's recent events of one call, in ring order: a scan from the newest back that stops
   * 64 slots past the last match (describe() follows the call's first events at once).
   */
  private heldFor(callId: string): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    const size = this.ringIds.length;
    let lastMatch = this.ringLength - 1;
    for (let i = this.ringLength - 1; i >= 0 && i >= lastMatch - 64; i--) {
      const at = (this.ringStart + i) % size;
      if (this.ringCallId[at] !== callId) continue;
      out.push({ id: this.ringIds[at]!, event: this.eventAt(at) });
      lastMatch = i;
    }
    return out.reverse();
  }

  private record(entry: HistoryEntry, event: CallEvent, id: number): void {
    const events = entry.record.events;
    if (events.length < this.eventsPerCall && applyEvent(entry.record, event)) {
      // applyEvent keeps seq order: the event is almost always the last one.
      let i = events.length - 1;
      while (i > 0 && events[i] !== event) i--;
      entry.ids.splice(i, 0, id);
    }
  }

  private newEntry(callId: string, record: CallRecord): HistoryEntry {
    const entry: HistoryEntry = { record, ids: [], extras: {} };
    this.history.set(callId, entry);
    // Bounded: the oldest call leaves first (Map keeps insertion order).
    if (this.history.size > this.historyCalls) {
      const oldest = this.history.keys().next().value as string;
      this.history.delete(oldest);
    }
    return entry;
  }
}
