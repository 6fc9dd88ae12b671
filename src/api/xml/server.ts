// The XML-over-TCP trigger (`XmlRpcPort`): listens on the given addresses, keeps at most
// `maxConnections` clients (the oldest is closed to admit a new one, as the replaced system
// does) and refuses sources that `allowFrom` rejects (`XmlAllowFrom`, decisions §1).
import { normalizePeerAddress } from '../../config/cidr.js';
import { listenAll } from '../listen.js';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { XmlConnection } from './connection.js';
import type { XmlConnectionSettings } from './connection.js';
import { DEFAULT_MAX_DOCUMENT_SIZE } from './framer.js';
import { noopLogger, realTimers } from './types.js';
import type { XmlLogger, XmlRequestHandler, XmlServerCounters, XmlTimers } from './types.js';

export interface XmlServerOptions {
  /** Addresses to listen on, e.g. `['127.0.0.1', '::1']` or `['0.0.0.0', '::']`. */
  readonly hosts: readonly string[];
  /** 0 lets the OS choose (the same port is then used for every host). */
  readonly port: number;
  /** `XmlMaxDocumentSize` [65536] bytes. */
  readonly maxDocumentSize?: number;
  /** Requests without a final result on one connection [100]; beyond: 503. */
  readonly maxOpenRequestsPerConnection?: number;
  /** Connections [60]; a new one beyond this closes the oldest. */
  readonly maxConnections?: number;
  /** Source filter on the normalised peer address; refused connections are closed at once. */
  readonly allowFrom?: (address: string) => boolean;
  /** `XmlSecret`: required in `<Secret>` when set. */
  readonly secret?: string;
  /** Idle connections (no open request, no input) are closed after this [600000]; 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Answers queued for a client that does not read them [1 MiB]; beyond: connection dropped. */
  readonly maxWriteBufferBytes?: number;
  /** Flush time granted to a closing connection before it is destroyed [1000] (`XmlCloseGrace`). */
  readonly closeGraceMs?: number;
  readonly logger?: XmlLogger;
  readonly timers?: XmlTimers;
  /** Told about every unexpected exception caught here (for `clicktocall_internal_errors_total`). */
  readonly onInternalError?: (err: unknown) => void;
}

export interface XmlListenAddress {
  readonly address: string;
  readonly port: number;
  readonly family: string;
}

export const DEFAULT_MAX_CONNECTIONS = 60;
export const DEFAULT_MAX_OPEN_REQUESTS_PER_CONNECTION = 100;
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_WRITE_BUFFER_BYTES = 1024 * 1024;
export const DEFAULT_CLOSE_GRACE_MS = 1000;

/** `::ffff:192.0.2.1` → `192.0.2.1`, so ACLs and logs see one form (decisions §1). */
export class XmlServer {
  readonly #options: XmlServerOptions;
  readonly #settings: XmlConnectionSettings;
  readonly #maxConnections: number;
  readonly #logger: XmlLogger;
  readonly #servers: Server[] = [];
  /** Open connections in arrival order: the first is the oldest. */
  readonly #connections = new Map<number, XmlConnection>();
  readonly #counters: XmlServerCounters = {
    connections: 0,
    accepted: 0,
    evicted: 0,
    refused: 0,
    documents: 0,
    errors: 0,
    refusedRequests: 0,
    internalErrors: 0,
  };
  #nextId = 1;
  #closing = false;

  constructor(options: XmlServerOptions, handler: XmlRequestHandler) {
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    this.#maxConnections = Math.max(1, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.#settings = {
      maxDocumentSize: options.maxDocumentSize ?? DEFAULT_MAX_DOCUMENT_SIZE,
      maxOpenRequests: options.maxOpenRequestsPerConnection ?? DEFAULT_MAX_OPEN_REQUESTS_PER_CONNECTION,
      maxWriteBufferBytes: options.maxWriteBufferBytes ?? DEFAULT_MAX_WRITE_BUFFER_BYTES,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      closeGraceMs: options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
      secret: options.secret === '' ? undefined : options.secret,
      handler,
      counters: this.#counters,
      logger: this.#logger,
      timers: options.timers ?? realTimers,
      onInternalError: options.onInternalError ?? (() => {}),
    };
  }

  /** A live view of the counters. */
  get counters(): Readonly<XmlServerCounters> {
    return this.#counters;
  }

  /** Starts every listener; rejects (and closes those started) when one cannot bind. */
  async listen(): Promise<XmlListenAddress[]> {
    const hosts = this.#options.hosts;
    try {
      return await listenAll(hosts, this.#options.port, () => {
        const server = createServer({ allowHalfOpen: true }, (socket) => this.#onConnection(socket));
        this.#servers.push(server);
        return server;
      });
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Stops listening and ends every connection; results arriving later are dropped. */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = this.#servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    this.#servers.length = 0;
    for (const connection of [...this.#connections.values()]) connection.close();
    await Promise.all(closed);
  }

  #onConnection(socket: Socket): void {
    try {
      const address = normalizePeerAddress(socket.remoteAddress ?? '');
      const client = { address, port: socket.remotePort ?? 0 };
      if (this.#closing) {
        socket.destroy();
        return;
      }
      if (this.#options.allowFrom !== undefined && !this.#options.allowFrom(address)) {
        this.#counters.refused++;
        this.#logger.info({ client }, 'xml connection refused by XmlAllowFrom');
        socket.destroy();
        return;
      }
      if (this.#connections.size >= this.#maxConnections) this.#evictOldest();
      const id = this.#nextId++;
      const connection = new XmlConnection(id, socket, client, this.#settings, (c) => this.#onClosed(c));
      this.#connections.set(id, connection);
      this.#counters.accepted++;
      this.#counters.connections = this.#connections.size;
    } catch (err) {
      this.#counters.internalErrors++;
      this.#logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'xml accept failed');
      this.#settings.onInternalError(err);
      socket.destroy();
    }
  }

  #evictOldest(): void {
    const oldest = this.#connections.values().next();
    if (oldest.done === true) return;
    const connection = oldest.value;
    this.#connections.delete(connection.id);
    this.#counters.evicted++;
    this.#counters.connections = this.#connections.size;
    this.#logger.info({ client: connection.client, openRequests: connection.openRequests }, 'xml connection limit: oldest connection closed');
    connection.destroy();
  }

  #onClosed(connection: XmlConnection): void {
    if (this.#connections.get(connection.id) === connection) this.#connections.delete(connection.id);
    this.#counters.connections = this.#connections.size;
  }
}

