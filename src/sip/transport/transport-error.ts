// One error type for everything the transport reports: limits hit, connections failing, sends failing.
import type { Endpoint, TransportName } from './types.js';

export type TransportErrorCode =
  | 'message-too-large' // stream message over maxMessageSize: connection closed
  | 'bad-content-length' // non-numeric, negative or conflicting Content-Length: connection closed
  | 'too-many-headers' // over maxHeaders: connection closed
  | 'datagram-too-large' // datagram over maxMessageSize: dropped
  | 'connection-limit' // over maxConnectionsPerSource: connection destroyed
  | 'idle-timeout'
  | 'read-timeout'
  | 'connect-failed'
  | 'connect-timeout'
  | 'tls-handshake-failed' // inbound TLS handshake failed
  | 'socket-error' // an established connection failed
  | 'send-failed'
  | 'write-buffer-full' // the peer does not read: send refused
  | 'bad-target' // not an IP address, bad port, unknown transport
  | 'no-listener' // UDP send without a listener of the target's family
  | 'not-listening' // send before listen() or after close()
  | 'connection-closed' // the connection closed before queued bytes left
  | 'handler-threw' // onMessage or a send callback threw
  | 'internal'; // a bug: a handler threw where it should not

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly transport?: TransportName;
  readonly remote?: Endpoint;
  readonly connectionId?: number;

  constructor(
    code: TransportErrorCode,
    message: string,
    details: { transport?: TransportName; remote?: Endpoint; connectionId?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TransportError';
    this.code = code;
    if (details.transport !== undefined) this.transport = details.transport;
    if (details.remote !== undefined) this.remote = details.remote;
    if (details.connectionId !== undefined) this.connectionId = details.connectionId;
  }
}

/** Text of an unknown thrown value, for messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code}: ${e.message}` : e.message;
  return String(e);
}
