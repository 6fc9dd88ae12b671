// Converts one written value to its typed form, by setting type. A bad value becomes a message
// (never a throw); the caller adds file, line and setting. Secret values are never quoted back.
import { isIP } from 'node:net';
import { compilePattern, unicodeFallbackMessage } from '../call/translate.js';
import { parseDnsServer } from '../sip/resolve/dns-resolver.js';
import { parseCidr, type CidrBlock } from './cidr.js';
import type { ApiKeyEntry, ReferUserEntry, SipCredentialEntry } from './config.js';
import type { SettingDef, SettingType } from './settings.js';

export type ValueResult =
  | { readonly ok: true; readonly value: unknown; readonly warning?: string }
  | { readonly ok: false; readonly message: string };

const TRUE_WORDS = new Set(['1', 'true', 'on', 'enable', 'yes']);
const FALSE_WORDS = new Set(['0', 'false', 'off', 'disable', 'no']);

/** Booleans: case-insensitive words; anything else is an error (the replaced system ignored it). */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return undefined;
}

const ok = (value: unknown, warning?: string): ValueResult => (warning === undefined ? { ok: true, value } : { ok: true, value, warning });
const bad = (message: string): ValueResult => ({ ok: false, message });

// RFC 3261 §25.1 hostname / IPv4address / IPv6reference, simplified to what a config needs.
const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;

/** `host`, `host:port`, `[v6]`, `[v6]:port`. */
export function isHostPort(text: string): boolean {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return false;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (isIP(host) !== 6) return false;
    if (rest === '') return true;
    if (!rest.startsWith(':')) return false;
    portText = rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
    if (!(isIP(host) === 4 || HOSTNAME.test(host))) return false;
  }
  return portText === undefined || (/^[0-9]{1,5}$/.test(portText) && Number(portText) <= 65535);
}

/** A bare `sip:`/`sips:` URI: scheme, optional userinfo, hostport, then params/headers. */
function isSipUri(text: string): boolean {
  const m = /^sips?:/i.exec(text);
  if (!m) return false;
  let rest = text.slice(m[0].length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0 || /[\s<>"]/.test(rest.slice(0, at))) return false;
    rest = rest.slice(at + 1);
  }
  const end = rest.search(/[;?]/);
  const hostPort = end >= 0 ? rest.slice(0, end) : rest;
  if (end >= 0 && /[\s<>"]/.test(rest.slice(end))) return false;
  return isHostPort(hostPort);
}

/** A SIP URI or a name-addr (`"Name" <sip:…>`). */
function isSipAddress(text: string): boolean {
  const lt = text.indexOf('<');
  if (lt < 0) return isSipUri(text);
  const gt = text.indexOf('>', lt);
  if (gt < 0) return false;
  const display = text.slice(0, lt).trim();
  const tail = text.slice(gt + 1).trim();
  const displayOk = display === '' || /^"(?:[^"\\]|\\.)*"$/.test(display) || /^[^"<>]+$/.test(display);
  return displayOk && (tail === '' || tail.startsWith(';')) && isSipUri(text.slice(lt + 1, gt));
}

function intRange(type: Extract<SettingType, { kind: 'int' }>): string {
  if (type.port) return 'a port number (0-65535)';
  const unit = type.unit === 's' ? ' (seconds)' : type.unit === 'ms' ? ' (milliseconds)' : type.unit === 'us' ? ' (microseconds)' : '';
  return `a whole number ${type.min}-${type.max}${unit}`;
}

