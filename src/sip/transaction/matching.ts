/**
 * Transaction keys: a message maps to one string, and matching is a Map lookup.
 * Client side RFC 3261 §17.1.3; server side §17.2.3; CANCEL §9.2.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_COOKIE, type Via } from '../message/via.js';

const SEP = '\u0000';

/**
 * §17.1.3: "1. If the response has the same value of the branch parameter in the top Via header
 * field as the branch parameter in the top Via header field of the request that created the
 * transaction. 2. If the method parameter in the CSeq header field matches the method of the
 * request that created the transaction."
 */
export function clientKey(branch: string, method: string): string {
  // join() makes one flat string: `+` would leave a tree of cons strings in every key the layer
  // holds (thousands wait in Completed states), costing memory and GC time.
  return [branch, method].join(SEP);
}

/** The client key a response matches, or undefined when its top Via has no branch. Throws SipParseError. */
export function responseKey(response: SipResponse): string | undefined {
  const branch = response.topVia.branch;
  if (branch === undefined || branch === '') return undefined;
  return clientKey(branch, response.cseq.method);
}

/** sent-by (§17.2.3 rule 2): host compared case-insensitively, the port as written. */
function sentBy(via: Via): string {
  const host = via.host;
  return (hasUpperCase(host) ? host.toLowerCase() : host) + ':' + (via.port === undefined ? '' : String(via.port));
}

function hasUpperCase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c >= 128) return true;
  }
  return false;
}

/** True when the top Via branch is an RFC 3261 one (§8.1.1.7 magic cookie). */
export function hasRfc3261Branch(via: Via): boolean {
  const branch = via.branch;
  return branch !== undefined && branch.startsWith(BRANCH_COOKIE);
}

/**
 * The server transaction key of a request (§17.2.3), with the method it must match:
 *
 * "If it is present and begins with the magic cookie "z9hG4bK" ... The request matches a
 * transaction if: 1. the branch parameter in the request is equal to the one in the top Via header
 * field of the request that created the transaction, and 2. the sent-by value in the top Via of the
 * request is equal to the one in the request that created the transaction, and 3. the method of the
 * request matches the one that created the transaction, except for ACK, where the method of the
 * request that created the transaction is INVITE."
 *
 * Otherwise (RFC 2543 peers): "The INVITE request matches a transaction if the Request-URI, To tag,
 * From tag, Call-ID, CSeq, and top Via header field match those of the INVITE request which created
 * the transaction." and "For all other request methods, a request is matched to a transaction if the
 * Request-URI, To tag, From tag, Call-ID, CSeq (including the method), and top Via header field
 * match". The fields are compared as written, which is what a retransmission carries.
 *
 * `method` overrides the method matched (CANCEL matching passes INVITE, §9.2). Not for ACK in 2543
 * mode: see rfc2543AckBase. Throws SipParseError on a malformed Via, CSeq, From or To.
 */
export function serverKey(request: SipRequest, method?: string): string {
  const via = request.topVia;
  const m = method ?? (request.method === 'ACK' ? 'INVITE' : request.method);
  // Flat strings (join), as in clientKey.
  if (hasRfc3261Branch(via)) return [via.branch!, sentBy(via), m].join(SEP);
  return ['2543', rfc2543Base(request), request.to.tag ?? '', m].join(SEP);
}

/**
 * §17.2.3, RFC 2543 ACK: "The ACK request matches a transaction if the Request-URI, From tag,
 * Call-ID, CSeq number (not the method), and top Via header field match those of the INVITE request
 * which created the transaction, and the To tag of the ACK matches the To tag of the response sent
 * by the server transaction." This is the part without the To tag; the layer checks the tag.
 */
export function rfc2543Base(request: SipRequest): string {
  return (
    request.uri + SEP + (request.from.tag ?? '') + SEP + request.callId + SEP +
    String(request.cseq.seq) + SEP + (request.get('via') ?? '').trim()
  );
}
