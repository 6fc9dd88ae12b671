// The server side of digest (SIP UAS, HTTP server): issues challenges with stateless,
// expiring nonces and verifies credentials, rejecting replayed nonce counts
// (RFC 7616 §3.3, §3.5, §5.5; RFC 3261 §22.4; RFC 8760).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  computeResponse,
  parseAlgorithm,
  parseNonceCount,
  responseLength,
  type DigestAlgorithm,
} from './compute.js';
import { formatChallenge, isSafeHeaderText, parseCredentials, type AuthCredentials } from './header.js';

export interface DigestServerOptions {
  readonly realm: string;
  /** HMAC key for nonces (≥ 16 bytes). Default: 32 random bytes, so nonces die with the process. */
  readonly secret?: Buffer;
  /** How long a nonce is accepted; after that a correct answer gets `stale`. */
  readonly nonceTtlMs: number;
  /** Algorithms offered and accepted. Challenges list the SHA-256 family first. */
  readonly algorithms: readonly DigestAlgorithm[];
  /** Clock in milliseconds (Date.now in production; a fake in tests). */
  readonly now: () => number;
  /** Bound on the nonces whose highest nc is remembered for replay protection. */
  readonly maxTrackedNonces: number;
  /** Random source for the nonces' random part; inject for tests. Default crypto.randomBytes. */
  readonly random?: (size: number) => Buffer;
}

export interface DigestVerifyRequest {
  readonly method: string;
  /** The request URI as received; compared with the credentials' `uri` after trimming both. */
  readonly uri: string;
  /** The configured password for a user, or undefined if there is no such user. */
  readonly lookupPassword: (username: string) => string | undefined;
  /** Entity body; unused while only qop=auth is offered. */
  readonly body?: string | Uint8Array;
}

export type DigestFailureReason =
  | 'missing' // no credentials at all
  | 'malformed' // unparsable, or required parameters missing/invalid
  | 'scheme' // credentials of another scheme (e.g. Basic) only
  | 'realm' // Digest credentials, but none for our realm
  | 'algorithm' // an algorithm we do not offer
  | 'qop' // no qop or a qop other than auth (replay protection needs nc)
  | 'uri-mismatch' // `uri` differs from the request URI
  | 'unknown-user'
  | 'bad-response' // wrong password (or tampered parameters)
  | 'stale' // right password, nonce expired or not ours: re-challenge with stale=true
  | 'replay'; // nc not above the highest seen for this nonce

export type DigestVerifyResult =
  | { readonly ok: true; readonly username: string; readonly algorithm: DigestAlgorithm; readonly nc: number }
  | { readonly ok: false; readonly reason: DigestFailureReason; readonly stale?: boolean; readonly username?: string };

// Nonce layout, before base64url: 8-byte issue time (ms, big-endian), a 4-byte serial so
// that two challenges in the same millisecond differ (each nonce has its own nc history) and
// are ordered, 4 random bytes, then HMAC-SHA256(secret, realm NUL time serial random) cut to
// 16 bytes. No storage is needed until a nonce is used.
const TIME_BYTES = 8;
const SERIAL_BYTES = 4;
const SALT_BYTES = 4;
const SIGNED_BYTES = TIME_BYTES + SERIAL_BYTES + SALT_BYTES;
const MAC_BYTES = 16;
const NONCE_BYTES = SIGNED_BYTES + MAC_BYTES;
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3);

const STRENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  'SHA-256': 2,
  'SHA-256-sess': 2,
  MD5: 1,
  'MD5-sess': 1,
};

/** When and in which order a nonce was issued. */
interface NonceIssue {
  readonly issuedAt: number;
  readonly serial: number;
}

interface TrackedNonce extends NonceIssue {
  nc: number;
}

type NonceCheck = { readonly valid: false } | ({ readonly valid: true } & NonceIssue);

function issuedNoLaterThan(a: NonceIssue, b: NonceIssue): boolean {
  return a.issuedAt < b.issuedAt || (a.issuedAt === b.issuedAt && a.serial <= b.serial);
}

function isHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Constant-time comparison of two ASCII strings (length is not secret here). */
function sameText(a: string, b: string): boolean {
  const bufA = Buffer.from(a, 'latin1');
  const bufB = Buffer.from(b, 'latin1');
  return bufA.length === bufB.length && timingSafeEqual(bufA, bufB);
}

/**
 * Issues challenges and verifies digest credentials for one realm. Stateless nonces (no
 * storage until a nonce is used); a bounded map keeps the highest nc per used nonce.
 * The constructor throws RangeError on invalid options; challenge() and verify() never throw.
 */
export class DigestServer {
  readonly realm: string;
  private readonly secret: Buffer;
  private readonly ttlMs: number;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly now: () => number;
  private readonly maxTracked: number;
  private readonly random: (size: number) => Buffer;
  /** nonce → highest nc accepted. Map order: least recently used first. */
  private readonly tracked = new Map<string, TrackedNonce>();
  /**
   * The latest-issued still-valid nonce forgotten for lack of room. An untracked nonce issued
   * no later than it may have been used before, so it is answered `stale` rather than
   * trusted from nc 1 again.
   */
  private forgottenUpTo: NonceIssue = { issuedAt: -Infinity, serial: 0 };
  /**
   * Nonces issued before this instance started (by an earlier process with the same secret)
   * have an unknown nc history: they are answered `stale` too.
   */
  private readonly startedAt: number;
  private serial = 0;

