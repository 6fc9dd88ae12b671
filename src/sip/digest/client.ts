// The client side of digest (SIP UAC, HTTP client): answers a 401/407 challenge with the
// credentials to send (RFC 7616 §3.4, RFC 3261 §22.2–22.3, RFC 8760).
import { randomBytes } from 'node:crypto';
import {
  computeResponse,
  formatNonceCount,
  isSessionAlgorithm,
  parseAlgorithm,
  type DigestAlgorithm,
  type DigestQop,
} from './compute.js';
import { formatCredentials, isSafeHeaderText, type AuthChallenge, type Parsed } from './header.js';

export interface DigestUserCredentials {
  readonly username: string;
  readonly password: string;
}

export interface DigestRequestInfo {
  readonly method: string;
  /** The digest-uri: the Request-URI in SIP, the request-target in HTTP. */
  readonly uri: string;
  /** Entity body; needed only when the challenge offers qop=auth-int alone. */
  readonly body?: string | Uint8Array;
}

/** A challenge this module can answer, with its parsed algorithm and chosen qop. */
export interface UsableChallenge {
  readonly challenge: AuthChallenge;
  readonly algorithm: DigestAlgorithm;
  /** Undefined: the challenge had no qop, answer in the RFC 2069 form. */
  readonly qop: DigestQop | undefined;
}

// Preference among several challenges (RFC 7616 §3.7: the client uses the first it supports
// in the server's order; RFC 8760 §2.4: prefer the strongest). SHA-256 before MD5.
const STRENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  'SHA-256': 2,
  'SHA-256-sess': 2,
  MD5: 1,
  'MD5-sess': 1,
};

function chooseQop(qopParam: string | undefined): DigestQop | undefined | null {
  if (qopParam === undefined) return undefined;
  let hasAuthInt = false;
  for (const raw of qopParam.split(',')) {
    const value = raw.trim().toLowerCase();
    if (value === 'auth') return 'auth';
    if (value === 'auth-int') hasAuthInt = true;
  }
  return hasAuthInt ? 'auth-int' : null;
}

/** Checks one challenge: a Digest challenge with realm, nonce, a supported algorithm and qop. */
export function usableChallenge(challenge: AuthChallenge): Parsed<UsableChallenge> {
  if (challenge.scheme.toLowerCase() !== 'digest') return { ok: false, error: `scheme ${challenge.scheme} is not Digest` };
  const { params } = challenge;
  if (params.realm === undefined) return { ok: false, error: 'challenge has no realm' };
  if (params.nonce === undefined || params.nonce === '') return { ok: false, error: 'challenge has no nonce' };
  const algorithm = parseAlgorithm(params.algorithm);
  if (algorithm === undefined) return { ok: false, error: `unsupported algorithm ${params.algorithm}` };
  const qop = chooseQop(params.qop);
  if (qop === null) return { ok: false, error: `unsupported qop "${params.qop}"` };
  // The -sess A1 needs a cnonce, which exists only with a qop (RFC 2617 §3.2.2.2).
  if (qop === undefined && isSessionAlgorithm(algorithm)) return { ok: false, error: `${algorithm} without qop` };
  return { ok: true, value: { challenge, algorithm, qop } };
}

/**
 * Picks the challenge to answer among several (one header value may hold several, a response
 * may carry several headers): the strongest usable Digest challenge, the server's order
 * breaking ties. With `realm`, only challenges for that realm count (SipCredential is per realm).
 */
export function selectChallenge(
  challenges: readonly AuthChallenge[],
  options: { readonly realm?: string } = {},
): UsableChallenge | undefined {
  let best: UsableChallenge | undefined;
  for (const challenge of challenges) {
    const usable = usableChallenge(challenge);
    if (!usable.ok) continue;
    if (options.realm !== undefined && challenge.params.realm !== options.realm) continue;
    if (best === undefined || STRENGTH[usable.value.algorithm] > STRENGTH[best.algorithm]) best = usable.value;
  }
  return best;
}

export interface BuildAuthorizationInput extends DigestUserCredentials, DigestRequestInfo {
  readonly challenge: AuthChallenge;
  /** Client nonce; required when the challenge has a qop. */
  readonly cnonce?: string;
  /** Nonce count (1 for the first use of a nonce); required when the challenge has a qop. */
  readonly nc?: number;
}

/**
 * Builds the Authorization / Proxy-Authorization value answering one challenge, with a given
 * cnonce and nc (deterministic: the RFC examples are reproduced with it). Never throws.
 */
