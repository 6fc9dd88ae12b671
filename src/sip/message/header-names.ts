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
