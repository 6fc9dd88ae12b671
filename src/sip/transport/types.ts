// The shapes the SIP stack uses to talk to the transport layer. The transport moves raw bytes:
// it knows where one message ends on a stream, nothing about what the message says.
import type { TransportError } from './transport-error.js';

export type TransportName = 'udp' | 'tcp' | 'tls';
export type StreamTransportName = 'tcp' | 'tls';
export type AddressFamily = 4 | 6;

/** address: IPv4 or IPv6 text, no brackets, IPv4-mapped IPv6 already reduced to IPv4. */
export interface Endpoint {
  address: string;
  port: number;
}

export interface Inbound {
  /** One datagram, or one framed stream message (headers + body). */
  data: Buffer;
  transport: TransportName;
  remote: Endpoint;
  /** The socket's own endpoint (for UDP the listener's bound address, possibly a wildcard). */
  local: Endpoint;
  /** Streams only: pass it back in SendTarget so a response leaves on the same connection. */
  connectionId?: number;
}

export interface SendTarget {
  transport: TransportName;
  address: string;
  port: number;
  connectionId?: number;
  /** TLS: the name the server certificate must carry (also sent as SNI). */
  servername?: string;
}

export interface ListenerSpec {
  transport: TransportName;
  address: string;
  /** 0 = chosen by the OS. */
  port: number;
}

export interface TlsSettings {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer[];
  /**
   * Server side only: the CAs that sign accepted client certificates (with requestCert). Kept
   * apart from `ca` so that outbound connections still verify servers against the system's roots.
   */
  clientCa?: Buffer[];
  /** Server side: ask inbound peers for a client certificate. */
  requestCert?: boolean;
  /** Outbound: verify the server certificate (default true). Inbound with requestCert: refuse peers without a valid one. */
  rejectUnauthorized?: boolean;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** The four timer functions, injectable so tests can drive them. */
export interface TransportTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface TransportLayerOptions {
  listeners: ListenerSpec[];
  tls?: TlsSettings;
  /** Bytes. A bigger stream message closes its connection; a bigger datagram is dropped. Both counted. */
  maxMessageSize: number;
  /** Header lines in one stream message. */
  maxHeaders: number;
  /** Inbound stream connections from one remote address (IPv6 grouped by /64, decisions.md §1). */
  maxConnectionsPerSource: number;
  /** A stream connection with no traffic this long is closed. */
  idleTimeoutMs: number;
  /** A stream message must complete within this after its first byte (slowloris); also the TLS handshake limit. */
  readTimeoutMs: number;
  /** RFC 5626 §4.4.1 CRLFCRLF pings on outbound stream connections; 0 = off. */
  keepAliveIntervalMs: number;
  /** Outbound stream connection must be established within this (default 10000). */
  connectTimeoutMs?: number;
  /** Bytes queued on one stream socket beyond which a send fails instead of buffering more (default 8 MiB). */
  maxWriteBuffer?: number;
  /** UDP socket buffer sizes asked of the OS (default 4 MiB; the OS may clamp it). */
  udpBufferSize?: number;
  /**
   * UDP datagrams are delivered in slices of this many microseconds between polls of the
   * sockets (inbound-queue.ts; default 250); 0: each as it is read.
   */
  udpSliceMicros?: number;
  /**
   * Most UDP datagrams waiting for a slice (default 4096); at this many, or at udpBufferSize
   * bytes, all are delivered.
   */
  udpMaxQueued?: number;
  /** Called synchronously for each message; a throw is caught, counted and reported. */
  onMessage: (m: Inbound) => void;
  /** Connection failures, send failures, limit hits: for logs and metrics. */
  onError?: (e: TransportError) => void;
  timers?: TransportTimers;
}

export interface BoundListener {
  transport: TransportName;
  address: string;
  port: number;
}

export interface TransportStats {
  /** Stream connections currently open or connecting. */
  connections: number;
  connectionsOpened: number;
  datagramsIn: number;
  datagramsOut: number;
  /** Messages handed to onMessage (datagrams and framed stream messages). */
  messagesIn: number;
  /** Sends completed without error. */
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** RFC 5626 keep-alives: pings received (answered with pongs), pings we sent, pongs seen. */
  pingsIn: number;
  pongsOut: number;
  pingsOut: number;
  pongsIn: number;
  /** Our ping went unanswered until the next one was due (the idle timer closes dead flows). */
  pongsMissed: number;
  /** onMessage or a send callback threw. */
  handlerErrors: number;
  /** Messages, datagrams and connections refused, by TransportError code. */
  dropped: Record<string, number>;
  /** Stream connections closed by us or by failure, by TransportError code. */
  closed: Record<string, number>;
}