export function buildAuthorization(input: BuildAuthorizationInput): Parsed<string> {
  const usable = usableChallenge(input.challenge);
  if (!usable.ok) return usable;
  const { algorithm, qop } = usable.value;
  const { params } = input.challenge;
  for (const text of [input.username, input.uri, input.cnonce ?? '']) {
    if (!isSafeHeaderText(text)) return { ok: false, error: 'control character in username, uri or cnonce' };
  }
  const nonce = params.nonce!;
  const realm = params.realm!;
  let ncText: string | undefined;
  if (qop !== undefined) {
    if (input.cnonce === undefined || input.cnonce === '') return { ok: false, error: 'cnonce required with qop' };
    if (input.nc === undefined || !Number.isInteger(input.nc) || input.nc < 1 || input.nc > 0xffffffff) {
      return { ok: false, error: 'nc must be an integer from 1 to 0xffffffff' };
    }
    ncText = formatNonceCount(input.nc);
  }
  const response = computeResponse({
    algorithm,
    username: input.username,
    realm,
    password: input.password,
    nonce,
    method: input.method,
    uri: input.uri,
    ...(qop === undefined ? {} : { qop, nc: ncText, cnonce: input.cnonce }),
    ...(input.body === undefined ? {} : { body: input.body }),
  });
  // RFC 7616 §3.4 order; algorithm echoed only if the challenge named one (an absent one is MD5,
  // and RFC 2069 peers do not expect it); opaque returned unchanged.
  const out: Record<string, string> = { username: input.username, realm, uri: input.uri };
  if (params.algorithm !== undefined) out.algorithm = algorithm;
  out.nonce = nonce;
  if (qop !== undefined) {
    out.nc = ncText!;
    out.cnonce = input.cnonce!;
    out.qop = qop;
  }
  out.response = response;
  if (params.opaque !== undefined) out.opaque = params.opaque;
  try {
    return { ok: true, value: formatCredentials({ scheme: 'Digest', params: out }) };
  } catch (err) {
    // Only a control character in realm/nonce/opaque from the challenge can get here.
    return { ok: false, error: (err as Error).message };
  }
}

export interface DigestClientOptions {
  /** Client nonce generator; defaults to 16 random bytes in hex. Inject for tests. */
  readonly cnonce?: () => string;
  /** How many (realm, nonce) counters to remember; the least recently used is forgotten. */
  readonly maxTrackedNonces?: number;
}

export interface DigestAuthorization {
  /** The Authorization / Proxy-Authorization header value to send. */
  readonly header: string;
  readonly realm: string;
  readonly algorithm: DigestAlgorithm;
  readonly qop: DigestQop | undefined;
  /** Nonce count used (undefined without qop). */
  readonly nc: number | undefined;
  /**
   * The challenge said stale=true: the previous credentials were right but the nonce was old,
   * so retrying does not mean the password was refused (RFC 7616 §3.3).
   */
  readonly stale: boolean;
}

/**
 * Keeps the nonce counts of the nonces it has answered, so reusing a nonce (a re-sent or
 * pre-emptively authorized request) increments nc (RFC 7616 §3.4). Construct one per
 * account/UA and pass it in; it holds no other state.
 */
export class DigestClient {
  private readonly nextCnonce: () => string;
  private readonly maxTracked: number;
  /** key realm + "\0" + nonce → last nc sent. Map order is least recently used first. */
  private readonly counts = new Map<string, number>();

  constructor(options: DigestClientOptions = {}) {
    this.nextCnonce = options.cnonce ?? (() => randomBytes(16).toString('hex'));
    this.maxTracked = Math.max(1, options.maxTrackedNonces ?? 64);
  }

  /**
   * Answers a challenge, or the strongest usable one of several (see selectChallenge). A
   * UAC that gets a second 401/407 for the same realm after sending credentials should give
   * up unless the result's `stale` is true. Never throws.
   */
  authorize(
    challenges: AuthChallenge | readonly AuthChallenge[],
    credentials: DigestUserCredentials,
    request: DigestRequestInfo,
    options: { readonly realm?: string } = {},
  ): Parsed<DigestAuthorization> {
    const list: readonly AuthChallenge[] = Array.isArray(challenges) ? challenges : [challenges as AuthChallenge];
    const chosen = selectChallenge(list, options);
    if (chosen === undefined) {
      if (list.length === 1) {
        const why = usableChallenge(list[0]!);
        if (!why.ok) return why;
      }
      return { ok: false, error: 'no usable Digest challenge' };
    }
    const { challenge, algorithm, qop } = chosen;
    const realm = challenge.params.realm!;
    const key = `${realm}\0${challenge.params.nonce!}`;
    let nc: number | undefined;
    let cnonce: string | undefined;
    if (qop !== undefined) {
      nc = (this.counts.get(key) ?? 0) + 1;
      if (nc > 0xffffffff) return { ok: false, error: 'nonce count exhausted' };
      cnonce = this.nextCnonce();
    }
    const built = buildAuthorization({
      challenge,
      username: credentials.username,
      password: credentials.password,
      method: request.method,
      uri: request.uri,
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(cnonce === undefined ? {} : { cnonce }),
      ...(nc === undefined ? {} : { nc }),
    });
    if (!built.ok) return built;
    if (nc !== undefined) this.remember(key, nc);
    const stale = (challenge.params.stale ?? '').toLowerCase() === 'true';
    return { ok: true, value: { header: built.value, realm, algorithm, qop, nc, stale } };
  }

  /** Forgets every nonce count (e.g. when the account's credentials change). */
  reset(): void {
    this.counts.clear();
  }

  private remember(key: string, nc: number): void {
    this.counts.delete(key);
    this.counts.set(key, nc);
    while (this.counts.size > this.maxTracked) {
      const oldest = this.counts.keys().next().value as string;
      this.counts.delete(oldest);
    }
  }
}
