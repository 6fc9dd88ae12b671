/** Building messages the RFC defines in terms of others: responses (§8.2.6), ACK and CANCEL. */
import { canonicalName } from './header-names.js';
import { type Header, SipRequest, SipResponse } from './message.js';

/** Default reason phrases (RFC 3261 §21 and later RFCs) for responses we generate. */
export const REASON: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy', 380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

function copy(req: SipRequest, key: string, into: Header[]): void {
  for (const h of req.headers) if (h.key === key) into.push({ name: h.name, key, value: h.value });
}

/**
 * A response to `req` (§8.2.6.2): Via (all, in order), From, Call-ID, CSeq copied; To copied and
 * given `toTag` when it has none (not for 100 Trying, §8.2.6.2); Record-Route copied for 2xx/18x
 * of dialog-creating requests is the dialog layer's job, not done here.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const headers = req.responseCopies();
  // One To line, the first: a second one (malformed, §20) is not echoed.
  let to = -1;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]!.key !== 'to') continue;
    if (to < 0) to = i;
    else headers.splice(i--, 1);
  }
  if (to >= 0 && toTag && status > 100 && !hasTag(req)) {
    headers[to] = { name: 'To', key: 'to', value: `${headers[to]!.value};tag=${toTag}` };
  }
  return new SipResponse(status, reason ?? REASON[status] ?? 'Unknown', headers);
}

function hasTag(req: SipRequest): boolean {
  try {
    return req.to.tag !== undefined;
  } catch {
    return false;
  }
}

/**
 * The ACK for a non-2xx final response, built by the INVITE client transaction (§17.1.1.3):
 * same Request-URI, Call-ID, From, top Via (same branch) and Route as the INVITE, To from the
 * response, CSeq with the same number and method ACK.
 */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: Header[] = [];
  const topVia = invite.get('via');
  if (topVia !== undefined) headers.push({ name: 'Via', key: 'via', value: topVia });
  headers.push({ name: 'Max-Forwards', key: 'max-forwards', value: '70' });
  copy(invite, 'route', headers);
  copy(invite, 'from', headers);
  const to = response.get('to');
  if (to !== undefined) headers.push({ name: 'To', key: 'to', value: to });
  copy(invite, 'call-id', headers);
  headers.push({ name: 'CSeq', key: 'cseq', value: `${invite.cseq.seq} ACK` });
  return new SipRequest('ACK', invite.uri, headers);
}

/**
 * CANCEL for a pending request (§9.1): same Request-URI, Call-ID, To, From, CSeq number and top
 * Via (branch) as the request, Route copied, CSeq method CANCEL.
 */
export function createCancel(request: SipRequest, reason?: string): SipRequest {
  const headers: Header[] = [];
  const topVia = request.get('via');
  if (topVia !== undefined) headers.push({ name: 'Via', key: 'via', value: topVia });
  headers.push({ name: 'Max-Forwards', key: 'max-forwards', value: '70' });
  copy(request, 'route', headers);
  copy(request, 'from', headers);
  copy(request, 'to', headers);
  copy(request, 'call-id', headers);
  headers.push({ name: 'CSeq', key: 'cseq', value: `${request.cseq.seq} CANCEL` });
  if (reason) headers.push({ name: canonicalName('reason'), key: 'reason', value: reason });
  return new SipRequest('CANCEL', request.uri, headers);
}
