/**
 * Header names: compact forms (RFC 3261 §7.3.3, RFC 3515, RFC 4488, RFC 3892, RFC 6665 …),
 * the canonical spelling we write, and which headers are comma-separated lists (§7.3.1).
 * Lookups use a lower-case key with compact forms expanded.
 */

const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'min-se': 'Min-SE',
};

/** Headers whose value is a comma-separated list, so that one line may carry several values. */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding',
  'in-reply-to', 'alert-info', 'call-info', 'error-info', 'warning', 'path', 'service-route',
  'reason', 'p-asserted-identity', 'security-client', 'security-server', 'security-verify',
]);

const keyCache = new Map<string, string>();

/** Lower-case lookup key for a header name as written (compact forms expanded). */
export function headerKey(name: string): string {
  // Hot path: the common names as phones write them, compared without hashing a fresh string.
  switch (name.length) {
    case 2:
      if (name === 'To') return 'to';
      break;
    case 3:
      if (name === 'Via') return 'via';
      break;
    case 4:
      if (name === 'From') return 'from';
      if (name === 'CSeq') return 'cseq';
      break;
    case 5:
      if (name === 'Allow') return 'allow';
      if (name === 'Route') return 'route';
      break;
    case 7:
      if (name === 'Call-ID') return 'call-id';
      if (name === 'Contact') return 'contact';
      break;
    case 12:
      if (name === 'Max-Forwards') return 'max-forwards';
      if (name === 'Content-Type') return 'content-type';
      if (name === 'Record-Route') return 'record-route';
      break;
    case 14:
      if (name === 'Content-Length') return 'content-length';
      break;
  }
  const cached = keyCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const key = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (keyCache.size < 1000) keyCache.set(name, key);
  return key;
}

/** The spelling we use when we write a header we created ("call-id" → "Call-ID"). */
export function canonicalName(key: string): string {
  // Every built message names its headers through here: remember the answers (bounded).
  const cached = canonicalCache.get(key);
  if (cached !== undefined) return cached;
  const name = spellCanonical(key);
  if (canonicalCache.size < 1000) canonicalCache.set(key, name);
  return name;
}

const canonicalCache = new Map<string, string>();

function spellCanonical(key: string): string {
  const special = CANONICAL[key];
  if (special) return special;
  let out = '';
  let upper = true;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}

// ── the parser's fast name lookup ────────────────────────────────────────────────

/** The headers the parser checks itself (§8.1.1, §18.3), numbered for its per-message counters. */
export const CORE_NONE = 0;
export const CORE_VIA = 1;
export const CORE_FROM = 2;
export const CORE_TO = 3;
export const CORE_CALL_ID = 4;
export const CORE_CSEQ = 5;
export const CORE_MAX_FORWARDS = 6;
export const CORE_CONTENT_LENGTH = 7;

export interface KnownHeader {
  /** The spelling phones write (and we write): reused as the Header's name when it matches exactly. */
  name: string;
  key: string;
  /** One of the CORE_* numbers. */
  core: number;
  /** Its index in KNOWN_BY_ID: what the parser records per header line (header-lines.ts). */
  id: number;
}

/** Every KnownHeader (compact and upper-case compact forms are entries of their own), by id. */
export const KNOWN_BY_ID: KnownHeader[] = [];

function registerKnown(name: string, key: string): KnownHeader {
  const entry = { name, key, core: coreHeaderOf(key), id: KNOWN_BY_ID.length };
  KNOWN_BY_ID.push(entry);
  return entry;
}

export function coreHeaderOf(key: string): number {
  switch (key) {
    case 'via': return CORE_VIA;
    case 'from': return CORE_FROM;
    case 'to': return CORE_TO;
    case 'call-id': return CORE_CALL_ID;
    case 'cseq': return CORE_CSEQ;
    case 'max-forwards': return CORE_MAX_FORWARDS;
    case 'content-length': return CORE_CONTENT_LENGTH;
    default: return CORE_NONE;
  }
}

