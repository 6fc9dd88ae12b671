/**
 * The message parser (RFC 3261 §7, §25). One pass over the header block splits lines, unfolds
 * continuations and records (name, key, value) triples; only the headers every message needs
 * (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length) are checked here — the rest are
 * parsed when first read. Errors are SipParseError, whose `answerable` says whether a 400 can go
 * back (§8.2.6, §18.3).
 */
import { isAscii } from 'node:buffer';
import { SipParseError } from './errors.js';
import {
  CORE_CALL_ID, CORE_CONTENT_LENGTH, CORE_CSEQ, CORE_FROM, CORE_MAX_FORWARDS, CORE_NONE, CORE_TO, CORE_VIA,
  exactHeaderName, lookupHeaderName, type KnownHeader,
} from './header-names.js';
import { FOLDED, trimmedSlice, UNKNOWN_NAME, type HeaderLineOffsets } from './header-lines.js';
import { isToken, isTokenChar, isWs, splitList } from './grammar.js';
import { EMPTY, type CSeq, type Header, type SipMessage, SipRequest, SipResponse, digitsValue, parseCSeq } from './message.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { isPlainSipUri, parseUri } from './uri.js';
import { parseVia, type Via } from './via.js';

export interface ParseOptions {
  /** Most header lines accepted (a limit against header floods). */
  maxHeaders?: number;
  /**
   * The bytes came framed from a stream (TCP/TLS): the framer already cut the body by
   * Content-Length. For datagrams, a body shorter than Content-Length is an error (§18.3).
   */
  stream?: boolean;
}

/** parseMessage's offsets while it reads the header block (it runs to its end before another starts). */
let lineScratch: number[] = [];
/** Entries (5 a line) kept in lineScratch between messages: ~200 header lines. */
const LINE_SCRATCH_KEEP = 1000;

/**
 * Parses one message. Throws SipParseError (never anything else) for malformed input: with
 * `answerable` and `partial` set when Via/From/To/Call-ID/CSeq were readable (§8.2.6.1).
 *
 * Hot path (decisions: "hot paths avoid regexes over whole messages and needless allocations"):
 * a pure-ASCII message — nearly all of them — is decoded as latin1 in one call, so that string
 * indices are byte offsets and the blank line is found by the header loop itself; each header
 * line is scanned once by char codes, the names phones write are recognised without slicing them,
 * and of the Via values only the top one is parsed here (the others when `vias` is read).
 */
