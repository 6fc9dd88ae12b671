// The HTTP listener (`HttpPort`): one Fastify application served by one Node HTTP server per
// listen address (decisions.md §1: loopback only, or all addresses with `::` IPv6-only beside
// `0.0.0.0`). Fastify's own listen() binds one host, so the servers are ours (serverFactory)
// and every one runs the same application. Limits are tight enough to resist slowloris.
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import { listenAll } from '../listen.js';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { INDEX_PATH, legacyRoutes } from './legacy.js';
import type { LegacyRoutesOptions } from './legacy.js';
import { noopHttpLogger } from './types.js';
import type { HttpLogger } from './types.js';

export interface HttpServerOptions {
  /** Addresses to listen on, e.g. `['127.0.0.1', '::1']` or `['0.0.0.0', '::']`. */
  readonly hosts: readonly string[];
  /** 0 lets the OS choose (the same port is then used for every host). */
  readonly port: number;
  /** Largest request body accepted [65536]; beyond: 413. */
  readonly bodyLimit?: number;
  /** Largest request line + header section [16384]; beyond: 431. */
  readonly maxHeaderSize?: number;
  /** Longest path parameter [256]; beyond: 414. */
  readonly maxParamLength?: number;
  /** Time allowed to receive the whole header section [10000]; beyond: 408 and close. */
  readonly headersTimeoutMs?: number;
  /** Time allowed to receive the whole request [30000]; beyond: 408 and close. */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection waits for its next request [5000]. */
  readonly keepAliveTimeoutMs?: number;
  /** A socket without any traffic for this long is destroyed [60000]. */
  readonly idleTimeoutMs?: number;
  /** How often the header/request deadlines are checked [min(1000, headersTimeoutMs / 4)]. */
  readonly connectionsCheckingIntervalMs?: number;
  /** Connections per listen address [1024]; beyond: new sockets are closed at once. */
  readonly maxConnections?: number;
  /** Requests on one keep-alive connection before it is closed [1000]. */
  readonly maxRequestsPerSocket?: number;
  /** Time granted to open requests by close() before their connections are destroyed [1000] (`HttpCloseGrace`). */
  readonly closeGraceMs?: number;
  readonly logger?: HttpLogger;
  /** Told about every unexpected exception caught here (for `clicktocall_internal_errors_total`). */
  readonly onInternalError?: (err: unknown) => void;
}

export interface HttpServerHandlers {
  /** The legacy trigger and page; omit to leave them out. */
  readonly legacy?: LegacyRoutesOptions;
  /** Further plugins (REST API, static files), registered in order after the built-in routes. */
  readonly plugins?: readonly FastifyPluginAsync[];
}

export interface HttpListenAddress {
  readonly address: string;
  readonly port: number;
  readonly family: string;
}

/** What the server has seen; read by tests and the metrics endpoint. */
export interface HttpServerCounters {
  /** Requests whose handler threw (answered 500). */
  internalErrors: number;
  /** Connections the HTTP parser gave up on: malformed request, 431, 408 (slow client). */
  clientErrors: number;
}

