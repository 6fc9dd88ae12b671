// Digest computations: RFC 7616 §3.4.1–3.4.3 (HTTP), RFC 2617 §3.2.2, RFC 2069 (no qop),
// RFC 8760 §2 (SHA-256 for SIP uses the same formulas as RFC 7616).
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
export type DigestQop = 'auth' | 'auth-int';

const HASH_OF: Readonly<Record<DigestAlgorithm, string>> = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
};

/** Hex length of a response for the algorithm (32 for MD5, 64 for SHA-256). */
export function responseLength(algorithm: DigestAlgorithm): number {
  return HASH_OF[algorithm] === 'md5' ? 32 : 64;
}

/**
 * The algorithm named by an `algorithm` parameter, case-insensitively; an absent parameter
 * means MD5 (RFC 7616 §3.3). Undefined for algorithms not supported here (e.g. SHA-512-256).
 */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  switch (value.toLowerCase()) {
    case 'md5':
      return 'MD5';
    case 'md5-sess':
      return 'MD5-sess';
    case 'sha-256':
      return 'SHA-256';
    case 'sha-256-sess':
      return 'SHA-256-sess';
    default:
      return undefined;
  }
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

/** H(data) as lower-case hex. Strings are hashed as UTF-8 (RFC 7616 §3.4.1). */
export function digestHash(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  return createHash(HASH_OF[algorithm]).update(data).digest('hex');
}

/**
 * RFC 7616 §3.4.2: A1 = username:realm:password; for -sess,
 * A1 = H(username:realm:password):nonce:cnonce. Returns H(A1).
 */
export function computeHA1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
  nonce: string,
  cnonce: string | undefined,
): string {
  const base = digestHash(algorithm, `${username}:${realm}:${password}`);
  if (!isSessionAlgorithm(algorithm)) return base;
  return digestHash(algorithm, `${base}:${nonce}:${cnonce ?? ''}`);
}

/**
 * RFC 7616 §3.4.3: A2 = method:uri for qop=auth or no qop;
 * A2 = method:uri:H(entity-body) for qop=auth-int. Returns H(A2).
 */
export function computeHA2(
  algorithm: DigestAlgorithm,
  method: string,
  uri: string,
  qop: DigestQop | undefined,
  body: string | Uint8Array | undefined,
): string {
  if (qop === 'auth-int') {
    return digestHash(algorithm, `${method}:${uri}:${digestHash(algorithm, body ?? '')}`);
  }
  return digestHash(algorithm, `${method}:${uri}`);
}

export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** Absent: RFC 2069 form, response = H(HA1:nonce:HA2); nc and cnonce are then ignored. */
  readonly qop?: DigestQop;
  /** Nonce count as the 8 hex digits sent on the wire (e.g. "00000001"). */
  readonly nc?: string;
  readonly cnonce?: string;
  /** Entity body, used only with qop=auth-int. */
  readonly body?: string | Uint8Array;
}

/** RFC 7616 §3.4.1: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or RFC 2069 without qop. */
export function computeResponse(input: DigestResponseInput): string {
  const { algorithm, qop } = input;
  const ha1 = computeHA1(algorithm, input.username, input.realm, input.password, input.nonce, input.cnonce);
  const ha2 = computeHA2(algorithm, input.method, input.uri, qop, input.body);
  if (qop === undefined) return digestHash(algorithm, `${ha1}:${input.nonce}:${ha2}`);
  return digestHash(algorithm, `${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${qop}:${ha2}`);
}

/** Formats a nonce count as the 8 lower-case hex digits of RFC 7616 §3.4 (nc=00000001). */
export function formatNonceCount(count: number): string {
  return count.toString(16).padStart(8, '0');
}

/** Parses an nc value: exactly 8 hex digits, else undefined. */
export function parseNonceCount(value: string): number | undefined {
  if (value.length !== 8) return undefined;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const d = parseInt(value[i]!, 16);
    if (Number.isNaN(d)) return undefined;
    n = n * 16 + d;
  }
  return n;
}
