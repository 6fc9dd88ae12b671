// IP address text helpers: normalising peer addresses, loopback tests, host:port text, CIDR matching.
// decisions.md §1: every loopback/CIDR check uses the normalised address ('::ffff:127.0.0.1' is 127.0.0.1).
import { isIPv4, isIPv6 } from 'node:net';
import type { AddressFamily } from './types.js';

/** Strips brackets and reduces an IPv4-mapped IPv6 address ('::ffff:1.2.3.4') to its IPv4 text. */
export function normaliseAddress(address: string): string {
  let a = address;
  if (a.length > 1 && a.charCodeAt(0) === 0x5b /* [ */ && a.charCodeAt(a.length - 1) === 0x5d /* ] */) {
    a = a.slice(1, -1);
  }
  // Fast path first: Node reports mapped peers exactly as '::ffff:a.b.c.d'.
  if (a.length > 7 && (a.startsWith('::ffff:') || a.startsWith('::FFFF:'))) {
    const tail = a.slice(7);
    if (isIPv4(tail)) return tail;
  }
  if (a.indexOf('.') > 0 && a.indexOf(':') >= 0 && isIPv6(a)) {
    // Other spellings of a mapped address (0:0:0:0:0:ffff:1.2.3.4, leading zeros): go through the bytes.
    const bytes = parseIpBytes(a);
    if (bytes && isMappedV4(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  return a;
}

/** 4 or 6 for IP address text (brackets allowed), undefined for anything else (host names included). */
export function familyOf(address: string): AddressFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  if (address.charCodeAt(0) === 0x5b && address.charCodeAt(address.length - 1) === 0x5d && isIPv6(address.slice(1, -1))) return 6;
  return undefined;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped 127/8. */
export function isLoopback(address: string): boolean {
  const a = normaliseAddress(address);
  if (isIPv4(a)) return a.startsWith('127.');
  const bytes = parseIpBytes(a);
  if (!bytes || bytes.length !== 16) return false;
  for (let i = 0; i < 15; i++) if (bytes[i] !== 0) return false;
  return bytes[15] === 1;
}

/** 'host:port' with an IPv6 address in brackets (RFC 3986 §3.2.2, RFC 3261 §25 hostport). */
export function formatHostPort(address: string, port: number): string {
  const a = normaliseAddress(address);
  return isIPv6(a) ? `[${a}]:${port}` : `${a}:${port}`;
}

/**
 * The key per-client limits group by: an IPv4 address itself, an IPv6 address's /64 (one host
 * usually owns a whole /64, decisions.md §1).
 */
export function sourceKey(address: string): string {
  const a = normaliseAddress(address);
  if (isIPv4(a)) return a;
  const bytes = parseIpBytes(a);
  if (!bytes || bytes.length !== 16) return a;
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}::/64`;
}

/** The address's bytes (4 or 16), or undefined if it is not IP address text. A zone (%eth0) is ignored. */
export function parseIpBytes(address: string): Uint8Array | undefined {
  let a = address;
  if (a.charCodeAt(0) === 0x5b && a.charCodeAt(a.length - 1) === 0x5d) a = a.slice(1, -1);
  if (isIPv4(a)) return parseV4(a);
  if (!isIPv6(a)) return undefined;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4): rewrite it as its two hex groups.
  const lastColon = a.lastIndexOf(':');
  if (a.indexOf('.', lastColon) > 0) {
    const v4 = parseV4(a.slice(lastColon + 1));
    if (!v4) return undefined;
    a = `${a.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const groupsWanted = 8;
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : groupsWanted - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...new Array<string>(zeros).fill('0'), ...tailGroups];
  if (groups.length !== groupsWanted) return undefined;
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i]!, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  return out;
}

function parseV4(a: string): Uint8Array | undefined {
  const parts = a.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const v = Number(parts[i]);
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function isMappedV4(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

export interface Cidr {
  family: AddressFamily;
  /** The network bytes, host bits cleared. */
  bytes: Uint8Array;
  prefix: number;
  /** As written. */
  text: string;
}

/**
 * '10.0.0.0/8', '2001:db8::/32', or a bare address (a /32 or /128). Host bits beyond the prefix
 * are cleared. Throws a RangeError naming the text when it is not a CIDR (for config validation).
 */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = normaliseAddress(slash >= 0 ? trimmed.slice(0, slash) : trimmed);
  const bytes = parseIpBytes(addressText);
  if (!bytes) throw new RangeError(`invalid CIDR '${text}': not an IP address`);
  const family: AddressFamily = bytes.length === 4 ? 4 : 6;
  const maxPrefix = bytes.length * 8;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const p = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > maxPrefix) {
      throw new RangeError(`invalid CIDR '${text}': prefix must be 0-${maxPrefix}`);
    }
    prefix = Number(p);
  }
  const network = new Uint8Array(bytes);
  clearHostBits(network, prefix);
  return { family, bytes: network, prefix, text };
}

/** Whether the address lies in the CIDR; an IPv4 address also matches an IPv6 CIDR through its mapped form. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  let bytes = parseIpBytes(normaliseAddress(address));
  if (!bytes) return false;
  if (bytes.length !== cidr.bytes.length) {
    if (cidr.family !== 6) return false;
    const mapped = new Uint8Array(16);
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    mapped.set(bytes, 12);
    bytes = mapped;
  }
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === cidr.bytes[whole];
}

function clearHostBits(bytes: Uint8Array, prefix: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - bitsHere)) & 0xff);
  }
}
