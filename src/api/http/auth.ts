// HTTP authentication of the admin user (`admin` / `HttpAuthPwd`, decisions.md §1): the
// challenge offers Digest SHA-256, then Digest MD5 (qop=auth, RFC 7616 / RFC 8760) and, unless
// `HttpAuthBasic = false`, Basic (RFC 7617) because existing clients send Basic. Digest is the
// shared implementation in src/sip/digest; credentials are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DigestServer, formatChallenge, isSafeHeaderText, parseCredentials } from '../../sip/digest/index.js';
import type { AuthCredentials, DigestAlgorithm } from '../../sip/digest/index.js';
import { normalizePeerAddress } from '../../config/cidr.js';
import { noopHttpLogger } from './types.js';
import type { HttpLogger } from './types.js';

/** The replaced system's only user. */
export const ADMIN_USER = 'admin';
export const DEFAULT_NONCE_TTL_MS = 300_000;
export const DEFAULT_MAX_TRACKED_NONCES = 4096;
const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];
const FALLBACK_REALM = 'clicktocall';

export interface HttpAuthOptions {
  /** `HttpAuthPwd`. */
  readonly password: string;
  /** [admin] */
  readonly username?: string;
  /** [the host name] Shown by browsers and part of the digest. */
  readonly realm?: string;
  /** `HttpAuthBasic` [true]: offer and accept Basic besides Digest. */
  readonly allowBasic?: boolean;
  /** How long a Digest nonce is accepted before a correct answer gets stale=true [300000]. */
  readonly nonceTtlMs?: number;
  /** Nonces whose nonce count is remembered for replay protection [4096]. */
  readonly maxTrackedNonces?: number;
  /** Clock in milliseconds [Date.now]; a fake in tests. */
  readonly now?: () => number;
  /** HMAC key of the nonces (≥ 16 bytes) [random per process]. */
  readonly nonceSecret?: Buffer;
}

/** What the request presented, for the authenticator. */
export interface HttpAuthInput {
  readonly method: string;
  /** The request-target exactly as sent (`req.url`): the digest-uri must equal it. */
  readonly uri: string;
  /** The `Authorization` header value, if any. */
  readonly authorization: string | undefined;
}

export type HttpAuthFailure =
  | 'missing' // no credentials: the normal first step
  | 'malformed'
  | 'scheme' // a scheme we do not accept (Basic when HttpAuthBasic = false)
  | 'bad-credentials' // wrong user or password, wrong realm, digest that does not match
  | 'uri-mismatch'
  | 'stale' // right password, old nonce: the client retries without asking its user
  | 'replay';

export type HttpAuthVerdict =
  | { readonly ok: true; readonly username: string; readonly scheme: 'basic' | 'digest' }
  | {
      readonly ok: false;
      readonly reason: HttpAuthFailure;
      /** `WWW-Authenticate` values to send with the 401, in order. */
      readonly challenges: string[];
    };

/** The realm when none is configured: the host name, if it can go into a header. */
export function defaultRealm(): string {
  const name = hostname();
  return name !== '' && isSafeHeaderText(name) ? name : FALLBACK_REALM;
}

/** Checks credentials against the admin user; never throws. */
export class HttpAuthenticator {
  readonly realm: string;
  readonly allowBasic: boolean;
  readonly #username: string;
  readonly #password: string;
  readonly #digest: DigestServer;
  /** SHA-256 of `user:password`, compared in constant time with what Basic sends. */
  readonly #basicHash: Buffer;
  readonly #basicChallenge: string;

