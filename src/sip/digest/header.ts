// Parsing and formatting of authentication header values, shared by SIP (RFC 3261 §25.1,
// §20.5/20.7/20.27/20.28/20.44) and HTTP (RFC 7235 §2.1, §4.1–4.4). Works on the header
// *value* only (the text after "WWW-Authenticate:" etc., already unfolded); knows nothing of
// SIP or HTTP messages.
//
//   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param  = token BWS "=" BWS ( token / quoted-string )
//
// A single header value may hold several challenges ("Digest realm=..., Basic realm=...");
// a new challenge starts where a comma is followed by a token that is not followed by "=".

/** One challenge or one set of credentials. Parameter names are lower-cased. */
export interface AuthChallenge {
  /** The scheme as sent ("Digest", "Basic"); compare case-insensitively. */
  readonly scheme: string;
  /** Parameters by lower-cased name, values unquoted and unescaped. Null prototype. */
  readonly params: Readonly<Record<string, string>>;
  /** RFC 7235 token68 form (e.g. Basic credentials), when present instead of params. */
  readonly token68?: string;
}

/** Credentials have the same shape as a challenge (RFC 7235 §2.1). */
export type AuthCredentials = AuthChallenge;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
// RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const T68CHAR = new Uint8Array(128);
for (const c of '-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') {
  T68CHAR[c.charCodeAt(0)] = 1;
}

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

function isWhitespace(code: number): boolean {
  // SP, HTAB, and CR/LF in case the caller did not unfold (RFC 3261 §7.3.1 LWS).
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }
  skipWhitespace(): void {
    while (this.pos < this.text.length && isWhitespace(this.text.charCodeAt(this.pos))) this.pos++;
  }
  /** Skips whitespace and empty list elements (RFC 7230 §7 allows ", ,"). */
  skipWhitespaceAndCommas(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (!isWhitespace(c) && c !== 0x2c) break;
      this.pos++;
    }
  }
  readToken(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isTchar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

/** Reads a quoted-string at the cursor (which is on the opening quote); undefined if unterminated. */
function readQuoted(cur: Cursor): string | undefined {
  const text = cur.text;
  let i = cur.pos + 1;
  let out = '';
  let runStart = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      out += text.slice(runStart, i);
      cur.pos = i + 1;
      return out;
    }
    if (c === 0x5c) {
      // quoted-pair: the backslash escapes the next character
      if (i + 1 >= text.length) return undefined;
      out += text.slice(runStart, i);
      runStart = i + 1;
      i += 2;
      continue;
    }
    i++;
  }
  return undefined;
}

/**
 * Reads an unquoted parameter value. Stricter peers send a token; some SIP devices send
 * unquoted URIs or hex with ":" "/" "@", so anything up to whitespace or "," is accepted.
 */
function readBareValue(cur: Cursor): string {
  const text = cur.text;
  const start = cur.pos;
  while (cur.pos < text.length) {
    const c = text.charCodeAt(cur.pos);
    // "=" may not start the value (so "abc==" stays token68) but may end it (base64 nonces).
    if (isWhitespace(c) || c === 0x2c || c === 0x22 || (c === 0x3d && cur.pos === start)) break;
    cur.pos++;
  }
  return text.slice(start, cur.pos);
}

/** Reads token68 at the cursor if one stands alone up to "," or the end; else leaves the cursor. */
function readToken68(cur: Cursor): string | undefined {
  const text = cur.text;
  let i = cur.pos;
  while (i < text.length && text.charCodeAt(i) < 128 && T68CHAR[text.charCodeAt(i)] === 1) i++;
  if (i === cur.pos) return undefined;
  while (i < text.length && text.charCodeAt(i) === 0x3d) i++;
  let j = i;
  while (j < text.length && isWhitespace(text.charCodeAt(j))) j++;
  if (j < text.length && text.charCodeAt(j) !== 0x2c) return undefined;
  const value = text.slice(cur.pos, i);
  cur.pos = j;
  return value;
}

type Step = { kind: 'param'; name: string; value: string } | { kind: 'not-param' } | { kind: 'error'; error: string };

/** Tries to read `name = value` at the cursor; rewinds and answers not-param if no "=" follows a token. */
function readParam(cur: Cursor): Step {
  const start = cur.pos;
  const name = cur.readToken();
  if (name === '') return { kind: 'not-param' };
  cur.skipWhitespace();
  if (cur.peek() !== 0x3d) {
    cur.pos = start;
    return { kind: 'not-param' };
  }
  cur.pos++;
  cur.skipWhitespace();
  let value: string | undefined;
  if (cur.peek() === 0x22) {
    value = readQuoted(cur);
    if (value === undefined) return { kind: 'error', error: `unterminated quoted string in parameter "${name}"` };
  } else {
    value = readBareValue(cur);
    if (value === '') {
      cur.pos = start;
      return { kind: 'not-param' };
    }
  }
  return { kind: 'param', name: name.toLowerCase(), value };
}

/**
 * Parses challenges or credentials starting at the cursor. With `many`, stops each challenge
 * where a new scheme begins and goes on; without, the whole value must be one item.
 */
