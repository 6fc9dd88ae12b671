/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), IPv6 references (RFC 5118).
 * Other schemes are kept opaque (scheme + text) so that an application can refuse them (416).
 */
import { isIP } from 'node:net';
import { SipParseError } from './errors.js';
import { charSet, escapePercent, formatParams, isParamNameChar, parseParams, unescapePercent } from './grammar.js';

// unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const UNRESERVED = ALNUM + "-_.!~*'()";
const USER_CHARS = charSet(UNRESERVED + '&=+$,;?/'); // user-unreserved
const PASSWORD_CHARS = charSet(UNRESERVED + '&=+$,');
const HEADER_CHARS = charSet(UNRESERVED + '[]/?:+$');
const HOST_CHARS = charSet(ALNUM + '-.');
const PARAM_CHARS = charSet(UNRESERVED + '[]/:&+$'); // paramchar without escaped

export type UriParams = Map<string, string | null>;

export class SipUri {
  scheme: string;
  user: string | undefined;
  password: string | undefined;
  /** Host without brackets (an IPv6 address is stored bare). Empty for tel: and opaque URIs. */
  host: string;
  port: number | undefined;
  params: UriParams;
  headers: Map<string, string>;
  /** For schemes other than sip, sips and tel: everything after "scheme:". */
  opaque: string | undefined;

  constructor(init: {
    scheme?: string; user?: string; password?: string; host?: string; port?: number;
    params?: UriParams; headers?: Map<string, string>; opaque?: string;
  } = {}) {
    this.scheme = init.scheme ?? 'sip';
    this.user = init.user;
    this.password = init.password;
    this.host = init.host ?? '';
    this.port = init.port;
    this.params = init.params ?? new Map();
    this.headers = init.headers ?? new Map();
    this.opaque = init.opaque;
  }

  get isSip(): boolean {
    return this.scheme === 'sip' || this.scheme === 'sips';
  }

  get secure(): boolean {
    return this.scheme === 'sips';
  }

  /** The transport parameter, lower-cased, if any. */
  get transport(): string | undefined {
    const t = this.params.get('transport');
    return t ? t.toLowerCase() : undefined;
  }

  param(name: string): string | null | undefined {
    return this.params.get(name);
  }

  /** host[:port] with IPv6 in brackets. */
  get hostport(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return this.port === undefined ? h : `${h}:${this.port}`;
  }

  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme, user: this.user, password: this.password, host: this.host,
      port: this.port, params: new Map(this.params), headers: new Map(this.headers), opaque: this.opaque,
    });
  }

  toString(): string {
    if (this.opaque !== undefined) return `${this.scheme}:${this.opaque}`;
    if (this.scheme === 'tel') return `tel:${this.user ?? ''}${formatParams(this.params)}`;
    let out = this.scheme + ':';
    if (this.user !== undefined) {
      out += escapePercent(this.user, USER_CHARS);
      if (this.password !== undefined) out += ':' + escapePercent(this.password, PASSWORD_CHARS);
      out += '@';
    }
    out += this.hostport;
    for (const [k, v] of this.params) {
      out += ';' + escapePercent(k, PARAM_CHARS) + (v === null ? '' : '=' + escapePercent(v, PARAM_CHARS));
    }
    let sep = '?';
    for (const [k, v] of this.headers) {
      out += sep + escapePercent(k, HEADER_CHARS) + '=' + escapePercent(v, HEADER_CHARS);
      sep = '&';
    }
    return out;
  }
}

/** Parses a URI as it appears in a Request-URI or inside <…>. Throws SipParseError. */
export function parseUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SipParseError(`Bad URI "${text}": no scheme`);
  // The usual schemes, as usually written, skip the lower-casing and the scheme check.
  const scheme = colon === 3 && text.startsWith('sip') ? 'sip'
    : colon === 4 && text.startsWith('sips') ? 'sips'
    : text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && !/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new SipParseError(`Bad URI scheme in "${text}"`);
  const rest = text.slice(colon + 1);
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 34) {
      throw new SipParseError(`Bad character in URI "${text}"`);
    }
  }
  if (scheme === 'sip' || scheme === 'sips') return parseSip(scheme, rest, text);
  if (scheme === 'tel') return parseTel(rest, text);
  if (rest.length === 0) throw new SipParseError(`Bad URI "${text}"`);
  return new SipUri({ scheme, opaque: rest });
}