export function parseMessage(data: Buffer, options: ParseOptions = {}): SipMessage {
  // §7.5: implementations SHOULD ignore CRLFs before the start-line.
  const total = data.length;
  let start = 0;
  while (start < total && (data[start] === 13 || data[start] === 10)) start++;
  if (start >= total) throw new SipParseError('Empty message');

  let head: string;
  /** Byte offset of the body; -1 until the header loop has found the blank line (ASCII case). */
  let bodyStart = -1;
  const ascii = isAscii(data);
  if (ascii) {
    // latin1 is exact for ASCII and much cheaper than UTF-8; it includes the body, which the
    // header loop never reads past the blank line.
    head = data.toString('latin1', start, total);
  } else {
    // UTF8-NONASCII in header values (§25.1) or a binary body: find the blank line on the
    // bytes, decode the header block alone as UTF-8.
    const headEnd = findBlankLine(data, start);
    bodyStart = headEnd < 0 ? total : data[headEnd] === 13 ? headEnd + 2 : headEnd + 1;
    head = data.toString('utf8', start, headEnd < 0 ? total : headEnd);
  }
  const n = head.length;

  // ── start line ──
  let eol = head.indexOf('\n');
  if (eol < 0) eol = n;
  const message = parseStartLine(head.slice(0, eol > 0 && head.charCodeAt(eol - 1) === 13 ? eol - 1 : eol));
  // A Request-URI of the plain form (isPlainSipUri) is known good: it is parsed only when read.
  let plainUri = false;
  if (message.isRequest) {
    const req = message as SipRequest & { versionError?: string };
    const uri = req.uri;
    plainUri = isPlainSipUri(uri);
    if (!plainUri && (uri.indexOf(':') <= 0 || hasForbiddenUriChar(uri))) throw new SipParseError(`Bad Request-URI "${uri}"`);
    const version = req.versionError;
    if (version !== undefined && !/^SIP\/\d+\.\d+$/i.test(version)) throw new SipParseError(`Bad version "${version}"`);
  }

  // ── header lines ──
  // Each line is checked here but recorded as offsets (header-lines.ts); only the core headers'
  // values are sliced now.
  const maxHeaders = options.maxHeaders ?? 1000;
  // Offsets are gathered in one array shared by every parse and copied out at the exact length:
  // pushed into a fresh array, its backing store was reallocated three or four times per message
  // (~3 KB per session under load, issue 6).
  let used = 0;
  const gather = lineScratch;
  let headerCount = 0;
  let folded = false;
  let pos = eol + 1;
  let badLine: string | undefined;
  // Line offsets (index into `lines`) of the first line of each core header, and how many lines
  // each has (RFC 4475 §3.3.8 multi01); -1: none.
  let viaAt = -1;
  let fromAt = -1;
  let toAt = -1;
  let callIdAt = -1;
  let cseqAt = -1;
  let maxForwardsAt = -1;
  let contentLengthAt = -1;
  let fromCount = 0;
  let toCount = 0;
  let callIdCount = 0;
  let cseqCount = 0;
  let maxForwardsCount = 0;
  let contentLengthCount = 0;
  while (pos < n) {
    let end = head.indexOf('\n', pos);
    if (end < 0) end = n;
    const lineEnd = end > pos && head.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (lineEnd === pos) {
      // The empty line that ends the header block (§7): the body follows it.
      pos = end + 1;
      if (bodyStart < 0) bodyStart = start + Math.min(pos, n);
      break;
    }
    const c = head.charCodeAt(pos);
    if (c === 32 || c === 9) {
      // §7.3.1 header folding: a line starting with whitespace continues the previous one.
      if (headerCount > 0) {
        gather[used++] = FOLDED;
        gather[used++] = FOLDED;
        gather[used++] = pos;
        gather[used++] = lineEnd;
        gather[used++] = UNKNOWN_NAME;
        folded = true;
      } else badLine ??= 'Continuation line before any header';
      pos = end + 1;
      continue;
    }
    // header-name = token, then optional SP/HTAB, then ':' (§7.3.1). First try the names as
    // phones spell them: an exact match is a valid token and tells the key at once.
    let nameEnd = -1;
    let valueStart = -1;
    let known: KnownHeader | undefined;
    const colon = head.indexOf(':', pos);
    if (colon > pos && colon < lineEnd) {
      let e = colon;
      while (e > pos && (head.charCodeAt(e - 1) === 32 || head.charCodeAt(e - 1) === 9)) e--;
      known = e > pos ? exactHeaderName(head, pos, e) : undefined;
      if (known !== undefined) {
        nameEnd = e;
        valueStart = colon + 1;
      }
    }
    let i = pos;
    if (valueStart < 0) {
      while (i < lineEnd) {
        const t = head.charCodeAt(i);
        if (t >= 128 || TOKEN_CHARS[t] !== 1) break;
        i++;
      }
      nameEnd = i;
      while (i < lineEnd && (head.charCodeAt(i) === 32 || head.charCodeAt(i) === 9)) i++;
    }
    if (valueStart >= 0) {
      // matched above
    } else if (nameEnd > pos && i < lineEnd && head.charCodeAt(i) === 58) {
      valueStart = i + 1;
    } else {
      // Unusual or malformed line: the general (slower) reading, with the same verdicts.
      const colon = head.indexOf(':', pos);
      if (colon < 0 || colon >= lineEnd) {
        badLine ??= `Header line without colon: "${head.slice(pos, Math.min(lineEnd, pos + 40))}"`;
      } else {
        nameEnd = colon;
        while (nameEnd > pos && isWs(head.charCodeAt(nameEnd - 1))) nameEnd--;
        const name = head.slice(pos, nameEnd);
        if (!isToken(name)) badLine ??= `Bad header name "${name.slice(0, 40)}"`;
        else valueStart = colon + 1;
      }
    }
    if (valueStart >= 0) {
      const at = used;
      if (++headerCount > maxHeaders) {
        throw new SipParseError(`Too many headers (limit ${maxHeaders})`, 400, false);
      }
      // Unless matched exactly above, the name is looked up case-insensitively, once: the line
      // records what it is (header-lines.ts).
      known ??= lookupHeaderName(head, pos, nameEnd);
      gather[used++] = pos;
      gather[used++] = nameEnd;
      gather[used++] = valueStart;
      gather[used++] = lineEnd;
      gather[used++] = known === undefined ? UNKNOWN_NAME : known.id;
      if (known !== undefined) {
        switch (known.core) {
          case CORE_NONE:
            break;
          case CORE_VIA:
            if (viaAt < 0) viaAt = at;
            break;
          case CORE_FROM:
            if (fromCount++ === 0) fromAt = at;
            break;
          case CORE_TO:
            if (toCount++ === 0) toAt = at;
            break;
          case CORE_CALL_ID:
            if (callIdCount++ === 0) callIdAt = at;
            break;
          case CORE_CSEQ:
            if (cseqCount++ === 0) cseqAt = at;
            break;
          case CORE_MAX_FORWARDS:
            if (maxForwardsCount++ === 0) maxForwardsAt = at;
            break;
          case CORE_CONTENT_LENGTH:
            if (contentLengthCount++ === 0) contentLengthAt = at;
            break;
        }
      }
    }
    pos = end + 1;
  }
  if (bodyStart < 0) bodyStart = total; // no empty line: all headers, no body (tolerated)
  const lines: HeaderLineOffsets = gather.slice(0, used);
  // A header flood's offsets are not kept for the next message.
  if (gather.length > LINE_SCRATCH_KEEP) lineScratch = [];
  message.setPendingHeaders(head, lines);

  // The core values: sliced from the offsets, or — when a line was folded — read from the
  // Header objects, where the continuation lines have been joined.
  let viaText: string | undefined;
  let fromText: string | undefined;
  let toText: string | undefined;
  let callIdText: string | undefined;
  let cseqText: string | undefined;
  let maxForwardsText: string | undefined;
  let clText: string | undefined;
  if (!folded) {
    if (viaAt >= 0) viaText = trimmedSlice(head, lines[viaAt + 2]!, lines[viaAt + 3]!);
    if (fromAt >= 0) fromText = trimmedSlice(head, lines[fromAt + 2]!, lines[fromAt + 3]!);
    if (toAt >= 0) toText = trimmedSlice(head, lines[toAt + 2]!, lines[toAt + 3]!);
    if (callIdAt >= 0) callIdText = trimmedSlice(head, lines[callIdAt + 2]!, lines[callIdAt + 3]!);
    if (cseqAt >= 0) cseqText = trimmedSlice(head, lines[cseqAt + 2]!, lines[cseqAt + 3]!);
    if (maxForwardsAt >= 0) maxForwardsText = trimmedSlice(head, lines[maxForwardsAt + 2]!, lines[maxForwardsAt + 3]!);
    if (contentLengthAt >= 0) clText = trimmedSlice(head, lines[contentLengthAt + 2]!, lines[contentLengthAt + 3]!);
  } else {
    viaText = firstValue(message.headers, 'via');
    fromText = firstValue(message.headers, 'from');
    toText = firstValue(message.headers, 'to');
    callIdText = firstValue(message.headers, 'call-id');
    cseqText = firstValue(message.headers, 'cseq');
    maxForwardsText = firstValue(message.headers, 'max-forwards');
    clText = firstValue(message.headers, 'content-length');
  }

  // ── body by Content-Length (§18.3, §20.14) ──
  if (contentLengthCount > 1) {
    for (const h of message.headers) {
      if (h.key === 'content-length' && h.value !== clText) badLine ??= 'Conflicting Content-Length headers';
    }
  }
  let body: Buffer = EMPTY;
  const available = total - bodyStart;
  let bodyError: string | undefined;
  if (clText !== undefined) {
    const cl = clText.length > 10 ? -1 : digitsValue(clText);
    if (cl < 0) bodyError = `Bad Content-Length "${clText.slice(0, 20)}"`;
    else {
      if (cl > available) bodyError = `Content-Length ${cl} exceeds the ${available} bytes of body`;
      else if (cl > 0) body = data.subarray(bodyStart, bodyStart + cl);
    }
  } else if (available > 0) {
    body = data.subarray(bodyStart);
  }
  message.body = body;

  // ── the headers every message needs (§8.1.1, §8.2.6), checked in a fixed order ──
  let defect: string | undefined;
  let topVia: Via | undefined;
  let from: NameAddr | undefined;
  let to: NameAddr | undefined;
  let cseq: CSeq | undefined;
  try {
    const topViaText = viaText === undefined ? undefined : firstViaValue(viaText, message);
    if (topViaText === undefined) defect = 'Missing Via header';
    else topVia = parseVia(topViaText);
    // §7.3.1 / RFC 4475 §3.3.8: one From, To, Call-ID, CSeq and Max-Forwards at most.
    if (defect !== undefined) {
      // reported below
    } else if (fromCount > 1) defect = 'Several from headers';
    else if (toCount > 1) defect = 'Several to headers';
    else if (callIdCount > 1) defect = 'Several call-id headers';
    else if (cseqCount > 1) defect = 'Several cseq headers';
    else if (maxForwardsCount > 1) defect = 'Several max-forwards headers';
    else {
      if (fromText === undefined) defect = 'Missing From header';
      else {
        from = parseNameAddr(fromText);
        if (toText === undefined) defect = 'Missing To header';
        else {
          to = parseNameAddr(toText);
          if (callIdText === undefined || callIdText === '') defect = 'Missing Call-ID header';
          else if (cseqText === undefined) defect = 'Missing CSeq header';
          else cseq = parseCSeq(cseqText);
        }
      }
    }
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    defect = err.reason;
  }
  if (defect !== undefined) throw new SipParseError(defect, 400, false);
  message.primeCore(topVia!, from!, to!, callIdText!, cseq!);
  // 1*DIGIT, leading zeros allowed (RFC 4475 §3.1.1.1 sends "0068"); a bad value fails requests
  // below and responses when read.
  let badMaxForwards: string | undefined;
  if (maxForwardsText === undefined) message.primeMaxForwards(undefined);
  else {
    const v = maxForwardsText;
    const mf = digitsValue(v);
    if (mf >= 0 && mf <= 255) message.primeMaxForwards(mf);
    else badMaxForwards = `Bad Max-Forwards "${v}"`;
  }

  if (badLine) throw answerableError(message, badLine);
  if (bodyError) throw answerableError(message, bodyError);
  if (message.isRequest) {
    const req = message as SipRequest;
    if (cseq!.method !== req.method) throw answerableError(message, 'CSeq method does not match the request method');
    if (badMaxForwards !== undefined) throw answerableError(message, badMaxForwards);
    // RFC 3261 §19.1.1 Table 1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if (!plainUri && isSipScheme(req.uri)) {
      // Not of the plain form (isPlainSipUri): parse it now to find out. A plain one is parsed
      // when `requestUri` is first read.
      let uriHeaders = 0;
      try {
        uriHeaders = req.requestUri.headers.size;
      } catch (err) {
        if (err instanceof SipParseError) throw answerableError(message, err.reason);
        throw err;
      }
      if (uriHeaders > 0) throw answerableError(message, 'Request-URI must not contain headers');
    }
    if ((message as SipRequest & { versionError?: string }).versionError) {
      throw answerableError(message, 'Version Not Supported', 505);
    }
  }
  // Keep the exact bytes (from the start line) so an unmodified message round-trips.
  message.raw = start === 0 && bodyStart + body.length === total ? data : undefined;
  return message;
}

