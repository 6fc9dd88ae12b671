// Types shared by the XML server, its connections and whoever handles the requests.
import type { ClickToCallFields, XmlResult } from './codec.js';

export interface XmlClient {
  /** Peer address, IPv4-mapped IPv6 normalised (`::ffff:127.0.0.1` → `127.0.0.1`). */
  readonly address: string;
  readonly port: number;
}

/** A ClickToCall request handed to the engine. */
export interface XmlCallRequest extends ClickToCallFields {
  readonly client: XmlClient;
  /** When its bytes were read (`performance.now()`). */
  readonly receivedAt?: number;
}

/**
 * Where the engine reports a request's progress. Call `result` zero or more times, the last
 * time with a final result (≥ 200 on Destination, or ≥ 300). Calls after the final one, or
 * after the client went away, do nothing; `result` never throws.
 */
export interface XmlResultSink {
  result(result: XmlResult): void;
}

export interface XmlRequestHandler {
  submit(request: XmlCallRequest, sink: XmlResultSink): void;
}

/** The subset of a pino logger the XML server uses. */
export interface XmlLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Timer functions, injectable so tests drive the idle timeout without waiting. */
export interface XmlTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What the server has seen; read by tests and the metrics endpoint. */
export interface XmlServerCounters {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start (refused ones excluded). */
  accepted: number;
  /** Connections closed to make room for a new one (`maxConnections`). */
  evicted: number;
  /** Connections closed at once because `allowFrom` refused their source address. */
  refused: number;
  /** Documents framed, well-formed or not. */
  documents: number;
  /** Documents answered 400 by the server itself (parse, size, unknown method, missing tags). */
  errors: number;
  /** Requests refused by the server itself: 403 bad secret, 503 too many on the connection. */
  refusedRequests: number;
  /** Unexpected exceptions caught at this edge (decisions §7: tests expect 0). */
  internalErrors: number;
}

export const noopLogger: XmlLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export const realTimers: XmlTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
