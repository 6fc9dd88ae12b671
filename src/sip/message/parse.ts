/**
 * The message parser (RFC 3261 §7, §25). One pass over the header block splits lines, unfolds
 * continuations and records (name, key, value) triples; only the headers every message needs
 * (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length) are checked here — the rest are
 * parsed when first read. Errors are SipParseError, whose `answerable` says whether a 400 can go
 * back (§8.2.6, §18.3).
 */
import { SipParseError } from './errors.js';
import { headerKey } from './header-names.js';
import { isToken, isWs } from './grammar.js';
import { EMPTY, type Header, type SipMessage, SipRequest, SipResponse } from './message.js';
import { parseUri } from './uri.js';

export interface ParseOptions {
  /** Most header lines accepted (a limit against header floods). */
  maxHeaders?: number;
  /**
   * The bytes came framed from a stream (TCP/TLS): the framer already cut the body by
   * Content-Length. For datagrams, a body shorter than Content-Length is an error (§18.3).
   */
  stream?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

export function parseMessage(data: Buffer, options: ParseOptions = {}): SipMessage {
  // §7.5: implementations SHOULD ignore CRLFs before the start-line.
  let start = 0;
  while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
  if (start >= data.length) throw new SipParseError('Empty message');

  let headEnd = data.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else {
    headEnd = data.indexOf(LFLF, start);
    if (headEnd >= 0) bodyStart = headEnd + 2;
    else {
      // No empty line: the whole message is headers (tolerated; there can be no body).
      headEnd = data.length;
      bodyStart = data.length;
    }
  }
  const head = data.toString('utf8', start, headEnd);

  // ── start line ──
  let eol = head.indexOf('\n');
  if (eol < 0) eol = head.length;
  const first = head.charCodeAt(eol - 1) === 13 ? head.slice(0, eol - 1) : head.slice(0, eol);
  const message = parseStartLine(first);

  // ── header lines ──
  const maxHeaders = options.maxHeaders ?? 1000;
  const headers: Header[] = [];
  let pos = eol + 1;
  let last: Header | undefined;
  let badLine: string | undefined;
  while (pos < head.length) {
    let end = head.indexOf('\n', pos);
    if (end < 0) end = head.length;
    const lineEnd = head.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const c = head.charCodeAt(pos);
    if (c === 32 || c === 9) {
      // §7.3.1 header folding: a line starting with whitespace continues the previous one.
      if (last) last.value = trimLws(last.value + ' ' + trimLws(head.slice(pos, lineEnd)));
      else badLine ??= 'Continuation line before any header';
    } else if (lineEnd > pos) {
      const colon = head.indexOf(':', pos);
      if (colon < 0 || colon >= lineEnd) {
        badLine ??= `Header line without colon: "${head.slice(pos, Math.min(lineEnd, pos + 40))}"`;
      } else {
        let nameEnd = colon;
        while (nameEnd > pos && isWs(head.charCodeAt(nameEnd - 1))) nameEnd--;
        const name = head.slice(pos, nameEnd);
        if (!isToken(name)) badLine ??= `Bad header name "${name.slice(0, 40)}"`;
        else {
          // The value without surrounding spaces/tabs, sliced once.
          let a = colon + 1;
          let b = lineEnd;
          while (a < b && (head.charCodeAt(a) === 32 || head.charCodeAt(a) === 9)) a++;
          while (b > a && (head.charCodeAt(b - 1) === 32 || head.charCodeAt(b - 1) === 9)) b--;
          last = { name, key: headerKey(name), value: head.slice(a, b) };
          headers.push(last);
          if (headers.length > maxHeaders) {
            throw new SipParseError(`Too many headers (limit ${maxHeaders})`, 400, false);
          }
        }
      }
    }
    pos = end + 1;
  }
  message.headers = headers;

  // ── body by Content-Length (§18.3, §20.14) ──
  let clText: string | undefined;
  for (const h of headers) {
    if (h.key === 'content-length') {
      if (clText !== undefined && clText !== h.value) badLine ??= 'Conflicting Content-Length headers';
      clText = h.value;
    }
  }
  let body: Buffer = EMPTY;
  const available = data.length - bodyStart;
  let bodyError: string | undefined;
  if (clText !== undefined) {
    if (!/^\d{1,10}$/.test(clText)) bodyError = `Bad Content-Length "${clText.slice(0, 20)}"`;
    else {
      const cl = Number(clText);
      if (cl > available) bodyError = `Content-Length ${cl} exceeds the ${available} bytes of body`;
      else body = data.subarray(bodyStart, bodyStart + cl);
    }
  } else if (available > 0) {
    body = data.subarray(bodyStart);
  }
  message.body = body;

  // ── the headers every message needs (§8.1.1, §8.2.6) ──
  const answerable = checkCore(message);
  const fail = (reason: string, status = 400): never => {
    const error = new SipParseError(reason, status, answerable === true);
    if (answerable === true) error.partial = message;
    throw error;
  };
  if (typeof answerable === 'string') fail(answerable);
  if (badLine) fail(badLine);
  if (bodyError) fail(bodyError);
  if (message.isRequest) {
    const req = message as SipRequest;
    if (req.cseq.method !== req.method) fail('CSeq method does not match the request method');
    try {
      message.maxForwards;
      // RFC 3261 §19.1.1 Table 1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
      if (isSipScheme(req.uri) && req.requestUri.headers.size > 0) fail('Request-URI must not contain headers');
    } catch (err) {
      if (err instanceof SipParseError) fail(err.reason);
      throw err;
    }
    if ((message as SipRequest & { versionError?: string }).versionError) {
      fail('Version Not Supported', 505);
    }
  }
  // Keep the exact bytes (from the start line) so an unmodified message round-trips.
  message.raw = start === 0 && bodyStart + body.length === data.length ? data : undefined;
  return message;
}

/**
 * Strips SP/HTAB (§25.1 LWS) from both ends. String.prototype.trim would also remove U+FEFF and
 * other Unicode spaces that belong to a UTF8-NONASCII header value (RFC 4475 §3.1.1.2).
 */
function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Returns true when Via/From/To/Call-ID/CSeq are present and well formed, else the defect. */
function checkCore(m: SipMessage): true | string {
  try {
    if (m.vias.length === 0) return 'Missing Via header';
    // §7.3.1 / RFC 4475 §3.3.8: one From, To, Call-ID, CSeq and Max-Forwards at most.
    for (const key of ['from', 'to', 'call-id', 'cseq', 'max-forwards']) {
      let seen = 0;
      for (const h of m.headers) if (h.key === key && ++seen > 1) return `Several ${key} headers`;
    }
    m.from;
    m.to;
    if (!m.get('call-id')) return 'Missing Call-ID header';
    m.cseq;
    return true;
  } catch (err) {
    if (err instanceof SipParseError) return err.reason;
    throw err;
  }
}

function isSipScheme(uri: string): boolean {
  const c = uri.charCodeAt(0) | 32;
  return c === 115 /* s */ && /^sips?:/i.test(uri);
}

function parseStartLine(line: string): SipMessage {
  if (line.length > 4 && line.slice(0, 4).toUpperCase() === 'SIP/') {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('Bad status line');
    const version = line.slice(0, sp1);
    if (version.toUpperCase() !== 'SIP/2.0') throw new SipParseError(`Unsupported version "${version}"`, 505);
    const code = line.slice(sp1 + 1, sp1 + 4);
    if (!/^[1-6]\d\d$/.test(code)) throw new SipParseError(`Bad status code "${code}"`);
    const after = line.charCodeAt(sp1 + 4);
    if (!Number.isNaN(after) && after !== 32) throw new SipParseError('Bad status line');
    return new SipResponse(Number(code), line.slice(sp1 + 5));
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1): single spaces, no LWS.
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0 || sp2 === sp1 + 1) {
    throw new SipParseError('Bad request line');
  }
  const method = line.slice(0, sp1);
  if (!isToken(method)) throw new SipParseError(`Bad method "${method}"`);
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (uri.indexOf(':') <= 0 || /[<>"\t]/.test(uri)) throw new SipParseError(`Bad Request-URI "${uri}"`);
  const req = new SipRequest(method, uri);
  if (version.toUpperCase() !== 'SIP/2.0') {
    if (!/^SIP\/\d+\.\d+$/i.test(version)) throw new SipParseError(`Bad version "${version}"`);
    // Checked after the core headers so that the 505 can be answered (§8.2.2.2 … §21.5.7).
    (req as SipRequest & { versionError?: string }).versionError = version;
  }
  return req;
}

/** Validates a Request-URI scheme for a UAS: sip, sips and tel are ours; others get 416. */
export function checkRequestUriScheme(req: SipRequest): void {
  const uri = parseUri(req.uri);
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel') {
    throw new SipParseError('Unsupported URI Scheme', 416, true);
  }
}
