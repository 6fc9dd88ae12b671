/**
 * The notifier side of a REFER (RFC 3515 §2.4.4–2.4.5, RFC 6665): we accepted a REFER and report
 * the referenced request's progress in NOTIFYs with `message/sipfrag` bodies; the final one
 * carries `Subscription-State: terminated;reason=noresource`. With `Refer-Sub: false`
 * (RFC 4488) the 202 says so and no NOTIFY is sent.
 */
import { createResponse, type SipRequest } from '../message/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Dialog } from './dialog.js';
import type { DialogHost } from './host.js';
import { sipfrag } from './sipfrag.js';

/** Lifetime we grant to the implicit subscription (RFC 3515 leaves it to the notifier). */
const EXPIRES = 60;

export class ReferNotifier {
  state: 'pending' | 'active' | 'terminated' = 'pending';
  private readonly eventId: string;

  constructor(
    private readonly host: DialogHost,
    readonly dialog: Dialog,
    readonly request: SipRequest,
    private readonly tx: ServerTransaction,
    readonly subscribed: boolean,
    private readonly onDispose: () => void,
  ) {
    this.eventId = String(request.cseq.seq);
  }

  /** 202 Accepted, then the first NOTIFY (100 Trying) unless no subscription was asked for. */
  accept(): void {
    const res = createResponse(this.request, 202, undefined, this.dialog.localTag);
    res.set('Contact', this.dialog.localContact);
    if (!this.subscribed) res.set('Refer-Sub', 'false');
    this.host.respond(this.tx, res);
    if (!this.subscribed) {
      this.state = 'terminated';
      this.onDispose();
      return;
    }
    this.state = 'active';
    this.notify(100, 'Trying');
  }

  /** Rejects the REFER (no subscription is created). */
  reject(status: number, reason?: string): void {
    this.host.respond(this.tx, createResponse(this.request, status, reason, this.dialog.localTag));
    this.state = 'terminated';
    this.onDispose();
  }

  /** Reports a status of the referenced request; a final status (≥ 200) ends the subscription. */
  notify(status: number, reason: string, onFinal?: (status: number) => void): void {
    if (this.state !== 'active') return;
    const final = status >= 200;
    const req = this.dialog.createRequest('NOTIFY');
    req.set('Event', this.eventId === '' ? 'refer' : `refer;id=${this.eventId}`);
    req.set('Subscription-State', final ? 'terminated;reason=noresource' : `active;expires=${EXPIRES}`);
    req.setBody(sipfrag(status, reason), 'message/sipfrag;version=2.0');
    if (final) {
      this.state = 'terminated';
      this.onDispose();
    }
    this.host.sendRequest(req, {
      onResponse: (res) => {
        if (res.status < 200) return;
        if (res.status === 481 || res.status === 408) this.lost();
        onFinal?.(res.status);
      },
      onTimeout: () => {
        this.lost();
        onFinal?.(408);
      },
      onTransportError: () => {
        this.lost();
        onFinal?.(503);
      },
    });
  }

  /**
   * RFC 6665 §4.2.2: a NOTIFY that times out, or that the subscriber answers 481 (it holds no
   * such subscription), ends the subscription: later progress is not sent into the void.
   */
  private lost(): void {
    if (this.state !== 'active') return;
    this.state = 'terminated';
    this.onDispose();
  }

  dispose(): void {
    this.state = 'terminated';
  }
}