  /** Throws RangeError on an invalid realm or option (start-up configuration errors). */
  constructor(options: HttpAuthOptions) {
    this.realm = options.realm ?? defaultRealm();
    this.allowBasic = options.allowBasic ?? true;
    this.#username = options.username ?? ADMIN_USER;
    this.#password = options.password;
    this.#digest = new DigestServer({
      realm: this.realm,
      nonceTtlMs: options.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS,
      maxTrackedNonces: options.maxTrackedNonces ?? DEFAULT_MAX_TRACKED_NONCES,
      algorithms: DIGEST_ALGORITHMS,
      now: options.now ?? Date.now,
      ...(options.nonceSecret === undefined ? {} : { secret: options.nonceSecret }),
    });
    this.#basicHash = sha256(`${this.#username}:${this.#password}`);
    this.#basicChallenge = formatChallenge({ scheme: 'Basic', params: { realm: this.realm } });
  }

  /** The `WWW-Authenticate` values: Digest SHA-256, Digest MD5, then Basic if allowed. */
  challenges(stale = false): string[] {
    const values = this.#digest.challenge({ stale });
    if (this.allowBasic) values.push(this.#basicChallenge);
    return values;
  }

  check(input: HttpAuthInput): HttpAuthVerdict {
    const header = input.authorization;
    if (header === undefined || header.trim() === '') return this.#fail('missing');
    const parsed = parseCredentials(header);
    if (!parsed.ok) return this.#fail('malformed');
    const scheme = parsed.value.scheme.toLowerCase();
    if (scheme === 'basic') return this.#checkBasic(parsed.value);
    if (scheme === 'digest') return this.#checkDigest(parsed.value, input);
    return this.#fail('scheme');
  }

  #checkBasic(credentials: AuthCredentials): HttpAuthVerdict {
    if (!this.allowBasic) return this.#fail('scheme');
    const token = credentials.token68;
    if (token === undefined || !isBase64(token)) return this.#fail('malformed');
    // RFC 7617 §2: user-id ":" password, base64; we read it as UTF-8 (§2.1 charset).
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    if (decoded.indexOf(':') < 0) return this.#fail('malformed');
    if (!timingSafeEqual(sha256(decoded), this.#basicHash)) return this.#fail('bad-credentials');
    return { ok: true, username: this.#username, scheme: 'basic' };
  }

  #checkDigest(credentials: AuthCredentials, input: HttpAuthInput): HttpAuthVerdict {
    const result = this.#digest.verify(credentials, {
      method: input.method,
      uri: input.uri,
      lookupPassword: (username) => (username === this.#username ? this.#password : undefined),
    });
    if (result.ok) return { ok: true, username: result.username, scheme: 'digest' };
    switch (result.reason) {
      case 'stale':
        return this.#fail('stale', true);
      case 'replay':
        return this.#fail('replay');
      case 'uri-mismatch':
        return this.#fail('uri-mismatch');
      case 'missing':
      case 'malformed':
      case 'qop':
      case 'algorithm':
        return this.#fail('malformed');
      case 'scheme':
        return this.#fail('scheme');
      default:
        return this.#fail('bad-credentials');
    }
  }

  #fail(reason: HttpAuthFailure, stale = false): HttpAuthVerdict {
    return { ok: false, reason, challenges: this.challenges(stale) };
  }
}

export interface AuthHookOptions {
  readonly logger?: HttpLogger;
  /** Counts refused credentials (a metric); not called for a request that sent none. */
  readonly onFailure?: (reason: string) => void;
  /**
   * Writes the 401 body (status and `WWW-Authenticate` are already set); the REST API answers
   * JSON. Default: a short HTML page.
   */
  readonly sendUnauthorized?: (request: FastifyRequest, reply: FastifyReply) => void;
}

const UNAUTHORIZED_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Authentication required</title></head>' +
  '<body><p>Authentication required.</p></body></html>\n';

/**
 * A Fastify `onRequest` hook that lets through requests carrying valid admin credentials and
 * answers the others 401 with the challenges. Add it to the routes (or plugin) it protects.
 */
export function createAuthHook(
  authenticator: HttpAuthenticator,
  options: AuthHookOptions = {},
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const logger = options.logger ?? noopHttpLogger;
  const sendUnauthorized =
    options.sendUnauthorized ??
    ((_request: FastifyRequest, reply: FastifyReply) => {
      reply.type('text/html; charset=utf-8').send(UNAUTHORIZED_PAGE);
    });
  return async function authenticate(request, reply) {
    const header = request.headers.authorization;
    const verdict = authenticator.check({
      method: request.method,
      uri: request.raw.url ?? '',
      authorization: typeof header === 'string' ? header : undefined,
    });
    if (verdict.ok) return undefined;
    if (verdict.reason !== 'missing' && verdict.reason !== 'stale') {
      // The reason and the client only: never the header, the user name or the password.
      logger.warn(
        { client: normalizePeerAddress(request.raw.socket?.remoteAddress ?? ''), reason: verdict.reason, path: request.routeOptions.url },
        'http authentication failed',
      );
      options.onFailure?.(verdict.reason);
    }
    reply.code(401).header('www-authenticate', verdict.challenges).header('cache-control', 'no-store');
    sendUnauthorized(request, reply);
    return reply;
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Standard base64 with optional padding (RFC 4648 §4), as Basic credentials use. */
function isBase64(text: string): boolean {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d /* = */) end--;
  if (text.length - end > 2 || end === 0) return false;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (!ok) return false;
  }
  return true;
}