/** A defect found once the core headers were read: a response can go back (§8.2.6.1). */
function answerableError(message: SipMessage, reason: string, status = 400): SipParseError {
  const error = new SipParseError(reason, status, true);
  error.partial = message;
  return error;
}

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")  (§25.1)
const TOKEN_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (isTokenChar(c)) TOKEN_CHARS[c] = 1;

/** The value of the first line of a header (not split on commas). */
function firstValue(headers: Header[], key: string): string | undefined {
  for (const h of headers) if (h.key === key) return h.value;
  return undefined;
}

/**
 * The top Via value: the first element of the first Via line that has one, as `vias` reads it.
 * `first` is the first Via line's value.
 */
function firstViaValue(first: string, message: SipMessage): string | undefined {
  // The usual case: one value on the line, nothing at its ends that trim() would remove.
  const a = first.charCodeAt(0);
  const z = first.charCodeAt(first.length - 1);
  if (a > 32 && a < 127 && z > 32 && z < 127 && first.indexOf(',') < 0) return first;
  for (const h of message.headers) {
    if (h.key !== 'via') continue;
    const parts = splitList(h.value);
    if (parts.length > 0) return parts[0];
  }
  return undefined;
}

/** Index of the empty line that ends the header block (its first byte), or -1 (§7). */
function findBlankLine(data: Buffer, from: number): number {
  let nl = data.indexOf(10, from);
  while (nl >= 0) {
    const next = nl + 1;
    if (next < data.length && data[next] === 10) return next;
    if (next + 1 < data.length && data[next] === 13 && data[next + 1] === 10) return next;
    if (next + 1 === data.length && data[next] === 13) return next;
    nl = data.indexOf(10, next);
  }
  return -1;
}

