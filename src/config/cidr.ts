// Address blocks for the ACL settings (XmlAllowFrom, ReferAllowFrom) and the loopback checks of
// decisions.md §1. Every check uses the normalised peer address: `::ffff:127.0.0.1` is 127.0.0.1.
import { isIPv4, isIPv6 } from 'node:net';

export interface CidrBlock {
  /** Canonical text, e.g. `10.0.0.0/8`, `2001:db8::/32`. */
  readonly text: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  /** The address with host bits cleared. */
  readonly network: bigint;
}

/** `::ffff:a.b.c.d` (an IPv4-mapped IPv6 address, as Node reports IPv4 peers on a dual-stack socket) → `a.b.c.d`. */
export function normalizePeerAddress(address: string): string {
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && isIPv4(address.slice(7))) {
    return address.slice(7);
  }
  return address;
}

export function isLoopbackAddress(address: string): boolean {
  const a = normalizePeerAddress(address);
  if (isIPv4(a)) return a.startsWith('127.');
  if (isIPv6(a)) return ipv6ToBigInt(a) === 1n;
  return false;
}

function ipv4ToBigInt(address: string): bigint {
  let value = 0n;
  for (const part of address.split('.')) value = (value << 8n) | BigInt(Number(part));
  return value;
}

/** Expands `::` and an embedded dotted IPv4 tail; the caller has checked isIPv6(). */
function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const words: number[] = [];
  const expand = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = Number(ipv4ToBigInt(piece));
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap >= 0) {
    const head = expand(text.slice(0, gap));
    const tail = expand(text.slice(gap + 2));
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    words.push(...expand(text));
  }
  let value = 0n;
  for (const w of words) value = (value << 16n) | BigInt(w);
  return value;
}

function maskFor(family: 4 | 6, prefix: number): bigint {
  const bits = family === 4 ? 32n : 128n;
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all >> (bits - BigInt(prefix))) << (bits - BigInt(prefix));
}

function formatNetwork(family: 4 | 6, network: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((network >> s) & 255n)).join('.');
  }
  const words: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) words.push(((network >> s) & 0xffffn).toString(16));
  // Shorten the longest run of zero words to `::` (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  if (bestStart < 0) return words.join(':');
  return words.slice(0, bestStart).join(':') + '::' + words.slice(bestStart + bestLength).join(':');
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `x::y/n`; a bare address is a /32 or /128. */
export function parseCidr(text: string): CidrBlock | string {
  const slash = text.indexOf('/');
  const addressText = normalizePeerAddress(slash >= 0 ? text.slice(0, slash) : text);
  const family: 4 | 6 | 0 = isIPv4(addressText) ? 4 : isIPv6(addressText) && !addressText.includes('%') ? 6 : 0;
  if (family === 0) return `"${text}" is not an IP address or CIDR block`;
  const maxPrefix = family === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      return `"${text}": the prefix length must be 0-${maxPrefix}`;
    }
    prefix = Number(prefixText);
  }
  const address = family === 4 ? ipv4ToBigInt(addressText) : ipv6ToBigInt(addressText);
  const network = address & maskFor(family, prefix);
  return Object.freeze({ text: `${formatNetwork(family, network)}/${prefix}`, family, prefix, network });
}

/** True when the (normalised) peer address lies in one of the blocks. */
export function cidrListContains(blocks: readonly CidrBlock[], peerAddress: string): boolean {
  if (blocks.length === 0) return false;
  const a = normalizePeerAddress(peerAddress);
  const family = isIPv4(a) ? 4 : isIPv6(a) ? 6 : 0;
  if (family === 0) return false;
  const value = family === 4 ? ipv4ToBigInt(a) : ipv6ToBigInt(a);
  for (const b of blocks) {
    if (b.family === family && (value & maskFor(b.family, b.prefix)) === b.network) return true;
  }
  return false;
}

/** The key per-client limits count under: the address itself for IPv4, its /64 for IPv6 (decisions.md §1). */
export function clientKeyFor(peerAddress: string): string {
  const a = normalizePeerAddress(peerAddress);
  if (!isIPv6(a)) return a;
  return formatNetwork(6, ipv6ToBigInt(a) & maskFor(6, 64)) + '/64';
}