function convertFields(def: SettingDef, type: Extract<SettingType, { kind: 'fields' }>, value: string, shown: string): ValueResult {
  const parts = value.split('|');
  const form = type.fields.slice(0, type.required).join('|') + type.fields.slice(type.required).map((f) => `[|${f}]`).join('');
  if (parts.length < type.required || parts.length > type.fields.length) {
    return bad(`${shown} is not of the form ${form}`);
  }
  // Names are trimmed; passwords are taken literally.
  const field = (i: number): string | undefined => {
    const raw = parts[i];
    if (raw === undefined) return undefined;
    return type.fields[i] === 'password' ? raw : raw.trim();
  };
  for (let i = 0; i < parts.length; i++) {
    if (field(i) === '') return bad(`${shown}: the field ${type.fields[i]} is empty (form ${form})`);
  }
  switch (type.record) {
    case 'api-key': {
      const hash = field(1) as string;
      if (!/^[0-9a-fA-F]{64}$/.test(hash)) {
        return bad(`the hash of key "${field(0)}" is not 64 hexadecimal digits (a SHA-256; \`clicktocall hash-key\` prints one)`);
      }
      const entry: { name: string; sha256: string; callsPerSecond?: number } = { name: field(0) as string, sha256: hash.toLowerCase() };
      const rate = field(2);
      if (rate !== undefined) {
        if (!/^[0-9]+$/.test(rate) || Number(rate) < 1 || Number(rate) > 1_000_000) {
          return bad(`the callsPerSecond of key "${entry.name}" must be a whole number 1-1000000`);
        }
        entry.callsPerSecond = Number(rate);
      }
      return ok(Object.freeze(entry) satisfies ApiKeyEntry);
    }
    case 'refer-user':
      return ok(Object.freeze({ user: field(0) as string, password: field(1) as string }) satisfies ReferUserEntry);
    case 'sip-credential': {
      const host = field(3);
      if (host !== undefined && !isHostPort(host)) return bad(`the host "${host}" is not a host name or address`);
      const entry: SipCredentialEntry = host === undefined
        ? { realm: field(0) as string, user: field(1) as string, password: field(2) as string }
        : { realm: field(0) as string, user: field(1) as string, password: field(2) as string, host };
      return ok(Object.freeze(entry));
    }
  }
  return bad(`${def.name} has an unknown field layout`);
}

/**
 * Converts a non-empty, trimmed value. Lists return one item per call (or, for address lists,
 * an array the caller appends).
 */
export function convertValue(def: SettingDef, value: string): ValueResult {
  const shown = def.secret ? 'the value' : JSON.stringify(value);
  const type = def.type;
  switch (type.kind) {
    case 'string':
    case 'path':
    case 'template':
      return ok(value);
    case 'int': {
      if (!/^[0-9]+$/.test(value)) return bad(`${shown} is not ${intRange(type)}`);
      const n = Number(value);
      if (n < type.min || n > type.max) return bad(`${shown} is not ${intRange(type)}`);
      return ok(n);
    }
    case 'bool': {
      const b = parseBoolean(value);
      if (b === undefined) return bad(`${shown} is not a boolean (1/true/on/enable/yes or 0/false/off/disable/no)`);
      return ok(b);
    }
    case 'enum': {
      const lower = value.toLowerCase();
      const found = type.values.find((v) => v.toLowerCase() === lower) ?? type.aliases?.[lower];
      if (found === undefined) return bad(`${shown} is not one of ${type.values.join(', ')}`);
      return ok(found);
    }
    case 'uri': {
      if (isSipAddress(value)) return ok(value);
      // compatibility.md: a URI setting without a scheme is retried with `sip:` prefixed.
      const lt = value.indexOf('<');
      const retried = lt >= 0 ? value.slice(0, lt + 1) + 'sip:' + value.slice(lt + 1) : 'sip:' + value;
      if (!/^\s*<?\s*sips?:/i.test(value) && isSipAddress(retried)) return ok(retried);
      return bad(`${shown} is not a SIP URI (sip:user@host[:port])`);
    }
    case 'url': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return bad(`${shown} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad(`${shown} is not an http: or https: URL`);
      return ok(value);
    }
    case 'ip':
      return isIP(value) ? ok(value) : bad(`${shown} is not an IP address`);
    case 'dns-server-list': {
      // The resolver's own parser (the same entries reach it at start-up).
      const items = value.split(/[\s,;]+/).filter((s) => s !== '');
      for (const item of items) {
        const parsed = parseDnsServer(item);
        if (parsed instanceof Error) return bad(parsed.message);
      }
      return ok(items);
    }
    case 'cidr-list': {
      const blocks: CidrBlock[] = [];
      for (const item of value.split(/[\s,]+/)) {
        if (item === '') continue;
        const block = parseCidr(item);
        if (typeof block === 'string') return bad(block);
        blocks.push(block);
      }
      return ok(blocks);
    }
    case 'regex': {
      const result = compilePattern(value);
      if (!result.ok) return bad(result.message);
      return ok(result.pattern, result.pattern.withoutUnicodeFlag ? unicodeFallbackMessage(value) : undefined);
    }
    case 'fields':
      return convertFields(def, type, value, shown);
  }
}
