/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1): the form of From, To,
 * Contact, Route, Record-Route, Refer-To, Referred-By, Reply-To.
 */
import { SipParseError } from './errors.js';
import { formatParams, isWs, parseParams, quote, skipQuoted, unquote } from './grammar.js';
import { parseUri, type SipUri } from './uri.js';

export class NameAddr {
  displayName: string | undefined;
  /** The URI as written between < > (or the addr-spec). */
  uri: string;
  private paramMap: Map<string, string | null> | undefined;
  /**
   * Parameters checked by the parser but not yet put in a Map: `paramText` from `paramStart`,
   * and the tag found there (as the Map would hold it). Most name-addrs are only asked their tag.
   */
  private paramText: string | undefined = undefined;
  private paramStart = 0;
  private pendingTag: string | null | undefined = undefined;
  private parsed: SipUri | undefined;

  constructor(uri: string | SipUri, displayName?: string, params?: Map<string, string | null>) {
    if (typeof uri === 'string') this.uri = uri;
    else {
      this.uri = uri.toString();
      this.parsed = uri;
    }
    this.displayName = displayName;
    this.paramMap = params;
  }

  /** Header parameters (names lower-cased); made on first use. */
  get params(): Map<string, string | null> {
    if (this.paramMap === undefined) {
      const map = new Map<string, string | null>();
      if (this.paramText !== undefined) parseParams(this.paramText, this.paramStart, map);
      this.paramText = undefined;
      this.paramMap = map;
    }
    return this.paramMap;
  }

  set params(map: Map<string, string | null>) {
    this.paramMap = map;
    this.paramText = undefined;
  }

  /** For the parser: parameters already checked by parseParams, with the tag they hold. */
  setPendingParams(text: string, start: number, tag: string | null | undefined): void {
    this.paramMap = undefined;
    this.paramText = text;
    this.paramStart = start;
    this.pendingTag = tag;
  }

  /** The URI, parsed on first use. Throws SipParseError if it is malformed. */
  get parsedUri(): SipUri {
    if (!this.parsed) this.parsed = parseUri(this.uri);
    return this.parsed;
  }

  get tag(): string | undefined {
    // Without a Map yet, the parser's pending tag (undefined when there were no parameters).
    const t = this.paramMap === undefined ? this.pendingTag : this.paramMap.get('tag');
    return t === null ? undefined : t;
  }

  set tag(value: string | undefined) {
    if (value === undefined) this.params.delete('tag');
    else this.params.set('tag', value);
  }

  clone(): NameAddr {
    return new NameAddr(this.uri, this.displayName, new Map(this.params));
  }

  toString(): string {
    let out = '';
    if (this.displayName !== undefined && this.displayName !== '') out = quote(this.displayName) + ' ';
    return out + '<' + this.uri + '>' + formatParams(this.params);
  }

  /**
   * toString() without the tag parameter: a dialog's local and remote URIs are From and To
   * without their tags (§12.1.1, §12.1.2). A From or To whose only parameter is the tag — nearly
   * all of them — is written without building the parameter Map.
   */
  toStringWithoutTag(): string {
    let out = '';
    if (this.displayName !== undefined && this.displayName !== '') out = quote(this.displayName) + ' ';
    out += '<' + this.uri + '>';
    const text = this.paramText;
    if (this.paramMap === undefined) {
      if (text === undefined) return out;
      const tag = this.pendingTag;
      const start = this.paramStart;
      if (tag && text.length === start + 5 + tag.length && text.startsWith(';tag=', start) && text.endsWith(tag)) return out;
    }
    for (const [k, v] of this.params) {
      if (k !== 'tag') out += v === null ? `;${k}` : `;${k}=${v}`;
    }
    return out;
  }
}

/** Parses one name-addr or addr-spec followed by parameters. Throws SipParseError. */
export function parseNameAddr(value: string): NameAddr {
  return parseNameAddrFast(value) ?? parseNameAddrGeneral(value);
}

