/** The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 rport). */
import { isIP } from 'node:net';
import { SipParseError } from './errors.js';
import { formatParams, isWs, parseParams } from './grammar.js';
import { isHostname } from './uri.js';

/** RFC 3261 §8.1.1.7: branches made by RFC 3261 elements start with this cookie. */
export const BRANCH_COOKIE = 'z9hG4bK';

export class Via {
  protocol: string; // "SIP/2.0"
  transport: string; // upper-case: UDP, TCP, TLS, SCTP, WS …
  host: string; // IPv6 without brackets
  port: number | undefined;
  params: Map<string, string | null>;

  constructor(transport: string, host: string, port?: number, params?: Map<string, string | null>, protocol = 'SIP/2.0') {
    this.protocol = protocol;
    this.transport = transport.toUpperCase();
    this.host = host;
    this.port = port;
    this.params = params ?? new Map();
  }

  get branch(): string | undefined {
    return this.params.get('branch') ?? undefined;
  }

  get received(): string | undefined {
    return this.params.get('received') ?? undefined;
  }

  /** rport: undefined when absent, null when present without a value, else the port. */
  get rport(): number | null | undefined {
    if (!this.params.has('rport')) return undefined;
    const v = this.params.get('rport');
    return v === null || v === undefined ? null : Number(v);
  }

  get hostport(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return this.port === undefined ? h : `${h}:${this.port}`;
  }

  toString(): string {
    return `${this.protocol}/${this.transport} ${this.hostport}${formatParams(this.params)}`;
  }
}

/** Parses one via-parm (one element of a Via list). Throws SipParseError. */
export function parseVia(value: string): Via {
  const s = value;
  const n = s.length;
  // Fast path for the form every implementation sends: "SIP/2.0/UDP host:port;params".
  if (s.startsWith('SIP/2.0/')) {
    const sp = s.indexOf(' ', 8);
    if (sp > 8 && sp <= 13) {
      const transport = s.slice(8, sp);
      if (isTokenWord(transport)) return parseSentBy(value, s, sp + 1, 'SIP/2.0', transport);
    }
  }
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around SLASH
  const parts: string[] = [];
  let i = 0;
  for (let k = 0; k < 3; k++) {
    while (i < n && isWs(s.charCodeAt(i))) i++;
    let j = i;
    while (j < n && s.charCodeAt(j) !== 47 && !isWs(s.charCodeAt(j))) j++;
    parts.push(s.slice(i, j));
    i = j;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (k < 2) {
      if (s.charCodeAt(i) !== 47) throw new SipParseError(`Bad Via sent-protocol in "${value}"`);
      i++;
    }
  }
  const [name, version, transport] = parts as [string, string, string];
  if (!name || !version || !transport) throw new SipParseError(`Bad Via sent-protocol in "${value}"`);
  return parseSentBy(value, s, i, `${name}/${version}`.toUpperCase(), transport);
}

function isTokenWord(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false;
  }
  return t.length > 0;
}

/** sent-by = host [ COLON port ], then via-params, from index `i`. */
function parseSentBy(value: string, s: string, i: number, protocol: string, transport: string): Via {
  const n = s.length;
  while (i < n && isWs(s.charCodeAt(i))) i++;
  let host: string;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0) throw new SipParseError(`Bad Via host in "${value}"`);
    host = s.slice(i + 1, close);
    if (isIP(host) !== 6) throw new SipParseError(`Bad Via IPv6 host in "${value}"`);
    i = close + 1;
  } else {
    let j = i;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 58 || c === 59 || isWs(c)) break;
      j++;
    }
    host = s.slice(i, j);
    if (!isHostname(host)) throw new SipParseError(`Bad Via host "${host}"`);
    i = j;
  }
  while (i < n && isWs(s.charCodeAt(i))) i++;
  let port: number | undefined;
  if (s.charCodeAt(i) === 58) {
    i++;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    let j = i;
    while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const p = s.slice(i, j);
    if (p.length === 0 || p.length > 5 || Number(p) > 65535) throw new SipParseError(`Bad Via port in "${value}"`);
    port = Number(p);
    i = j;
  }
  const via = new Via(transport, host, port, undefined, protocol);
  parseParams(s, i, via.params);
  const rport = via.params.get('rport');
  if (rport !== undefined && rport !== null && !/^\d{1,5}$/.test(rport)) {
    throw new SipParseError(`Bad Via rport in "${value}"`);
  }
  return via;
}