function isSipScheme(uri: string): boolean {
  const c = uri.charCodeAt(0) | 32;
  return c === 115 /* s */ && /^sips?:/i.test(uri);
}

function parseStartLine(line: string): SipMessage {
  if (
    line.length > 4 && (line.charCodeAt(0) | 32) === 115 && (line.charCodeAt(1) | 32) === 105 &&
    (line.charCodeAt(2) | 32) === 112 && line.charCodeAt(3) === 47
  ) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('Bad status line');
    const version = line.slice(0, sp1);
    if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') throw new SipParseError(`Unsupported version "${version}"`, 505);
    const c1 = line.charCodeAt(sp1 + 1);
    const c2 = line.charCodeAt(sp1 + 2);
    const c3 = line.charCodeAt(sp1 + 3);
    if (!(c1 >= 49 && c1 <= 54 && c2 >= 48 && c2 <= 57 && c3 >= 48 && c3 <= 57)) {
      throw new SipParseError(`Bad status code "${line.slice(sp1 + 1, sp1 + 4)}"`);
    }
    const after = line.charCodeAt(sp1 + 4);
    if (!Number.isNaN(after) && after !== 32) throw new SipParseError('Bad status line');
    return new SipResponse((c1 - 48) * 100 + (c2 - 48) * 10 + (c3 - 48), line.slice(sp1 + 5));
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1): single spaces, no LWS.
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0 || sp2 === sp1 + 1) {
    throw new SipParseError('Bad request line');
  }
  const method = knownMethod(line, sp1) ?? line.slice(0, sp1);
  if (!isToken(method)) throw new SipParseError(`Bad method "${method}"`);
  const req = new SipRequest(method, line.slice(sp1 + 1, sp2));
  // The Request-URI's characters, then the version's form, are checked by parseMessage; an
  // unsupported version is answered with 505 once the core headers are read (§8.2.2.2 … §21.5.7).
  const version = line.slice(sp2 + 1);
  if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') {
    (req as SipRequest & { versionError?: string }).versionError = version;
  }
  return req;
}