  constructor(options: DigestServerOptions) {
    if (options.realm === '' || !isSafeHeaderText(options.realm)) throw new RangeError('invalid realm');
    if (!(options.nonceTtlMs > 0)) throw new RangeError('nonceTtlMs must be positive');
    if (!(options.maxTrackedNonces >= 1)) throw new RangeError('maxTrackedNonces must be at least 1');
    if (options.algorithms.length === 0) throw new RangeError('at least one algorithm is needed');
    for (const a of options.algorithms) {
      if (parseAlgorithm(a) !== a) throw new RangeError(`unsupported algorithm ${a}`);
    }
    if (options.secret !== undefined && options.secret.length < 16) throw new RangeError('secret must be at least 16 bytes');
    this.realm = options.realm;
    this.secret = options.secret ?? randomBytes(32);
    this.ttlMs = options.nonceTtlMs;
    // Stable sort: SHA-256 family first, the configured order otherwise (RFC 8760 §2.4).
    this.algorithms = [...new Set(options.algorithms)].sort((a, b) => STRENGTH[b] - STRENGTH[a]);
    this.now = options.now;
    this.maxTracked = Math.floor(options.maxTrackedNonces);
    this.random = options.random ?? randomBytes;
    this.startedAt = Math.floor(this.now());
  }

  /**
   * The `WWW-Authenticate` / `Proxy-Authenticate` values to send, one per algorithm, SHA-256
   * first, all with the same fresh nonce and qop="auth". `stale: true` after a `stale` verdict.
   */
  challenge(options: { readonly stale?: boolean } = {}): string[] {
    const nonce = this.issueNonce();
    return this.algorithms.map((algorithm) => {
      const params: Record<string, string> = { realm: this.realm, nonce, algorithm, qop: 'auth' };
      if (options.stale) params.stale = 'true';
      return formatChallenge({ scheme: 'Digest', params });
    });
  }

  /**
   * Verifies credentials: one Authorization/Proxy-Authorization value, several (the one for
   * our realm is used), or an already parsed one. Never throws.
   */
  verify(
    credentials: string | readonly string[] | AuthCredentials | undefined,
    request: DigestVerifyRequest,
  ): DigestVerifyResult {
    const picked = this.pickCredentials(credentials);
    if (!picked.ok) return { ok: false, reason: picked.reason };
    const p = picked.credentials.params;
    const { username, nonce, uri, response } = p;
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { ok: false, reason: 'malformed' };
    }
    const algorithm = parseAlgorithm(p.algorithm);
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return { ok: false, reason: 'algorithm' };
    // We offer only qop=auth; the RFC 2069 form (no qop) has no nc and so no replay protection.
    if (p.qop === undefined || p.qop.toLowerCase() !== 'auth') return { ok: false, reason: 'qop' };
    const nc = p.nc === undefined ? undefined : parseNonceCount(p.nc);
    const cnonce = p.cnonce;
    if (nc === undefined || nc === 0 || cnonce === undefined || cnonce === '') return { ok: false, reason: 'malformed' };
    if (response.length !== responseLength(algorithm) || !isHex(response)) return { ok: false, reason: 'malformed' };
    // RFC 7616 §3.4 / RFC 3261 §22.4: the digest-uri must be the request's URI. Plain string
    // comparison after trimming; a peer that rewrites the URI form is refused.
    if (uri.trim() !== request.uri.trim()) return { ok: false, reason: 'uri-mismatch' };

    let password: string | undefined;
    try {
      password = request.lookupPassword(username);
    } catch {
      password = undefined;
    }
    const known = password !== undefined;
    // For an unknown user still compute a digest, so the answer takes about as long.
    const expected = computeResponse({
      algorithm,
      username,
      realm: this.realm,
      password: known ? password! : '\0unknown-user',
      nonce,
      method: request.method,
      uri,
      qop: 'auth',
      nc: p.nc!,
      cnonce,
    });
    const matches = sameText(expected, response.toLowerCase());
    if (!known) return { ok: false, reason: 'unknown-user', username };
    if (!matches) return { ok: false, reason: 'bad-response', username };

    // The password is right. RFC 7616 §3.3: a nonce that is not (or no longer) valid while
    // the digest is → stale=true, so the client retries without asking its user again.
    const check = this.checkNonce(nonce);
    if (!check.valid) return { ok: false, reason: 'stale', stale: true, username };
    const age = this.now() - check.issuedAt;
    if (age > this.ttlMs || age < -this.ttlMs) return { ok: false, reason: 'stale', stale: true, username };