/**
 * True when `text` is a sip: or sips: URI of the plain form nearly every Request-URI has —
 * [userinfo@]host[:port] then ;name[=value] parameters — with no IPv6 reference, %-escape,
 * quoted value, non-ASCII character or "?" (so no headers): a form parseUri certainly accepts,
 * with no headers. The parser uses it to put off building the SipUri until it is read; anything
 * else it parses at once, so its verdicts are the same.
 */
export function isPlainSipUri(text: string): boolean {
  let i: number;
  if (text.startsWith('sip:')) i = 4;
  else if (text.startsWith('sips:')) i = 5;
  else return false;
  const n = text.length;
  const at = text.indexOf('@', i);
  if (at >= 0) {
    // parseSip: the user (before any ':') must not be empty.
    if (at === i || text.charCodeAt(i) === 58) return false;
    for (; i < at; i++) if (!isPlainUriChar(text.charCodeAt(i))) return false;
    i = at + 1;
  }
  const hostStart = i;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 || c === 59) break;
    if (c >= 128 || HOST_CHARS[c] !== 1) return false;
  }
  const h0 = text.charCodeAt(hostStart);
  if (i === hostStart || i - hostStart > 255 || h0 === 45 || h0 === 46) return false;
  if (text.charCodeAt(i) === 58) {
    const portStart = ++i;
    let port = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) port = port * 10 + (c - 48);
    if (i === portStart || i - portStart > 5 || port > 65535) return false;
  }
  while (i < n) {
    if (text.charCodeAt(i) !== 59) return false;
    const nameStart = ++i;
    for (let c = text.charCodeAt(i); i < n && c !== 37 && isParamNameChar(c); c = text.charCodeAt(++i));
    if (i === nameStart) return false;
    if (i < n && text.charCodeAt(i) === 61) {
      const valueStart = ++i;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c === 59) break;
        if (!isPlainUriChar(c)) return false;
      }
      if (i === valueStart) return false;
    }
  }
  return true;
}

/** Printable ASCII except what the plain form leaves to parseUri: < > " % ? */
function isPlainUriChar(c: number): boolean {
  return c > 32 && c < 127 && c !== 60 && c !== 62 && c !== 34 && c !== 37 && c !== 63;
}

