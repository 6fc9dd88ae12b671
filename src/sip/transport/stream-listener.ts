// One listening TCP or TLS server. It enforces the per-source connection ceiling at accept time
// (before any TLS handshake work) and hands established sockets to the layer.
import { createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer, createSecureContext } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { normaliseAddress } from './address.js';
import type { SourceLimiter } from './source-limiter.js';
import { TransportError, describeError } from './transport-error.js';
import type { AddressFamily, Endpoint, StreamTransportName, TlsSettings, TransportStats } from './types.js';

export interface StreamListenerHooks {
  limiter: SourceLimiter;
  maxPerSource: number;
  /** TLS handshake deadline. */
  handshakeTimeoutMs: number;
  stats: TransportStats;
  /** An accepted, established socket (TLS: after the handshake). `release` frees its per-source slot. */
  adopt(socket: Socket, transport: StreamTransportName, release: () => void): void;
  report(e: TransportError): void;
  isClosing(): boolean;
}

export class StreamListener {
  readonly transport: StreamTransportName;
  readonly family: AddressFamily;
  readonly local: Endpoint;
  private readonly server: Server;
  private readonly hooks: StreamListenerHooks;
  /** Accepted raw sockets whose TLS handshake is still running, by peer address|port. */
  private readonly handshaking = new Map<string, { raw: Socket; release: () => void }>();
  private closing: Promise<void> | undefined;

  private constructor(server: Server, transport: StreamTransportName, family: AddressFamily, local: Endpoint, hooks: StreamListenerHooks) {
    this.server = server;
    this.transport = transport;
    this.family = family;
    this.local = local;
    this.hooks = hooks;
  }

  static listen(
    transport: StreamTransportName,
    address: string,
    port: number,
    family: AddressFamily,
    tls: TlsSettings | undefined,
    hooks: StreamListenerHooks,
  ): Promise<StreamListener> {
    let server: Server;
    if (transport === 'tls') {
      if (!tls) return Promise.reject(new Error(`a tls listener on ${address}:${port} needs tls.cert and tls.key`));
      server = createTlsServer({ ...secureContextOptions(tls), ...serverVerifyOptions(tls), handshakeTimeout: hooks.handshakeTimeoutMs });
    } else {
      server = createTcpServer();
    }
    return new Promise((resolve, reject) => {
      const onListenError = (err: Error) => reject(new Error(`cannot listen on ${transport} ${address}:${port}: ${describeError(err)}`));
      server.once('error', onListenError);
      // An IPv6 server takes IPv6 only, so an IPv4 server can share its port number.
      server.listen({ host: address, port, ipv6Only: family === 6, exclusive: true }, () => {
        server.off('error', onListenError);
        const bound = server.address();
        const local =
          bound && typeof bound === 'object' ? { address: normaliseAddress(bound.address), port: bound.port } : { address, port };
        const listener = new StreamListener(server, transport, family, local, hooks);
        listener.attach();
        resolve(listener);
      });
    });
  }

  /**
   * Swaps certificate/key/client CAs for connections accepted from now on (SIGHUP). Whether a
   * client certificate is required stays as it was at listen time.
   */
  setSecureContext(tls: TlsSettings): void {
    if (this.transport !== 'tls') return;
    (this.server as TlsServer).setSecureContext(secureContextOptions(tls));
  }

  /** Stops accepting and aborts handshakes in progress; established connections belong to the layer. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      for (const { raw } of this.handshaking.values()) raw.destroy();
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  private attach(): void {
    const { hooks } = this;
    this.server.on('error', (err) =>
      this.guard(() => hooks.report(new TransportError('socket-error', `${this.transport} server: ${describeError(err)}`, { transport: this.transport, cause: err }))),
    );
    this.server.on('connection', (raw: Socket) => this.guard(() => this.onAccept(raw)));
    if (this.transport === 'tls') {
      this.server.on('secureConnection', (socket: TLSSocket) => this.guard(() => this.onSecure(socket)));
      this.server.on('tlsClientError', (err: Error, socket: TLSSocket) =>
        this.guard(() => {
          const remote = { address: normaliseAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
          hooks.report(new TransportError('tls-handshake-failed', `tls handshake: ${describeError(err)}`, { transport: 'tls', remote, cause: err }));
        }),
      );
    }
  }

  private onAccept(raw: Socket): void {
    const { hooks } = this;
    raw.on('error', () => {
      // errors of the raw socket surface on the connection (or as tlsClientError); this only keeps them caught
    });
    if (hooks.isClosing() || raw.remoteAddress === undefined) {
      raw.destroy();
      return;
    }
    const address = normaliseAddress(raw.remoteAddress);
    const release = hooks.limiter.acquire(address);
    if (!release) {
      raw.destroy();
      hooks.stats.dropped['connection-limit'] = (hooks.stats.dropped['connection-limit'] ?? 0) + 1;
      hooks.report(
        new TransportError('connection-limit', `more than ${hooks.maxPerSource} connections from ${address}`, {
          transport: this.transport,
          remote: { address, port: raw.remotePort ?? 0 },
        }),
      );
      return;
    }
    const peerKey = `${raw.remoteAddress}|${raw.remotePort}`;
    raw.once('close', () => {
      release();
      if (this.handshaking.get(peerKey)?.raw === raw) this.handshaking.delete(peerKey);
    });
    if (this.transport === 'tcp') {
      hooks.adopt(raw, 'tcp', release);
    } else {
      this.handshaking.set(peerKey, { raw, release });
    }
  }

  private onSecure(socket: TLSSocket): void {
    // The TLSSocket wraps the raw socket accepted above (same peer address and port).
    const peerKey = `${socket.remoteAddress}|${socket.remotePort}`;
    const entry = this.handshaking.get(peerKey);
    this.handshaking.delete(peerKey);
    const release = entry?.release ?? (() => {});
    if (this.hooks.isClosing()) {
      socket.destroy();
      return;
    }
    this.hooks.adopt(socket, 'tls', release);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      try {
        this.hooks.report(new TransportError('internal', `${this.transport} listener handler threw: ${describeError(e)}`, { transport: this.transport, cause: e }));
      } catch {
        // nothing more to do safely
      }
    }
  }
}

// The server's context: its certificate and key, the CAs its client certificates must chain to,
// and TLS 1.2 at least (RFC 8996 retires TLS 1.0/1.1; RFC 5630 asks SIPS for TLS, not SSL).
function secureContextOptions(tls: TlsSettings) {
  const ca = tls.clientCa ?? tls.ca;
  return { cert: tls.cert, key: tls.key, ...(ca ? { ca } : {}), minVersion: tls.minVersion ?? ('TLSv1.2' as const) };
}

function serverVerifyOptions(tls: TlsSettings) {
  const requestCert = tls.requestCert ?? false;
  return { requestCert, rejectUnauthorized: requestCert ? (tls.rejectUnauthorized ?? true) : false };
}

/** Throws when the certificate, key or CA cannot be used (so a reload can refuse them up front). */
export function checkTlsSettings(tls: TlsSettings): void {
  createSecureContext(secureContextOptions(tls));
}