function parseItems(text: string, many: boolean): Parsed<AuthChallenge[]> {
  const cur = new Cursor(text);
  const items: AuthChallenge[] = [];
  cur.skipWhitespaceAndCommas();
  while (!cur.atEnd()) {
    const scheme = cur.readToken();
    if (scheme === '') return { ok: false, error: `expected an auth scheme at offset ${cur.pos}` };
    const next = cur.peek();
    if (next !== -1 && next !== 0x2c && !isWhitespace(next)) {
      return { ok: false, error: `unexpected character after scheme "${scheme}"` };
    }
    cur.skipWhitespace();
    const params: Record<string, string> = Object.create(null);
    let token68: string | undefined;
    let first = true;
    for (;;) {
      if (cur.atEnd()) break;
      const step = readParam(cur);
      if (step.kind === 'error') return { ok: false, error: step.error };
      if (step.kind === 'not-param') {
        if (first && cur.peek() !== 0x2c) {
          token68 = readToken68(cur);
          if (token68 === undefined) return { ok: false, error: `malformed parameters after scheme "${scheme}"` };
          // token68 ends the challenge (RFC 7235 §2.1); a comma may start the next one.
          cur.skipWhitespaceAndCommas();
          break;
        }
        // A token not followed by "=": the next challenge's scheme.
        if (!many) return { ok: false, error: `unexpected text at offset ${cur.pos}` };
        break;
      }
      first = false;
      // RFC 7235 §2.2 / RFC 7616 §3.3: each parameter at most once.
      if (Object.prototype.hasOwnProperty.call(params, step.name)) {
        return { ok: false, error: `duplicate parameter "${step.name}"` };
      }
      params[step.name] = step.value;
      cur.skipWhitespace();
      if (cur.atEnd()) break;
      if (cur.peek() !== 0x2c) return { ok: false, error: `expected "," after parameter "${step.name}"` };
      cur.skipWhitespaceAndCommas();
    }
    items.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
    if (!many && !cur.atEnd()) return { ok: false, error: `unexpected text at offset ${cur.pos}` };
    cur.skipWhitespaceAndCommas();
  }
  if (items.length === 0) return { ok: false, error: 'empty header value' };
  return { ok: true, value: items };
}

/**
 * Parses one or several `WWW-Authenticate` / `Proxy-Authenticate` values into challenges,
 * in order. Several header fields are passed as an array. Never throws.
 */
export function parseChallenges(values: string | readonly string[]): Parsed<AuthChallenge[]> {
  const list = typeof values === 'string' ? [values] : values;
  const out: AuthChallenge[] = [];
  for (const value of list) {
    if (typeof value !== 'string') return { ok: false, error: 'header value is not a string' };
    const parsed = parseItems(value, true);
    if (!parsed.ok) return parsed;
    out.push(...parsed.value);
  }
  if (out.length === 0) return { ok: false, error: 'no challenge' };
  return { ok: true, value: out };
}

/** Parses one `Authorization` / `Proxy-Authorization` value. Never throws. */
export function parseCredentials(value: string): Parsed<AuthCredentials> {
  if (typeof value !== 'string') return { ok: false, error: 'header value is not a string' };
  const parsed = parseItems(value, false);
  if (!parsed.ok) return parsed;
  return { ok: true, value: parsed.value[0]! };
}

// RFC 7616 §3.3 / §3.4: which parameters are sent as quoted-string and which as token.
const UNQUOTED_IN_CHALLENGE = new Set(['algorithm', 'stale', 'charset', 'userhash']);
const UNQUOTED_IN_CREDENTIALS = new Set(['algorithm', 'qop', 'nc', 'userhash']);

function hasForbiddenChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 : c === 0x7f) return true;
  }
  return false;
}

function isToken(value: string): boolean {
  if (value === '') return false;
  for (let i = 0; i < value.length; i++) if (!isTchar(value.charCodeAt(i))) return false;
  return true;
}

function quote(value: string): string {
  let out = '"';
  for (const ch of value) out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  return out + '"';
}

/** True if the text can go into a header value (no CR, LF, NUL or other control characters). */
export function isSafeHeaderText(value: string): boolean {
  return !hasForbiddenChar(value);
}

function format(item: AuthChallenge, unquoted: ReadonlySet<string>): string {
  if (!isToken(item.scheme)) throw new RangeError(`invalid auth scheme "${item.scheme}"`);
  if (item.token68 !== undefined) return `${item.scheme} ${item.token68}`;
  const parts: string[] = [];
  for (const name of Object.keys(item.params)) {
    const value = item.params[name]!;
    if (!isToken(name)) throw new RangeError(`invalid parameter name "${name}"`);
    if (hasForbiddenChar(value)) throw new RangeError(`control character in parameter "${name}"`);
    parts.push(`${name}=${unquoted.has(name) && isToken(value) ? value : quote(value)}`);
  }
  return parts.length === 0 ? item.scheme : `${item.scheme} ${parts.join(', ')}`;
}

/**
 * Formats a challenge as a `WWW-Authenticate` / `Proxy-Authenticate` value, in the params'
 * insertion order. Throws RangeError on a control character (CR/LF would inject a header):
 * callers pass only values they built or checked with isSafeHeaderText.
 */
export function formatChallenge(challenge: AuthChallenge): string {
  return format(challenge, UNQUOTED_IN_CHALLENGE);
}

/** Formats credentials as an `Authorization` value. Throws RangeError like formatChallenge. */
export function formatCredentials(credentials: AuthCredentials): string {
  return format(credentials, UNQUOTED_IN_CREDENTIALS);
}
