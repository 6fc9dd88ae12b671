/**
 * Dialog state (RFC 3261 §12): identifiers, sequence numbers, route set and remote target, and
 * building requests inside the dialog (§12.2.1.1). Usages (the INVITE session, subscriptions)
 * sit on top of it; the stack keeps dialogs in a table by id.
 */
import {
  type NameAddr, parseNameAddr, SipParseError, SipRequest, type SipResponse, type Header, canonicalName, headerKey,
} from '../message/index.js';
import { detachRepeated, detachString } from '../message/detach.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return callId + '\u0000' + localTag + '\u0000' + remoteTag;
}

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From (UAC) / To (UAS) without the tag, as written: `"Name" <uri>`. */
  localUri: string;
  remoteUri: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: string;
  routeSet: string[];
  secure: boolean;
  localContact: string;
  state: DialogState;
  isUac: boolean;
}

/** The route set of every dialog without Record-Route (most): one shared empty array, never mutated. */
const NO_ROUTES = Object.freeze([]) as unknown as string[];

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly key: string;
  readonly isUac: boolean;
  localUri: string;
  remoteUri: string;
  localSeq: number;
  remoteSeq: number | undefined;
  /** Remote target: the peer's Contact URI, updated by target refresh requests (§12.2). */
  remoteTarget: string;
  /** Route set in the order requests must carry it (§12.1.1, §12.1.2). */
  routeSet: string[];
  readonly secure: boolean;
  localContact: string;
  state: DialogState;

  constructor(init: DialogInit) {
    // Detached: a dialog outlives the messages that made it (a held call for hours), and must
    // not keep their text alive through substrings (detach.ts).
    this.callId = detachString(init.callId);
    this.localTag = detachString(init.localTag);
    this.remoteTag = detachString(init.remoteTag);
    this.key = detachString(dialogKey(this.callId, this.localTag, this.remoteTag));
    this.isUac = init.isUac;
    this.localUri = detachRepeated(init.localUri);
    this.remoteUri = detachRepeated(init.remoteUri);
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = detachString(init.remoteTarget);
    this.routeSet = init.routeSet.length === 0 ? NO_ROUTES : init.routeSet.map(detachRepeated);
    this.secure = init.secure;
    this.localContact = detachRepeated(init.localContact);
    this.state = init.state;
  }

  /**
   * A request within the dialog (§12.2.1.1): To = remote URI + tag, From = local URI + tag,
   * Call-ID, CSeq = local sequence + 1 (ACK and CANCEL use the INVITE's number: pass `seq`),
   * Request-URI and Route from the route set (loose routing; strict routing when the first
   * route lacks `lr`, §12.2.1.1 / §16.12.1.1), Contact for target-refresh methods.
   */
  createRequest(method: string, seq?: number): SipRequest {
    let cseq: number;
    if (seq !== undefined) cseq = seq;
    else {
      this.localSeq += 1;
      cseq = this.localSeq;
    }
    let uri = this.remoteTarget;
    let routes = this.routeSet;
    if (routes.length > 0) {
      const first = parseNameAddr(routes[0]!);
      if (!first.parsedUri.params.has('lr')) {
        // Strict router: its URI becomes the Request-URI, the remote target goes last (§12.2.1.1).
        uri = first.uri;
        routes = [...routes.slice(1), `<${this.remoteTarget}>`];
      }
    }
    const headers: Header[] = [];
    const push = (name: string, value: string) => headers.push({ name: canonicalName(headerKey(name)), key: headerKey(name), value });
    push('max-forwards', '70');
    for (const r of routes) push('route', r);
    push('from', `${this.localUri};tag=${this.localTag}`);
    push('to', `${this.remoteUri};tag=${this.remoteTag}`);
    push('call-id', this.callId);
    push('cseq', `${cseq} ${method}`);
    if (method === 'INVITE' || method === 'UPDATE' || method === 'SUBSCRIBE' || method === 'NOTIFY' || method === 'REFER') {
      push('contact', this.localContact);
    }
    return new SipRequest(method, uri, headers);
  }

  /**
   * Checks an incoming in-dialog request's CSeq (§12.2.2): lower than the last one → 500;
   * otherwise remember it. ACK and CANCEL carry the INVITE's number and are not checked.
   */
  acceptRemoteSeq(req: SipRequest): boolean {
    if (req.method === 'ACK' || req.method === 'CANCEL') return true;
    const seq = req.cseq.seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** Target refresh (§12.2.1.2, §12.2.2): a Contact in a re-INVITE/UPDATE or its 2xx. */
  refreshTarget(message: SipRequest | SipResponse): void {
    try {
      const c = message.contact;
      if (c) this.remoteTarget = detachString(c.uri);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
}

function stripTag(addr: NameAddr): string {
  return addr.toStringWithoutTag();
}

/**
 * What a UAC's dialogs take from the request that made them (§12.1.2). An answered INVITE client
 * no longer holds its INVITE: for a fork that answers later (§13.2.2.4) it reads these from its
 * first session (InviteClient.forkOrigin).
 */
export interface UacOrigin {
  readonly callId: string;
  readonly localTag: string;
  /** From without the tag. */
  readonly localUri: string;
  readonly localSeq: number;
  /** The Request-URI: the remote target when a 2xx has no Contact. */
  readonly requestUri: string;
}

/** The request's part (not detached: the Dialog detaches what it keeps). */
function uacOrigin(request: SipRequest): UacOrigin {
  const from = request.from;
  return { callId: request.callId, localTag: from.tag ?? '', localUri: stripTag(from), localSeq: request.cseq.seq, requestUri: request.uri };
}

/** The UAC's view of a dialog made by a response with a To tag (§12.1.2). */
export function dialogFromResponse(request: SipRequest | UacOrigin, response: SipResponse, localContact: string): Dialog {
  const origin = request instanceof SipRequest ? uacOrigin(request) : request;
  const contact = response.contact;
  const routeSet = response.getAll('record-route').reverse();
  return new Dialog({
    callId: origin.callId,
    localTag: origin.localTag,
    remoteTag: response.to.tag ?? '',
    localUri: origin.localUri,
    remoteUri: stripTag(response.to),
    localSeq: origin.localSeq,
    remoteSeq: undefined,
    remoteTarget: contact ? contact.uri : origin.requestUri,
    routeSet,
    secure: origin.requestUri.toLowerCase().startsWith('sips:'),
    localContact,
    state: response.status >= 200 ? 'confirmed' : 'early',
    isUac: true,
  });
}

/** The UAS's view of a dialog made by its response to `request` with tag `localTag` (§12.1.1). */
export function dialogFromRequest(request: SipRequest, localTag: string, localContact: string, state: DialogState): Dialog {
  const contact = request.contact;
  return new Dialog({
    callId: request.callId,
    localTag,
    remoteTag: request.from.tag ?? '',
    localUri: stripTag(request.to),
    remoteUri: stripTag(request.from),
    localSeq: 0,
    remoteSeq: request.cseq.seq,
    remoteTarget: contact ? contact.uri : '',
    routeSet: request.getAll('record-route'),
    secure: request.uri.toLowerCase().startsWith('sips:'),
    localContact,
    state,
    isUac: false,
  });
}
