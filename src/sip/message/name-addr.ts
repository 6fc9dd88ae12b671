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
  params: Map<string, string | null>;
  private parsed: SipUri | undefined;

  constructor(uri: string | SipUri, displayName?: string, params?: Map<string, string | null>) {
    if (typeof uri === 'string') this.uri = uri;
    else {
      this.uri = uri.toString();
      this.parsed = uri;
    }
    this.displayName = displayName;
    this.params = params ?? new Map();
  }

  /** The URI, parsed on first use. Throws SipParseError if it is malformed. */
  get parsedUri(): SipUri {
    if (!this.parsed) this.parsed = parseUri(this.uri);
    return this.parsed;
  }

  get tag(): string | undefined {
    const t = this.params.get('tag');
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
}

/** Parses one name-addr or addr-spec followed by parameters. Throws SipParseError. */
export function parseNameAddr(value: string): NameAddr {
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
