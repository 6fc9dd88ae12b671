/** The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 rport). */
import { isIP } from 'node:net';
import { SipParseError } from './errors.js';
import { formatParams, isWs, parseParams } from './grammar.js';
import { isHostChar } from './uri.js';

/** RFC 3261 §8.1.1.7: branches made by RFC 3261 elements start with this cookie. */
export const BRANCH_COOKIE = 'z9hG4bK';

export class Via {
  protocol: string; // "SIP/2.0"
  transport: string; // upper-case: UDP, TCP, TLS, SCTP, WS …
  host: string; // IPv6 without brackets
  port: number | undefined;
  private paramMap: Map<string, string | null> | undefined;
  /**
   * Parameters checked by the parser but not yet put in a Map (`paramText` from `paramStart`),
   * with the three the stack reads, as the Map would hold them. Made into the Map on first use.
   */
  private paramText: string | undefined = undefined;
  private paramStart = 0;
  private pending: ViaParamCatcher | undefined = undefined;

  constructor(transport: string, host: string, port?: number, params?: Map<string, string | null>, protocol = 'SIP/2.0') {
    this.protocol = protocol;
    this.transport = isUpperCase(transport) ? transport : transport.toUpperCase();
    this.host = host;
    this.port = port;
    this.paramMap = params;
  }

  /** via-params (names lower-cased); made on first use. */
  get params(): Map<string, string | null> {
    if (this.paramMap === undefined) {
      const map = new Map<string, string | null>();
      if (this.paramText !== undefined) parseParams(this.paramText, this.paramStart, map);
      this.paramText = undefined;
      this.pending = undefined;
      this.paramMap = map;
    }
    return this.paramMap;
  }

  set params(map: Map<string, string | null>) {
    this.paramMap = map;
    this.paramText = undefined;
    this.pending = undefined;
  }

  /** For the parser: parameters already checked by parseParams, with what it caught in them. */
  setPendingParams(text: string, start: number, caught: ViaParamCatcher): void {
    this.paramMap = undefined;
    this.paramText = text;
    this.paramStart = start;
    this.pending = caught;
  }

  get branch(): string | undefined {
    const p = this.paramMap === undefined ? this.pending : undefined;
    if (p !== undefined) return p.branch ?? undefined;
    return this.params.get('branch') ?? undefined;
  }

  get received(): string | undefined {
    const p = this.paramMap === undefined ? this.pending : undefined;
    if (p !== undefined) return p.received ?? undefined;
    return this.params.get('received') ?? undefined;
  }

  /** rport: undefined when absent, null when present without a value, else the port. */
  get rport(): number | null | undefined {
    const p = this.paramMap === undefined ? this.pending : undefined;
    const v = p !== undefined ? p.rport : this.params.has('rport') ? this.params.get('rport') : undefined;
    if (v === undefined) return undefined;
    return v === null ? null : Number(v);
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
      // The usual transports as usually written are not sliced.
      const transport = sp === 11 && s.startsWith('UDP', 8) ? 'UDP'
        : sp === 11 && s.startsWith('TCP', 8) ? 'TCP'
        : sp === 11 && s.startsWith('TLS', 8) ? 'TLS'
        : s.slice(8, sp);
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

/**
 * The Via this element puts on a request it sends (§8.1.1.7: a fresh branch; RFC 3581: rport),
 * and its text: the object is built with the text, not parsed back from it when the transaction
 * layer reads the branch. `host` without brackets.
 */
export function ownVia(transport: string, host: string, port: number, branch: string): { via: Via; text: string } {
  const hostport = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const head = `SIP/2.0/${transport} ${hostport}`;
  const text = `${head};branch=${branch};rport`;
  const via = new Via(transport, host, port);
  const caught = new ViaParamCatcher();
  caught.branch = branch;
  caught.rport = null;
  via.setPendingParams(text, head.length, caught);
  return { via, text };
}

/** A parameter sink for parseParams that keeps branch, received and rport (the last of each, as a Map would). */
class ViaParamCatcher {
  branch: string | null | undefined = undefined;
  received: string | null | undefined = undefined;
  rport: string | null | undefined = undefined;
  set(name: string, value: string | null): void {
    if (name === 'branch') this.branch = value;
    else if (name === 'received') this.received = value;
    else if (name === 'rport') this.rport = value;
  }
}

function isUpperCase(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c >= 97 && c <= 122) || c >= 128) return false;
  }
  return true;
}

function isDigits(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return t.length > 0;
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
    // One pass finds the end of the host and whether it is all hostname characters.
    let plain = true;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 58 || c === 59 || isWs(c)) break;
      if (!isHostChar(c)) plain = false;
      j++;
    }
    host = s.slice(i, j);
    // isHostname, its character test already done: 1 to 255 characters, not starting "-" or ".".
    const first = s.charCodeAt(i);
    if (!plain || j === i || j - i > 255 || first === 45 || first === 46) throw new SipParseError(`Bad Via host "${host}"`);
    i = j;
  }
  while (i < n && isWs(s.charCodeAt(i))) i++;
  let port: number | undefined;
  if (s.charCodeAt(i) === 58) {
    i++;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    let j = i;
    let p = 0;
    for (let c = s.charCodeAt(j); c >= 48 && c <= 57; c = s.charCodeAt(++j)) p = p * 10 + (c - 48);
    if (j === i || j - i > 5 || p > 65535) throw new SipParseError(`Bad Via port in "${value}"`);
    port = p;
    i = j;
  }
  const via = new Via(transport, host, port, undefined, protocol);
  // Checked now (the same verdicts as parsing them into the Map), put in a Map when read.
  const caught = new ViaParamCatcher();
  parseParams(s, i, caught);
  via.setPendingParams(s, i, caught);
  const rport = caught.rport;
  if (rport !== undefined && rport !== null && (rport.length > 5 || !isDigits(rport))) {
    throw new SipParseError(`Bad Via rport in "${value}"`);
  }
  return via;
}
