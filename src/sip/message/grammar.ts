/**
 * Small scanners for the RFC 3261 §25 grammar shared by the header parsers: tokens, quoted
 * strings, generic parameters, comma lists and %-escapes. Each works on one header value,
 * never on a whole message.
 */
import { SipParseError } from './errors.js';

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")  (§25.1)
const TOKEN_CHARS = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN_CHARS[c.charCodeAt(0)] = 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Index just past the quoted string starting at `start` (which holds the opening quote). */
export function skipQuoted(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34 /* " */) return i + 1;
  }
  throw new SipParseError('Unterminated quoted string');
}

/** The content of a quoted-string, with its quoted-pairs resolved (§25.1). */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 34) return s;
  if (s.indexOf('\\') < 0) return s.slice(1, s.length - 1);
  let out = '';
  for (let i = 1; i < s.length - 1; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length - 1) out += s[++i];
    else out += ch;
  }
  return out;
}

export function quote(s: string): string {
  return '"' + s.replace(/(["\\])/g, '\\$1') + '"';
}

/**
 * Splits a header value on the commas that separate list elements (§7.3.1), ignoring commas
 * inside quoted strings and <…> URIs. Empty elements are dropped.
 */
export function splitList(value: string): string[] {
  // Fast path: no separator at all.
  if (value.indexOf(',') < 0) {
    const t = value.trim();
    return t ? [t] : [];
  }
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) i = skipQuoted(value, i) - 1;
    else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
    else if (c === 44 /* , */ && !angle) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/**
 * Parses `;name=value;flag` generic parameters (§25.1 generic-param) from `s` starting at `i`
 * (which points at a ';' or whitespace before it). Names are lower-cased; values keep their
 * case, and quoted values keep their quotes (callers unquote where the grammar says so).
 * Stops at `stop` (a char code) when given, returning the index where it stopped.
 */
/** Where parseParams puts what it reads: a Map, or anything with the same set(). */
export interface ParamSink {
  set(name: string, value: string | null): unknown;
}

export function parseParams(
  s: string,
  i: number,
  into: ParamSink,
  stop = -1,
): number {
  const n = s.length;
  while (i < n) {
    let c = s.charCodeAt(i);
    while (c === 32 || c === 9 || c === 13 || c === 10) c = s.charCodeAt(++i);
    if (i >= n) break;
    if (c === stop) return i;
    if (c !== 59 /* ; */) throw new SipParseError(`Unexpected "${s[i]}" in parameters`);
    c = s.charCodeAt(++i);
    while (c === 32 || c === 9 || c === 13 || c === 10) c = s.charCodeAt(++i);
    const nameStart = i;
    let upper = false;
    while (i < n) {
      c = s.charCodeAt(i);
      if (c < 128 && PARAM_NAME_CHARS[c] === 1) {
        if (c >= 65 && c <= 90) upper = true;
        i++;
        continue;
      }
      if (c === 61 || c === 59 || c === stop || c === 32 || c === 9 || c === 13 || c === 10) break;
      throw new SipParseError(`Bad parameter name "${s.slice(nameStart, i + 1)}"`);
    }
    if (i === nameStart) throw new SipParseError('Empty parameter name');
    const raw = s.slice(nameStart, i);
    const name = upper ? raw.toLowerCase() : raw;
    c = s.charCodeAt(i);
    while (c === 32 || c === 9 || c === 13 || c === 10) c = s.charCodeAt(++i);
    let value: string | null = null;
    if (c === 61 /* = */) {
      c = s.charCodeAt(++i);
      while (c === 32 || c === 9 || c === 13 || c === 10) c = s.charCodeAt(++i);
      if (c === 34) {
        const end = skipQuoted(s, i);
        value = s.slice(i, end);
        i = end;
      } else {
        const valueStart = i;
        while (i < n) {
          c = s.charCodeAt(i);
          if ((c < 128 && VALUE_END[c] === 1) || c === stop) break;
          i++;
        }
        if (i === valueStart) throw new SipParseError(`Empty value for parameter "${name}"`);
        value = s.slice(valueStart, i);
      }
    }
    into.set(name, value);
  }
  return i;
}

/** What ends an unquoted parameter value (besides the caller's stop character): ";" and LWS. */
const VALUE_END = new Uint8Array(128);
for (const c of [59, 32, 9, 13, 10]) VALUE_END[c] = 1;

// token chars plus what URI parameter names allow (param-unreserved "[]/:&+$", escapes)
const PARAM_NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (TOKEN_CHARS[c] === 1 || c === 91 || c === 93 || c === 47 || c === 58 || c === 38 || c === 36) PARAM_NAME_CHARS[c] = 1;
}

/** A character of a (URI or header) parameter name, as parseParams accepts it. */
export function isParamNameChar(c: number): boolean {
  return c < 128 && PARAM_NAME_CHARS[c] === 1;
}

export function formatParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

const HEX = '0123456789ABCDEF';

/** Resolves %HH escapes (§19.1.2); a bad escape is a parse error. */
export function unescapePercent(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const h = parseInt(s.slice(i + 1, i + 3), 16);
      if (i + 2 >= s.length || Number.isNaN(h) || !/^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
        throw new SipParseError(`Bad escape in "${s}"`);
      }
      bytes.push(h);
      i += 2;
    } else if (c < 128) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** %-escapes every character of `s` outside `allowed` (a set of char codes), UTF-8 encoded. */
export function escapePercent(s: string, allowed: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) { plain = false; break; }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 128 && allowed[b] === 1) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

export function charSet(chars: string): Uint8Array {
  const set = new Uint8Array(128);
  for (const c of chars) set[c.charCodeAt(0)] = 1;
  return set;
}