function parseSip(scheme: string, rest: string, text: string): SipUri {
  const uri = new SipUri({ scheme });
  // userinfo may hold ';' '?' '/' (user-unreserved); no other part may hold an unescaped '@',
  // so the first '@' ends the userinfo.
  const at = rest.indexOf('@');
  let i = 0;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const pc = userinfo.indexOf(':');
    const user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (user.length === 0) throw new SipParseError(`Empty user in URI "${text}"`);
    uri.user = unescapePercent(user);
    if (pc >= 0) uri.password = unescapePercent(userinfo.slice(pc + 1));
    i = at + 1;
  }
  // hostport
  let host: string;
  if (rest.charCodeAt(i) === 91 /* [ */) {
    const close = rest.indexOf(']', i);
    if (close < 0) throw new SipParseError(`Unterminated IPv6 reference in URI "${text}"`);
    host = rest.slice(i + 1, close);
    // RFC 5118 §4.10: RFC 3261's ABNF admits "2001:db8:::192.0.2.1"; tolerate it as "::".
    if (isIP(host) !== 6 && host.includes(':::') && isIP(host.replace(':::', '::')) === 6) host = host.replace(':::', '::');
    if (isIP(host) !== 6) throw new SipParseError(`Bad IPv6 reference in URI "${text}"`);
    i = close + 1;
  } else {
    let j = i;
    while (j < rest.length) {
      const c = rest.charCodeAt(j);
      if (c === 58 || c === 59 || c === 63) break;
      j++;
    }
    host = rest.slice(i, j);
    if (!isHostname(host)) throw new SipParseError(`Bad host "${host}" in URI "${text}"`);
    i = j;
  }
  uri.host = host;
  if (rest.charCodeAt(i) === 58 /* : */) {
    let j = i + 1;
    let port = 0;
    for (let c = rest.charCodeAt(j); c >= 48 && c <= 57; c = rest.charCodeAt(++j)) port = port * 10 + (c - 48);
    if (j === i + 1 || j - i - 1 > 5 || port > 65535) {
      throw new SipParseError(`Bad port in URI "${text}"`);
    }
    uri.port = port;
    i = j;
  }
  if (i < rest.length && rest.charCodeAt(i) === 59) {
    const i0 = i;
    i = parseParams(rest, i, uri.params, 63 /* ? */);
    // RFC 4475 §3.1.1.3: %HH in uri-parameters stands for the character (unescaped once only).
    if (rest.indexOf('%', i0) >= 0) {
      const raw = [...uri.params];
      uri.params.clear();
      for (const [k, v] of raw) uri.params.set(unescapePercent(k).toLowerCase(), v === null ? null : unescapePercent(v));
    }
  }
  if (i < rest.length) {
    if (rest.charCodeAt(i) !== 63) throw new SipParseError(`Unexpected "${rest[i]}" in URI "${text}"`);
    for (const pair of rest.slice(i + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const k = unescapePercent(eq >= 0 ? pair.slice(0, eq) : pair);
      uri.headers.set(k, eq >= 0 ? unescapePercent(pair.slice(eq + 1)) : '');
    }
  }
  return uri;
}

/** A character of a hostname or IPv4address (alphanum, "-", "."). */
export function isHostChar(c: number): boolean {
  return c < 128 && HOST_CHARS[c] === 1;
}

/** hostname / IPv4address (§25.1); an IPv6 address must come in brackets. */
export function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 255) return false;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 128 || HOST_CHARS[c] !== 1) return false;
  }
  return host.charCodeAt(0) !== 45 /* - */ && host.charCodeAt(0) !== 46 /* . */;
}

function parseTel(rest: string, text: string): SipUri {
  const semi = rest.indexOf(';');
  const number = semi >= 0 ? rest.slice(0, semi) : rest;
  if (!/^(\+[0-9().-]*[0-9][0-9().-]*|[0-9A-Fa-f*#().-]*[0-9A-Fa-f*#][0-9A-Fa-f*#().-]*)$/.test(number)) {
    throw new SipParseError(`Bad telephone number in URI "${text}"`);
  }
  const uri = new SipUri({ scheme: 'tel', user: number });
  if (semi >= 0) parseParams(rest, semi, uri.params);
  return uri;
}

/**
 * URI equality per RFC 3261 §19.1.4 (scheme, user and password case-sensitive after unescaping,
 * host case-insensitive, user/ttl/method/maddr/transport params must match when present in
 * either, other params only when present in both; headers all).
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.opaque !== undefined || b.opaque !== undefined) return a.opaque === b.opaque;
  if (a.user !== b.user || a.password !== b.password) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port) return false;
  for (const name of ['user', 'ttl', 'method', 'maddr', 'transport']) {
    const x = a.params.get(name);
    const y = b.params.get(name);
    if ((x === undefined) !== (y === undefined)) return false;
    if (x !== undefined && y !== undefined && (x ?? '').toLowerCase() !== (y ?? '').toLowerCase()) return false;
  }
  for (const [k, v] of a.params) {
    if (b.params.has(k) && (b.params.get(k) ?? '').toLowerCase() !== (v ?? '').toLowerCase()) return false;
  }
  if (a.headers.size !== b.headers.size) return false;
  for (const [k, v] of a.headers) if (b.headers.get(k) !== v) return false;
  return true;
}