const KNOWN_NAMES = [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Contact', 'Content-Type',
  'Allow', 'Supported', 'Require', 'Route', 'Record-Route', 'User-Agent', 'Server', 'Expires', 'Event',
  'Subscription-State', 'Refer-To', 'Referred-By', 'Refer-Sub', 'Replaces', 'Session-Expires', 'Min-SE',
  'Accept', 'Accept-Encoding', 'Accept-Language', 'Allow-Events', 'Authorization', 'WWW-Authenticate',
  'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Unsupported', 'Date', 'Timestamp',
  'Organization', 'Subject', 'Reason', 'Warning', 'Retry-After', 'Min-Expires', 'Content-Disposition',
  'Content-Encoding', 'MIME-Version', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Privacy', 'Path',
  'RSeq', 'RAck', 'Call-Info', 'Alert-Info', 'Error-Info', 'In-Reply-To', 'Priority', 'Reply-To',
];

/** Buckets by (length, lower-cased first letter); names up to 31 characters. */
const BUCKETS: (KnownHeader[] | undefined)[] = new Array(32 * 26);
for (const name of KNOWN_NAMES) {
  const key = name.toLowerCase();
  const b = name.length * 26 + (key.charCodeAt(0) - 97);
  (BUCKETS[b] ??= []).push(registerKnown(name, key));
}

/** Lower-case letters of the compact forms (§7.3.3), by char code. */
const COMPACT_BY_CODE: (KnownHeader | undefined)[] = new Array(128);
for (const [letter, key] of Object.entries(COMPACT)) {
  COMPACT_BY_CODE[letter.charCodeAt(0)] = registerKnown(letter, key);
  COMPACT_BY_CODE[letter.toUpperCase().charCodeAt(0)] = registerKnown(letter.toUpperCase(), key);
}

/**
 * The known header whose name is s[start, end), compared case-insensitively (the caller has
 * checked that these are token characters), or undefined. Lets the parser skip slicing and
 * lower-casing the names every message carries.
 */
export function lookupHeaderName(s: string, start: number, end: number): KnownHeader | undefined {
  const len = end - start;
  const c0 = s.charCodeAt(start) | 32;
  if (len === 1) return COMPACT_BY_CODE[s.charCodeAt(start)];
  if (len >= 32 || c0 < 97 || c0 > 122) return undefined;
  const bucket = BUCKETS[len * 26 + (c0 - 97)];
  if (bucket === undefined) return undefined;
  for (let k = 0; k < bucket.length; k++) {
    const entry = bucket[k]!;
    const key = entry.key;
    let i = 1;
    while (i < len) {
      const c = s.charCodeAt(start + i);
      // Lower-case ASCII letters only ("-" and digits are left alone by | 32 as well).
      if ((c >= 65 && c <= 90 ? c | 32 : c) !== key.charCodeAt(i)) break;
      i++;
    }
    if (i === len) return entry;
  }
  return undefined;
}

/**
 * The known header whose usual spelling is exactly s[start, end) (same case), or undefined.
 * A match is a valid token too, so the parser needs no other check of the name.
 */
export function exactHeaderName(s: string, start: number, end: number): KnownHeader | undefined {
  const len = end - start;
  const c0 = s.charCodeAt(start);
  if (len === 1) return COMPACT_BY_CODE[c0];
  const lower = c0 | 32;
  if (len >= 32 || lower < 97 || lower > 122) return undefined;
  const bucket = BUCKETS[len * 26 + (lower - 97)];
  if (bucket === undefined) return undefined;
  for (let k = 0; k < bucket.length; k++) {
    const entry = bucket[k]!;
    if (spelledAs(s, start, entry.name)) return entry;
  }
  return undefined;
}

/** True when s[start, start + name.length) is exactly `name` (same case). */
export function spelledAs(s: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (s.charCodeAt(start + i) !== name.charCodeAt(i)) return false;
  return true;
}