/**
 * The two forms phones send — `"Display" <uri>;params` and `<uri>;params` — read without the
 * general path's trims and regexes. Returns undefined for anything else (the general path then
 * decides, so that the verdicts stay the same).
 */
function parseNameAddrFast(s: string): NameAddr | undefined {
  const n = s.length;
  let i = 0;
  let display: string | undefined;
  let c = s.charCodeAt(0);
  if (c === 34) {
    const close = s.indexOf('"', 1);
    // A quoted-pair inside: let the general path resolve it.
    if (close < 0 || s.lastIndexOf('\\', close) > 0) return undefined;
    i = close + 1;
    while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    if (s.charCodeAt(i) !== 60) return undefined;
    display = s.slice(1, close);
  } else if (c !== 60) {
    return undefined;
  }
  // s[i] is '<'
  const gt = s.indexOf('>', i + 1);
  if (gt < 0) return undefined;
  c = s.charCodeAt(i + 1);
  const last = s.charCodeAt(gt - 1);
  // The general path refuses an empty URI or one with spaces around it.
  if (gt === i + 1 || c <= 32 || c >= 127 || last <= 32 || last >= 127) return undefined;
  const addr = new NameAddr(s.slice(i + 1, gt), display);
  if (gt + 1 < n) {
    // Checked now (the same verdicts as parsing them into the Map), put in a Map when read.
    const tag = new TagCatcher();
    parseParams(s, gt + 1, tag);
    addr.setPendingParams(s, gt + 1, tag.value);
  }
  return addr;
}

/** The general reading (exported so that tests can check the fast path agrees with it). */
export function parseNameAddrGeneral(value: string): NameAddr {
  const s = value;
  let i = 0;
  const n = s.length;
  while (i < n && isWs(s.charCodeAt(i))) i++;
  let display: string | undefined;
  let uri: string;
  const lt = findAngle(s, i);
  if (lt >= 0) {
    // name-addr: [display-name] LAQUOT addr-spec RAQUOT
    const dn = s.slice(i, lt).trim();
    if (dn.length > 0) {
      if (dn.charCodeAt(0) === 34) {
        if (skipQuoted(dn, 0) !== dn.length) throw new SipParseError(`Bad display name in "${value}"`);
        display = unquote(dn);
      } else {
        // *(token LWS): a display name of tokens; reject characters that cannot appear unquoted.
        if (/[^\w\s\-.!%*+`'~\u0080-\uffff]/u.test(dn)) throw new SipParseError(`Bad display name in "${value}"`);
        display = dn.replace(/\s+/g, ' ');
      }
    }
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) throw new SipParseError(`Missing ">" in "${value}"`);
    uri = s.slice(lt + 1, gt);
    if (uri.length === 0 || uri.trim() !== uri) throw new SipParseError(`Bad URI in "${value}"`);
    i = gt + 1;
  } else {
    // addr-spec: the URI runs to the first ';' — "its parameters are header parameters" (§20.10).
    let j = i;
    while (j < n && s.charCodeAt(j) !== 59 && !isWs(s.charCodeAt(j))) j++;
    uri = s.slice(i, j);
    if (uri.length === 0) throw new SipParseError(`Missing URI in "${value}"`);
    if (uri.indexOf(':') < 0) throw new SipParseError(`Bad URI "${uri}"`);
    // §20.10: a URI holding a comma, question mark or semicolon MUST be enclosed in < >.
    if (/[?,]/.test(uri)) throw new SipParseError(`URI must be enclosed in <> in "${value}"`);
    i = j;
  }
  const addr = new NameAddr(uri, display);
  parseParams(s, i, addr.params);
  return addr;
}

/** A parameter sink for parseParams that keeps only the tag (the last one, as a Map would). */
class TagCatcher {
  value: string | null | undefined = undefined;
  set(name: string, value: string | null): void {
    if (name === 'tag') this.value = value;
  }
}

/** Index of the '<' that opens the URI, skipping quoted display names; -1 if none. */
function findAngle(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) i = skipQuoted(s, i) - 1;
    else if (c === 60) return i;
    else if (c === 59) return -1;
  }
  return -1;
}