export interface HttpServer {
  /** Starts every listener; rejects (and closes those started) when one cannot bind. */
  listen(): Promise<HttpListenAddress[]>;
  /** Stops listening, lets open requests finish for closeGraceMs, then destroys the rest. */
  close(): Promise<void>;
  readonly app: FastifyInstance;
  /** A live view. */
  readonly counters: Readonly<HttpServerCounters>;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
export const DEFAULT_MAX_PARAM_LENGTH = 256;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_MAX_REQUESTS_PER_SOCKET = 1000;
export const DEFAULT_CLOSE_GRACE_MS = 1000;
const MAX_HEADERS_COUNT = 100;

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createHttpServer(options: HttpServerOptions, handlers: HttpServerHandlers = {}): HttpServer {
  const logger = options.logger ?? noopHttpLogger;
  const onInternalError = options.onInternalError ?? (() => {});
  const counters: HttpServerCounters = { internalErrors: 0, clientErrors: 0 };
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  // Node requires headersTimeout ≤ requestTimeout.
  const requestTimeout = Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
  const checkingInterval =
    options.connectionsCheckingIntervalMs ?? Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4)));

  // Node's own parser errors (bad request line, 431, header/request timeout): answer and close.
  const onClientError = (err: Error & { code?: string }, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    counters.clientErrors++;
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
  };

  const makeNodeServer = (listener: RequestListener): Server => {
    const server = createServer(
      {
        maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
        connectionsCheckingInterval: checkingInterval,
        headersTimeout,
        requestTimeout,
        requireHostHeader: true,
        joinDuplicateHeaders: false,
      },
      listener,
    );
    server.headersTimeout = headersTimeout;
    server.requestTimeout = requestTimeout;
    server.keepAliveTimeout = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
    server.maxHeadersCount = MAX_HEADERS_COUNT;
    server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? DEFAULT_MAX_REQUESTS_PER_SOCKET;
    server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    // No 'timeout' listener: Node destroys a socket idle this long.
    server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    return server;
  };

  let fastifyHandler: RequestListener | undefined;
  const app = Fastify({
    logger: false,
    trustProxy: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routerOptions: { maxParamLength: options.maxParamLength ?? DEFAULT_MAX_PARAM_LENGTH },
    return503OnClosing: true,
    // Fastify attaches this to the server the factory returns; the others get it below.
    clientErrorHandler: onClientError,
    serverFactory: (handler) => {
      fastifyHandler = handler;
      return makeNodeServer(handler);
    },
  });
  const primary = app.server;

  // Paths with routes, and their methods, so that a wrong method gets 405 rather than 404/301.
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    let methods = methodsByPath.get(route.url);
    if (methods === undefined) methodsByPath.set(route.url, (methods = new Set()));
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) methods.add(method);
    if (methods.has('GET')) methods.add('HEAD');
  });

  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      counters.internalErrors++;
      logger.error(
        { err: err instanceof Error ? err.stack : String(err), method: request.method, path: request.routeOptions.url },
        'http handler failed',
      );
      try {
        onInternalError(err);
      } catch {
        // the counter's own failure must not turn a 500 into a crash
      }
      return reply.code(500).send({ error: STATUS_CODES[500], message: 'Internal error', statusCode: 500 });
    }
    // Fastify's and the plugins' own 4xx (413 body too large, 415, 400 bad JSON …) say why.
    return reply.code(status).send({ error: STATUS_CODES[status], message: err.message, statusCode: status });
  });

  const redirectUnknown = handlers.legacy !== undefined;
  app.setNotFoundHandler((request, reply) => {
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const methods = methodsByPath.get(q < 0 ? url : url.slice(0, q));
    if (methods !== undefined) {
      return reply
        .code(405)
        .header('allow', [...methods].sort().join(', '))
        .type('text/plain; charset=utf-8')
        .send('Method Not Allowed\n');
    }
    // compatibility.md: any other path is redirected to the page, as the replaced system does.
    if (redirectUnknown) {
      return reply.code(301).header('location', INDEX_PATH).type('text/plain; charset=utf-8').send(`Moved to ${INDEX_PATH}\n`);
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('Not Found\n');
  });

  app.get('/healthz', (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  if (handlers.legacy !== undefined) void app.register(legacyRoutes, handlers.legacy);
  for (const plugin of handlers.plugins ?? []) void app.register(plugin);

  const servers: Server[] = [];
  let state: 'new' | 'listening' | 'closed' = 'new';

  async function listen(): Promise<HttpListenAddress[]> {
    if (state !== 'new') throw new Error(`http server already ${state}`);
    state = 'listening';
    let bound: HttpListenAddress[];
    try {
      await app.ready(); // a plugin that fails to load rejects here
      bound = await listenAll(options.hosts, options.port, (i) => {
        let server = primary;
        if (i > 0) {
          server = makeNodeServer(fastifyHandler!);
          server.on('clientError', onClientError);
        }
        servers.push(server);
        return server;
      });
    } catch (err) {
      await close();
      throw err;
    }
    return bound;
  }

  async function close(): Promise<void> {
    if (state === 'closed') return;
    state = 'closed';
    const closing = servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
    );
    const force = setTimeout(() => {
      for (const server of servers) server.closeAllConnections();
    }, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    force.unref();
    try {
      await app.close();
      await Promise.all(closing);
    } finally {
      clearTimeout(force);
    }
  }

  return {
    listen,
    close,
    app,
    get counters() {
      return counters;
    },
  };
}

