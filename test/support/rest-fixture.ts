// A REST API under test: the real plugin, publisher and submitCall path over a fake engine that
// publishes what a CallSession would (initiated on start, 487 on hang-up), so tests drive calls
// event by event without SIP.
import { createHash } from 'node:crypto';
import type { CallEngine, HangupResult, StartResult } from '../../src/call/engine.js';
import type { CallEvent, CallEventKind, LegName } from '../../src/call/events.js';
import { EventPublisher } from '../../src/call/publisher.js';
import type { CallOptions, CallRequest } from '../../src/call/request.js';
import type { CallSession } from '../../src/call/session.js';
import { TranslationRules } from '../../src/call/translate.js';
import type { CallDeps } from '../../src/api/calls.js';
import { createHttpServer, type HttpServer } from '../../src/api/http/server.js';
import { EventLog } from '../../src/api/rest/event-log.js';
import { restPlugin, type RestDeps } from '../../src/api/rest/plugin.js';
import type { Webhooks } from '../../src/api/webhooks/webhooks.js';
import { FakeClock } from './fake-clock.js';

export const KEY = 'test-key-0123456789abcdef';
export const SLOW_KEY = 'slow-key-0123456789abcdef';
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface FakeSession {
  id: string;
  request: CallRequest;
  state: string;
  finalSent: boolean;
  seq: number;
}

export class FakeEngine {
  readonly sessions = new Map<string, FakeSession>();
  readonly started: CallRequest[] = [];
  refuse: { status: number; reason: string; text: string } | undefined;

  constructor(private readonly publisher: EventPublisher, private readonly clock: FakeClock) {}

  start(request: CallRequest): StartResult {
    if (this.refuse) {
      const r = this.refuse;
      this.publisher.publish({
        callId: request.id, seq: 1, time: this.clock.now(), kind: 'refused', leg: undefined, code: r.status, text: r.text,
        reason: r.reason, final: true, translatedInitiator: request.initiator, translatedDestination: request.destination,
      });
      return { ok: false, ...r };
    }
    this.started.push(request);
    const s: FakeSession = { id: request.id, request, state: 'calling-initiator', finalSent: false, seq: 0 };
    this.sessions.set(request.id, s);
    this.emit(request.id, 'initiated', undefined, 100, 'In progress', {
      translatedInitiator: request.initiator, translatedDestination: request.destination,
    });
    return { ok: true, session: s as unknown as CallSession };
  }

  hangup(id: string): HangupResult {
    const s = this.sessions.get(id);
    if (!s) return 'not-found';
    if (s.state === 'ended') return 'ended';
    if (!s.finalSent) this.emit(id, 'failed', 'initiator', 487, 'Failed to connect to initiator', { reason: 'hangup' });
    else this.emit(id, 'completed', undefined, 200, 'Call ended', { reason: 'hangup' });
    return 'ok';
  }

  get(id: string): CallSession | undefined {
    return this.sessions.get(id) as unknown as CallSession | undefined;
  }

  /** Publishes one event of a running call; a last event ends it. */
  emit(id: string, kind: CallEventKind, leg: LegName | undefined, code: number, text: string, extra: Partial<CallEvent> = {}): void {
    const s = this.sessions.get(id);
    if (!s) throw new Error(`no call ${id}`);
    const final = kind === 'connected' || kind === 'failed' || kind === 'refused';
    if (final) s.finalSent = true;
    if (kind === 'connected') s.state = 'connected';
    const last = kind === 'completed' || kind === 'failed' || kind === 'refused';
    if (last) {
      s.state = 'ended';
      this.sessions.delete(id);
    }
    this.publisher.publish({ callId: id, seq: ++s.seq, time: this.clock.now(), kind, leg, code, text, final, ...extra });
  }
}

export interface RestFixture {
  server: HttpServer;
  engine: FakeEngine;
  publisher: EventPublisher;
  events: EventLog;
  clock: FakeClock;
  close(): Promise<void>;
}

const defaults: CallOptions = {
  ringTimeoutMs: 60_000, maxDurationMs: 14_400_000, holdOffer: 'c0-inactive', referNotifyTimeoutMs: 32_000, transferPolicy: 'handle',
};

export function restFixture(
  over: Partial<RestDeps> & { ringSize?: number; historyCalls?: number; hosts?: string[]; webhooksFor?: (publisher: EventPublisher) => Webhooks } = {},
): RestFixture {
  const clock = new FakeClock(1_700_000_000_000);
  const publisher = new EventPublisher((err) => {
    throw err;
  });
  const engine = new FakeEngine(publisher, clock);
  const { rules } = TranslationRules.compile([
    { pattern: '^([0-9]+)$', output: 'sip:$1@example.com', file: 'test' },
    { pattern: '^(sips?:.+)$', output: '$1', file: 'test' },
  ]);
  let n = 0;
  const calls: CallDeps = {
    engine: engine as unknown as CallEngine,
    publisher,
    prepare: { rules, defaultMode: 'refer', defaults, newId: () => `call-${++n}` },
  };
  const events = over.events ?? new EventLog({ now: () => clock.now(), ringSize: over.ringSize, historyCalls: over.historyCalls });
  const deps: RestDeps = {
    calls,
    apiKeys: [{ name: 'crm', sha256: sha256(KEY) }, { name: 'slow', sha256: sha256(SLOW_KEY), callsPerSecond: 2 }],
    events,
    timers: clock,
    now: () => clock.now(),
    ...over,
  };
  if (over.webhooksFor) deps.webhooks = over.webhooksFor(publisher);
  const server = createHttpServer({ hosts: over.hosts ?? [], port: 0 }, { plugins: [restPlugin(deps)] });
  return { server, engine, publisher, events, clock, close: () => server.close() };
}

export const auth = { authorization: `Bearer ${KEY}` };
