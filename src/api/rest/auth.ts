/**
 * Who may use `/v1` (decisions.md §1): `Authorization: Bearer <api key>`, or, when `HttpAuth` is
 * on, the admin credentials (Digest or Basic, the legacy trigger's user). Anonymous requests are
 * refused, except from loopback while no `ApiKey` is configured and `HttpAuth` is off, so that
 * `npm start` works in the first minutes. `AllowAnonymous` never opens REST.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpAuthenticator } from '../http/auth.js';
import { clientKeyFor, isLoopbackAddress, normalizePeerAddress } from '../../config/cidr.js';
import type { ApiKeyMatch, ApiKeyRing } from './api-keys.js';
import { problem, sendProblem } from './problem.js';

export type Principal =
  | { kind: 'key'; key: ApiKeyMatch; client: string }
  | { kind: 'admin'; client: string }
  | { kind: 'loopback'; client: string };

export interface RestAuthOptions {
  keys: ApiKeyRing;
  /** Present when `HttpAuth` is on. */
  admin?: HttpAuthenticator;
  logger?: { warn(obj: object, msg?: string): void };
  /** Counts refused credentials (a metric); not called for a request that sent none. */
  onFailure?: (reason: string) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the REST authentication hook. */
    principal?: Principal;
  }
}

const BEARER_CHALLENGE = 'Bearer realm="clicktocall"';

/** The key per-client engine limits count under: the API key name, else the peer (decisions.md §1). */
export function clientKeyOf(principal: Principal): string {
  return principal.kind === 'key' ? `key:${principal.key.name}` : principal.client;
}

export function peerAddress(request: FastifyRequest): string {
  return normalizePeerAddress(request.raw.socket?.remoteAddress ?? '');
}

/** A Fastify `onRequest` hook for the `/v1` routes. */
export function restAuthHook(opts: RestAuthOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const challenges = (): string[] => [BEARER_CHALLENGE, ...(opts.admin?.challenges() ?? [])];
  const refuse = (request: FastifyRequest, reply: FastifyReply, detail: string, bearerError?: string, reason?: string) => {
    if (reason) {
      opts.logger?.warn({ client: peerAddress(request), reason, path: request.routeOptions.url }, 'REST authentication failed');
      opts.onFailure?.(reason);
    }
    const values = challenges();
    // RFC 6750 §3: a rejected token is answered with error="invalid_token".
    if (bearerError) values[0] = `${BEARER_CHALLENGE}, error="${bearerError}"`;
    reply.header('www-authenticate', values);
    return sendProblem(reply, problem('unauthorized', 401, detail));
  };

  return async function authenticate(request, reply) {
    const address = peerAddress(request);
    const client = clientKeyFor(address);
    const header = request.headers.authorization;
    const value = typeof header === 'string' ? header.trim() : '';
    if (value !== '') {
      const space = value.indexOf(' ');
      const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
      if (scheme === 'bearer') {
        const token = space < 0 ? '' : value.slice(space + 1).trim();
        const key = token === '' ? undefined : opts.keys.match(token);
        if (!key) return refuse(request, reply, 'The API key is not valid.', 'invalid_token', 'bad-key');
        request.principal = { kind: 'key', key, client };
        return undefined;
      }
      if (opts.admin) {
        const verdict = opts.admin.check({ method: request.method, uri: request.raw.url ?? '', authorization: value });
        if (verdict.ok) {
          request.principal = { kind: 'admin', client };
          return undefined;
        }
        reply.header('www-authenticate', [BEARER_CHALLENGE, ...verdict.challenges]);
        if (verdict.reason !== 'stale' && verdict.reason !== 'missing') {
          opts.logger?.warn({ client: address, reason: verdict.reason, path: request.routeOptions.url }, 'REST authentication failed');
          opts.onFailure?.(verdict.reason);
        }
        return sendProblem(reply, problem('unauthorized', 401, 'The admin credentials are not valid.'));
      }
      return refuse(request, reply, `The ${scheme} scheme is not accepted here: send Authorization: Bearer <api key>.`, undefined, 'scheme');
    }
    if (opts.keys.size === 0 && !opts.admin && isLoopbackAddress(address)) {
      // The loopback exception is for clients on this machine: a browser page from elsewhere
      // reaching us through DNS rebinding sends its own host name in Host — refuse that.
      if (!isLoopbackHost(request.headers.host)) {
        return refuse(request, reply, 'Anonymous access from this machine needs Host: localhost, 127.0.0.1 or [::1].', undefined, 'host');
      }
      request.principal = { kind: 'loopback', client };
      return undefined;
    }
    return refuse(request, reply, 'This API needs Authorization: Bearer <api key>' + (opts.admin ? ' or the admin credentials.' : '.'));
  };
}

/** Host header naming this machine: localhost, 127.0.0.0/8 or [::1], with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 without Host: not a browser
  const h = host.trim().toLowerCase().replace(/:\d+$/, '');
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
