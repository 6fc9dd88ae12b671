/**
 * The click-to-call engine: admits CallRequests, runs one CallSession each, publishes their
 * events, hangs calls up on request, and answers the SIP requests that belong to no call
 * (inbound INVITE → 403, compatibility.md). It knows no trigger: the APIs hand it CallRequests.
 */
import { createResponse } from '../sip/message/index.js';
import type { SipStack } from '../sip/stack/index.js';
import type { TimerHost } from '../sip/timer.js';
import { FixedTimerQueue } from '../sip/fixed-timers.js';
import { AdmissionControl, type AdmissionPolicy } from './admission.js';
import type { CallEvent } from './events.js';
import type { EventPublisher } from './publisher.js';
import type { CallRequest } from './request.js';
import { CallSession, type SessionContext } from './session.js';

export interface EngineOptions {
  stack: SipStack;
  timers: TimerHost;
  publisher: EventPublisher;
  identity: string;
  ownAddress: string;
  policy: AdmissionPolicy;
  transferHook?: SessionContext['transferHook'];
  traceLeg?: SessionContext['traceLeg'];
  /** Told when a call's INVITE to the initiator went to the transport (setup-latency metric). */
  onInviteSent?: (request: CallRequest) => void;
  /** Told of every request before it is admitted or refused (the record store's `begin`). */
  onCallStart?: (request: CallRequest) => void;
  now?: () => number;
  reportError(err: unknown, where: string): void;
}

export type StartResult =
  | { ok: true; session: CallSession }
  | { ok: false; status: number; text: string; reason: string };

export type HangupResult = 'ok' | 'not-found' | 'ended';

/** How many MaxCallDuration lengths get a FixedTimerQueue of their own. */
const MAX_DURATION_QUEUES = 8;

export class CallEngine {
  private readonly calls = new Map<string, CallSession>();
  private readonly admission: AdmissionControl;
  private draining = false;
  /** Calls started, and ended, since start (for metrics and tests). */
  readonly totals = { started: 0, refused: 0, finished: 0 };

  /**
   * What every session is given: one object for all of them (it holds nothing of any one call),
   * not five closures per call kept as long as the call (issue 6: memory per held call).
   */
  private readonly sessionContext: SessionContext;
  private readonly durationQueues = new Map<number, FixedTimerQueue>();

  constructor(private readonly opts: EngineOptions) {
    this.admission = new AdmissionControl(opts.policy, opts.now ?? Date.now);
    this.sessionContext = {
      stack: opts.stack,
      timers: opts.timers,
      identity: opts.identity,
      ownAddress: opts.ownAddress,
      publish: (e) => this.opts.publisher.publish(e),
      finished: (s) => this.finished(s),
      allowTarget: (uri) => this.admission.allowTarget(uri),
      transferHook: opts.transferHook,
      traceLeg: opts.traceLeg,
      inviteSent: opts.onInviteSent && ((request) => {
        try {
          opts.onInviteSent!(request);
        } catch (err) {
          this.opts.reportError(err, 'onInviteSent');
        }
      }),
      findParty: (callId, a, b) => {
        for (const s of this.calls.values()) {
          const party = s.partyForDialog(callId, a, b);
          if (party) return { session: s, party };
        }
        return undefined;
      },
      reportError: (err, where) => this.opts.reportError(err, where),
      durationQueue: (ms) => this.durationQueue(ms),
    };
    opts.stack.onRequest('INVITE', (req, tx) => {
      // An INVITE outside any click-to-call (compatibility.md): refused.
      opts.stack.respond(tx, createResponse(req, 403, 'Forbidden (click-to-call server)', opts.stack.newTag()));
    });
  }

  /**
   * MaxCallDuration timers, one FIFO per length (fixed-timers.ts). A REST request may choose its
   * own length: only the first MAX_DURATION_QUEUES lengths get a queue (an empty one holds no
   * timer), the others a timer per call.
   */
  private durationQueue(ms: number): FixedTimerQueue | undefined {
    let queue = this.durationQueues.get(ms);
    if (queue === undefined && this.durationQueues.size < MAX_DURATION_QUEUES && ms > 0 && Number.isFinite(ms)) {
      queue = new FixedTimerQueue(this.opts.timers, ms);
      this.durationQueues.set(ms, queue);
    }
    return queue;
  }

  /** Starts a call; a refusal is published as a `refused` event and returned. */
  start(request: CallRequest): StartResult {
    try {
      this.opts.onCallStart?.(request);
    } catch (err) {
      this.opts.reportError(err, 'onCallStart');
    }
    if (this.draining) return this.refuse(request, 503, 'draining', 'Refused: server is shutting down');
    const admitted = this.admission.admit(request);
    if (!admitted.ok) return this.refuse(request, admitted.status, admitted.reason, admitted.text);
    const session = new CallSession(this.sessionContext, request);
    this.calls.set(request.id, session);
    this.totals.started++;
    session.start();
    return { ok: true, session };
  }

  hangup(id: string): HangupResult {
    const s = this.calls.get(id);
    if (!s) return 'not-found';
    if (s.state === 'ended') return 'ended';
    s.hangup();
    return 'ok';
  }

  get(id: string): CallSession | undefined {
    return this.calls.get(id);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /** Stop taking calls (SIGTERM); `endAll` hangs up what is left after the drain time. */
  drain(): void {
    this.draining = true;
  }

  endAll(): void {
    for (const s of [...this.calls.values()]) s.hangup('shutdown');
  }

  private finished(s: CallSession): void {
    if (this.calls.get(s.id) === s) {
      this.calls.delete(s.id);
      this.admission.release(s.request);
      this.totals.finished++;
    }
  }

  private refuse(request: CallRequest, status: number, reason: string, text: string): StartResult {
    this.totals.refused++;
    const event: CallEvent = {
      callId: request.id, seq: 1, time: Date.now(), kind: 'refused', leg: undefined, code: status, text, reason, final: true,
      translatedInitiator: request.initiator, translatedDestination: request.destination,
    };
    try {
      this.opts.publisher.publish(event);
    } catch (err) {
      this.opts.reportError(err, 'publish');
    }
    return { ok: false, status, text, reason };
  }
}
