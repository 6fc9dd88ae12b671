/**
 * The subscriber side of a REFER (RFC 3515, RFC 6665): we sent the REFER, the peer (the
 * referee) reports the outcome of its call in NOTIFYs whose `message/sipfrag` body holds a
 * status line. Handles `Refer-Sub: false` (RFC 4488: no subscription, no NOTIFYs), a NOTIFY
 * that never comes, and a subscription terminated without a final status.
 */
import { createResponse, type SipRequest, type SipResponse, SipParseError } from '../message/index.js';
import type { TimerHandle } from '../timer.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Dialog } from './dialog.js';
import type { DialogHost } from './host.js';
import { parseSipfragStatus, type SipfragStatus } from './sipfrag.js';

export interface ReferOptions {
  referredBy?: string;
  /** Ask for no implicit subscription (RFC 4488 `Refer-Sub: false`). */
  noSubscription?: boolean;
  /** How long to wait for a NOTIFY (and, after it, for the next one) before giving up. */
  notifyTimeoutMs: number;
  /**
   * After a NOTIFY saying the target rings (18x), how long to wait for the outcome: a phone rings
   * as long as it likes, so the caller's ring timeout applies here, not `notifyTimeoutMs`.
   */
  ringingTimeoutMs?: number;
  headers?: [string, string][];
}

export type ReferEnd =
  | { kind: 'final'; status: number; reason: string } // a NOTIFY with a final sipfrag status
  | { kind: 'rejected'; status: number; response?: SipResponse } // the REFER itself failed (≥ 300, 408, 503)
  | { kind: 'no-subscription' } // 2xx with Refer-Sub: false: nothing more will come
  | { kind: 'timeout' } // no NOTIFY in time
  | { kind: 'terminated-without-final'; reason?: string } // Subscription-State terminated, no final status
  | { kind: 'disposed' };

export interface ReferClientHandler {
  /** The REFER's final response, ≥ 200 (the end for ≥ 300 comes through onEnd too). */
  onResponse?(res: SipResponse): void;
  /** Each NOTIFY's sipfrag status (undefined when the body has none we can read). */
  onProgress?(frag: SipfragStatus | undefined, notify: SipRequest): void;
  onEnd(end: ReferEnd): void;
}

export class ReferClient {
  readonly eventId: string;
  state: 'sent' | 'accepted' | 'active' | 'ended' = 'sent';
  private timer: TimerHandle | undefined;

  constructor(
    private readonly host: DialogHost,
    private readonly dialog: Dialog | undefined,
    readonly request: SipRequest,
    private readonly options: ReferOptions,
    private readonly handler: ReferClientHandler,
    private readonly onDispose: () => void,
  ) {
    this.eventId = String(request.cseq.seq);
  }

  send(referTo: string): void {
    const req = this.request;
    // Fix: a name-addr with a display name (`"Carol" <sip:…>`) was wrapped in a second pair of
    // brackets. A bare URI cannot hold '<' (RFC 3261 §25.1 escapes it), so '<' means name-addr.
    req.set('Refer-To', referTo.includes('<') ? referTo : `<${referTo}>`);
    if (this.options.referredBy) req.set('Referred-By', this.options.referredBy);
    if (this.options.noSubscription) {
      req.set('Refer-Sub', 'false');
      req.add('Supported', 'norefersub');
    }
    for (const [k, v] of this.options.headers ?? []) req.add(k, v);
    this.host.sendRequest(req, {
      onResponse: (res) => this.response(res),
      onTimeout: () => this.finish({ kind: 'rejected', status: 408 }),
      onTransportError: () => this.finish({ kind: 'rejected', status: 503 }),
    });
  }

  private response(res: SipResponse): void {
    if (res.status < 200 || this.state === 'ended') return;
    this.call(() => this.handler.onResponse?.(res));
    if (res.status >= 300) {
      this.finish({ kind: 'rejected', status: res.status, response: res });
      return;
    }
    if (this.state === 'sent') this.state = 'accepted';
    // RFC 4488 §4: a 2xx with Refer-Sub: false means no subscription was created.
    if (res.referSub === false) {
      this.finish({ kind: 'no-subscription' });
      return;
    }
    this.arm();
  }

  /** A NOTIFY for this subscription (the dialog usage routed it by Event id). */
  handleNotify(req: SipRequest, tx: ServerTransaction): void {
    let state: string;
    let reason: string | undefined;
    try {
      const ss = req.subscriptionState;
      if (!ss) {
        this.host.respond(tx, createResponse(req, 400, 'Missing Subscription-State'));
        return;
      }
      state = ss.state;
      reason = ss.reason;
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.host.respond(tx, createResponse(req, 400, err.reason));
      return;
    }
    this.host.respond(tx, createResponse(req, 200));
    if (this.state === 'ended') return;
    this.state = 'active';
    const frag = parseSipfragStatus(req.body);
    this.call(() => this.handler.onProgress?.(frag, req));
    if (frag && frag.status >= 200) {
      this.finish({ kind: 'final', status: frag.status, reason: frag.reason });
      return;
    }
    if (state === 'terminated') {
      this.finish({ kind: 'terminated-without-final', reason });
      return;
    }
    const ringing = frag !== undefined && frag.status >= 180 && frag.status < 200;
    this.arm(ringing ? this.options.ringingTimeoutMs : undefined);
  }

  private arm(ms?: number): void {
    if (this.timer !== undefined) this.host.timers.clearTimeout(this.timer);
    this.timer = this.host.timers.setTimeout(() => {
      this.timer = undefined;
      this.finish({ kind: 'timeout' });
    }, ms ?? this.options.notifyTimeoutMs);
  }

  private finish(end: ReferEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    if (this.timer !== undefined) this.host.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.onDispose();
    this.call(() => this.handler.onEnd(end));
  }

  /** Stops following the subscription (the dialog ended); the handler hears `disposed`. */
  dispose(): void {
    this.finish({ kind: 'disposed' });
  }

  get inDialog(): boolean {
    return this.dialog !== undefined;
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.reportError(err, 'refer-client');
    }
  }
}
