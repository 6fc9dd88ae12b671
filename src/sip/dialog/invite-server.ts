/**
 * An initial INVITE we received (RFC 3261 §13.3): provisional responses with our To tag, the 2xx
 * that confirms the dialog (retransmitted until the ACK by the session, §13.3.1.4), rejections,
 * and CANCEL (§9.2: 487 to the INVITE).
 */
import { createResponse, type SipRequest } from '../message/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import { detachBuffer } from '../message/detach.js';
import { dialogFromRequest } from './dialog.js';
import type { DialogHost } from './host.js';
import { applyBody, type Body, InviteSession } from './invite-session.js';

export class InviteServer {
  readonly localTag: string;
  state: 'proceeding' | 'answered' | 'rejected' | 'cancelled' = 'proceeding';
  session: InviteSession | undefined;
  /** Called when a CANCEL matched this INVITE (after it was answered 487). */
  onCancel: (() => void) | undefined;
  /**
   * Called once when the INVITE got its final response: a CANCEL can no longer change anything
   * (§9.2), so the stack stops holding this object for the 64*T1 the transaction still waits.
   */
  onSettled: (() => void) | undefined;

  constructor(
    private readonly host: DialogHost,
    readonly request: SipRequest,
    readonly tx: ServerTransaction,
    private readonly localContact: string,
  ) {
    this.localTag = host.newTag();
  }

  /** A provisional response (180 Ringing by default). */
  progress(status = 180, body?: Body): void {
    if (this.state !== 'proceeding') return;
    const res = createResponse(this.request, status, undefined, this.localTag);
    res.set('Contact', this.localContact);
    applyBody(res, body);
    this.host.respond(this.tx, res);
  }

  /** 2xx: creates and returns the session; the 2xx is retransmitted until the ACK arrives. */
  accept(body?: Body, status = 200): InviteSession | undefined {
    if (this.state !== 'proceeding') return undefined;
    this.state = 'answered';
    this.settled();
    const dialog = dialogFromRequest(this.request, this.localTag, this.localContact, 'confirmed');
    const session = new InviteSession(this.host, dialog);
    // Held for the call: a copy of its own, not a view that keeps the whole INVITE datagram.
    if (this.request.body.length > 0) session.remoteBody = detachBuffer(this.request.body);
    const res = createResponse(this.request, status, undefined, this.localTag);
    res.set('Contact', this.localContact);
    // §12.1.1: the Record-Route of the request, in order.
    const recordRoute = this.request.getAll('record-route');
    if (recordRoute.length > 0) res.set('Record-Route', recordRoute);
    applyBody(res, body);
    this.session = session;
    session.send2xx(this.tx, res);
    return session;
  }

  reject(status: number, reason?: string, headers?: [string, string][]): void {
    if (this.state !== 'proceeding') return;
    this.state = 'rejected';
    this.settled();
    const res = createResponse(this.request, status, reason, this.localTag);
    for (const [k, v] of headers ?? []) res.add(k, v);
    this.host.respond(this.tx, res);
  }

  private settled(): void {
    const done = this.onSettled;
    this.onSettled = undefined;
    try {
      done?.();
    } catch (err) {
      this.host.reportError(err, 'invite-server.onSettled');
    }
  }

  /** Called by the stack when a CANCEL matched (§9.2): 487 to the INVITE, then tell the owner. */
  cancelled(): void {
    if (this.state !== 'proceeding') return;
    this.reject(487);
    this.state = 'cancelled';
    try {
      this.onCancel?.();
    } catch (err) {
      this.host.reportError(err, 'invite-server.onCancel');
    }
  }
}
