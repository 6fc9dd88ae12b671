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
  // sent-by = host [ COLON port ]
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
  const via = new Via(transport, host, port, undefined, `${name}/${version}`.toUpperCase());
  parseParams(s, i, via.params);
  const rport = via.params.get('rport');
  if (rport !== undefined && rport !== null && !/^\d{1,5}$/.test(rport)) {
    throw new SipParseError(`Bad Via rport in "${value}"`);
  }
  return via;
}