    // RFC 7616 §5.5 / RFC 2617 §3.2.2: nc must grow for each request on the same nonce.
    const seen = this.tracked.get(nonce);
    if (seen !== undefined) {
      if (nc <= seen.nc) return { ok: false, reason: 'replay', username };
      seen.nc = nc;
      this.tracked.delete(nonce);
      this.tracked.set(nonce, seen);
    } else {
      if (check.issuedAt < this.startedAt || issuedNoLaterThan(check, this.forgottenUpTo)) {
        return { ok: false, reason: 'stale', stale: true, username };
      }
      this.track(nonce, { nc, issuedAt: check.issuedAt, serial: check.serial });
    }
    return { ok: true, username, algorithm, nc };
  }

  /** Number of nonces whose nc is remembered (for metrics and tests). */
  get trackedNonceCount(): number {
    return this.tracked.size;
  }

  private pickCredentials(
    credentials: string | readonly string[] | AuthCredentials | undefined,
  ): { ok: true; credentials: AuthCredentials } | { ok: false; reason: DigestFailureReason } {
    if (credentials === undefined || credentials === null) return { ok: false, reason: 'missing' };
    let list: AuthCredentials[];
    let malformed = false;
    if (typeof credentials === 'string' || Array.isArray(credentials)) {
      const values: readonly unknown[] = typeof credentials === 'string' ? [credentials] : credentials;
      list = [];
      for (const value of values) {
        if (typeof value !== 'string') {
          malformed = true;
          continue;
        }
        if (value.trim() === '') continue;
        const parsed = parseCredentials(value);
        if (parsed.ok) list.push(parsed.value);
        else malformed = true;
      }
      if (list.length === 0) return { ok: false, reason: malformed ? 'malformed' : 'missing' };
    } else if (typeof credentials === 'object' && typeof (credentials as AuthCredentials).scheme === 'string') {
      list = [credentials as AuthCredentials];
    } else {
      return { ok: false, reason: 'malformed' };
    }
    let sawDigest = false;
    for (const item of list) {
      if (item.scheme.toLowerCase() !== 'digest') continue;
      if (typeof item.params !== 'object' || item.params === null) {
        malformed = true;
        continue;
      }
      sawDigest = true;
      if (item.params.realm === this.realm) return { ok: true, credentials: item };
    }
    if (sawDigest) return { ok: false, reason: someDigestHasRealm(list) ? 'realm' : 'malformed' };
    return { ok: false, reason: malformed ? 'malformed' : 'scheme' };
  }

  private issueNonce(): string {
    const raw = Buffer.alloc(NONCE_BYTES);
    const issuedAt = Math.max(0, Math.floor(this.now()));
    raw.writeBigUInt64BE(BigInt(issuedAt), 0);
    this.serial = (this.serial + 1) >>> 0;
    raw.writeUInt32BE(this.serial, TIME_BYTES);
    this.random(SALT_BYTES).copy(raw, TIME_BYTES + SERIAL_BYTES, 0, SALT_BYTES);
    this.mac(raw).copy(raw, SIGNED_BYTES, 0, MAC_BYTES);
    return raw.toString('base64url');
  }

  private mac(raw: Buffer): Buffer {
    return createHmac('sha256', this.secret)
      .update(this.realm)
      .update('\0')
      .update(raw.subarray(0, SIGNED_BYTES))
      .digest();
  }

  /** Checks a nonce's form and HMAC in constant time; gives its issue time if it is ours. */
  private checkNonce(nonce: string): NonceCheck {
    if (nonce.length !== NONCE_CHARS) return { valid: false };
    const raw = Buffer.from(nonce, 'base64url');
    // Buffer.from skips invalid characters silently: re-encode to be sure the text was exact.
    if (raw.length !== NONCE_BYTES || raw.toString('base64url') !== nonce) return { valid: false };
    const expected = this.mac(raw).subarray(0, MAC_BYTES);
    if (!timingSafeEqual(expected, raw.subarray(SIGNED_BYTES))) return { valid: false };
    return { valid: true, issuedAt: Number(raw.readBigUInt64BE(0)), serial: raw.readUInt32BE(TIME_BYTES) };
  }

  private track(nonce: string, entry: TrackedNonce): void {
    const now = this.now();
    // Drop the least recently used entry if it has expired anyway (keeps the map small).
    const head = this.tracked.entries().next();
    if (!head.done && now - head.value[1].issuedAt > this.ttlMs) this.tracked.delete(head.value[0]);
    this.tracked.set(nonce, entry);
    while (this.tracked.size > this.maxTracked) {
      const [oldest, forgotten] = this.tracked.entries().next().value as [string, TrackedNonce];
      this.tracked.delete(oldest);
      if (now - forgotten.issuedAt <= this.ttlMs && !issuedNoLaterThan(forgotten, this.forgottenUpTo)) {
        this.forgottenUpTo = { issuedAt: forgotten.issuedAt, serial: forgotten.serial };
      }
    }
  }
}

function someDigestHasRealm(list: readonly AuthCredentials[]): boolean {
  return list.some((c) => c.scheme.toLowerCase() === 'digest' && c.params.realm !== undefined);
}