/** '<', '>', '"' or HTAB: never in a Request-URI (RFC 4475 §3.1.2.6 ltgtruri). */
function hasForbiddenUriChar(uri: string): boolean {
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 60 || c === 62 || c === 34 || c === 9) return true;
  }
  return false;
}

/** Validates a Request-URI scheme for a UAS: sip, sips and tel are ours; others get 416. */
export function checkRequestUriScheme(req: SipRequest): void {
  const uri = parseUri(req.uri);
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel') {
    throw new SipParseError('Unsupported URI Scheme', 416, true);
  }
}

/**
 * The methods this stack knows: RFC 3261's six (§7.1) and the extensions (INFO, UPDATE, PRACK,
 * SUBSCRIBE/NOTIFY, REFER, MESSAGE, PUBLISH). The parser hands out these very strings; the stack
 * answers one it does not serve 405, any other 501 (§21.5.2).
 */
export const KNOWN_METHODS: readonly string[] = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'NOTIFY', 'REFER', 'SUBSCRIBE', 'INFO', 'UPDATE', 'PRACK',
  'MESSAGE', 'PUBLISH',
];

/**
 * The method at the start of `line` (`length` characters) when it is a known one: the shared
 * literal rather than a fresh string per message (a waiting transaction keeps its method for
 * up to 64*T1, thousands at a time). Methods are case-sensitive (§7.1): exact matches only.
 */
function knownMethod(line: string, length: number): string | undefined {
  for (let i = 0; i < KNOWN_METHODS.length; i++) {
    const name = KNOWN_METHODS[i]!;
    if (name.length === length && line.startsWith(name)) return name;
  }
  return undefined;
}
