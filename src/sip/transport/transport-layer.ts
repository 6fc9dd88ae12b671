// The transport layer of RFC 3261 §18: UDP, TCP and TLS listeners, stream connections reused in
// both directions, limits, keep-alives. It moves raw bytes: one datagram or one framed stream
// message in, one buffer out. It never parses SIP beyond stream framing.
import { connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { familyOf, isLoopback, normaliseAddress } from './address.js';
import { ConnectionTable } from './connection-table.js';
import { SourceLimiter } from './source-limiter.js';
import { StreamConnection } from './stream-connection.js';
import type { ConnectionEvents, ConnectionSettings } from './stream-connection.js';
import { StreamListener, checkTlsSettings } from './stream-listener.js';
import { TransportError, describeError } from './transport-error.js';
import type { TransportErrorCode } from './transport-error.js';
import { UdpListener } from './udp-listener.js';
import { InboundQueue } from './inbound-queue.js';
import type {
  AddressFamily,
  BoundListener,
  Endpoint,
  Inbound,
  SendTarget,
  StreamTransportName,
  TlsSettings,
  TransportLayerOptions,
  TransportName,
  TransportStats,
  TransportTimers,
} from './types.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_WRITE_BUFFER = 8 * 1024 * 1024;
const DEFAULT_UDP_BUFFER = 4 * 1024 * 1024;
const DEFAULT_UDP_SLICE_MICROS = 250;
const DEFAULT_UDP_MAX_QUEUED = 4096;

const realTimers: TransportTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

type Callback = (err?: Error) => void;

export class TransportLayer {
  private readonly opts: TransportLayerOptions;
  private readonly timers: TransportTimers;
  private readonly settings: ConnectionSettings;
  private readonly limiter: SourceLimiter;
  private readonly table = new ConnectionTable();
  private readonly counters: TransportStats = {
    connections: 0,
    connectionsOpened: 0,
    datagramsIn: 0,
    datagramsOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    pingsIn: 0,
    pongsOut: 0,
    pingsOut: 0,
    pongsIn: 0,
    pongsMissed: 0,
    handlerErrors: 0,
    dropped: {},
    closed: {},
  };
  private readonly connectionEvents: ConnectionEvents;
  /** UDP datagrams waiting for their slice (inbound-queue.ts). */
  private readonly udpQueue: InboundQueue;
  /** Errors already given to onError, so a failed send does not report its connection's failure twice. */
  private readonly reported = new WeakSet<Error>();
  private tls: TlsSettings | undefined;
  private udp: UdpListener[] = [];
  private streams: StreamListener[] = [];
  private state: 'new' | 'binding' | 'listening' | 'closed' = 'new';
  private closing: Promise<void> | undefined;
  private nextConnectionId = 1;

  constructor(opts: TransportLayerOptions) {
    this.opts = opts;
    this.timers = opts.timers ?? realTimers;
    this.tls = opts.tls;
    this.limiter = new SourceLimiter(opts.maxConnectionsPerSource);
    this.settings = {
      maxMessageSize: opts.maxMessageSize,
      maxHeaders: opts.maxHeaders,
      idleTimeoutMs: opts.idleTimeoutMs,
      readTimeoutMs: opts.readTimeoutMs,
      keepAliveIntervalMs: opts.keepAliveIntervalMs,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      maxWriteBuffer: opts.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER,
    };
    this.connectionEvents = {
      message: (c, data) =>
        this.deliver({ data, transport: c.transport, remote: c.remote, local: c.local, connectionId: c.id }),
      closed: (c) => this.table.remove(c),
      report: (e) => this.report(e),
    };
    this.udpQueue = new InboundQueue({
      sliceMicros: opts.udpSliceMicros ?? DEFAULT_UDP_SLICE_MICROS,
      maxQueued: opts.udpMaxQueued ?? DEFAULT_UDP_MAX_QUEUED,
      // No more than the socket's own receive buffer would hold in the kernel.
      maxQueuedBytes: opts.udpBufferSize ?? DEFAULT_UDP_BUFFER,
      deliver: (m) => this.deliver(m),
    });
  }

  /** Binds every listener; resolves with the ports actually bound. On any failure, closes what was bound and rejects. */
  async listen(): Promise<BoundListener[]> {
    if (this.state !== 'new') throw new Error(`listen() called on a transport layer that is ${this.state}`);
    this.state = 'binding';
    try {
      for (const spec of this.opts.listeners) {
        const address = normaliseAddress(spec.address);
        const family = familyOf(address);
        if (!family) throw new Error(`listener address '${spec.address}' is not an IP address`);
        if (spec.transport === 'udp') {
          this.udp.push(
            await UdpListener.bind(address, spec.port, family, {
              maxMessageSize: this.opts.maxMessageSize,
              bufferSize: this.opts.udpBufferSize ?? DEFAULT_UDP_BUFFER,
              stats: this.counters,
              deliver: (m) => this.udpQueue.push(m),
              report: (e) => this.report(e),
            }),
          );
        } else if (spec.transport === 'tcp' || spec.transport === 'tls') {
          this.streams.push(
            await StreamListener.listen(spec.transport, address, spec.port, family, this.tls, {
              limiter: this.limiter,
              maxPerSource: this.opts.maxConnectionsPerSource,
              handshakeTimeoutMs: this.opts.readTimeoutMs,
              stats: this.counters,
              adopt: (socket, transport, release) => this.adoptInbound(socket, transport, release),
              report: (e) => this.report(e),
              isClosing: () => this.state === 'closed',
            }),
          );
        } else {
          throw new Error(`unknown transport '${String(spec.transport)}'`);
        }
      }
    } catch (e) {
      await this.close();
      throw e;
    }
    this.state = 'listening';
    return this.listeners();
  }

  /** The bound listeners, in the order given. */
  listeners(): BoundListener[] {
    return [
      ...this.udp.map((l) => ({ transport: 'udp' as const, ...l.local })),
      ...this.streams.map((l) => ({ transport: l.transport, ...l.local })),
    ];
  }

  /** The bound address of the first listener of that transport and family (may be a wildcard address). */
  local(transport: TransportName, family: AddressFamily): Endpoint | undefined {
    const l =
      transport === 'udp'
        ? this.udp.find((u) => u.family === family)
        : this.streams.find((s) => s.transport === transport && s.family === family);
    return l ? { ...l.local } : undefined;
  }

  /**
   * Sends one message. Never throws; `cb` is always called, once, asynchronously.
   * UDP: one datagram from our listener of the target's family. TCP/TLS: on the connection
   * `connectionId` if still open, else any open connection to the target (inbound or outbound,
   * RFC 3261 §18.1.1, §18.2.2), else a new one (bytes queued while it connects).
   */
  send(data: Buffer, target: SendTarget, cb?: Callback): void {
    let called = false;
    const done: Callback = (err) => {
      if (called) return;
      called = true;
      if (err) {
        if (!this.reported.has(err)) {
          this.report(err instanceof TransportError ? err : this.targetError('send-failed', describeError(err), target, err));
        }
      } else {
        this.counters.messagesOut++;
      }
      if (cb) this.callUser(() => cb(err));
    };
    try {
      if (this.state !== 'listening') {
        this.failSoon(done, this.targetError('not-listening', `cannot send: transport layer is ${this.state}`, target));
        return;
      }
      if (target.transport === 'udp') this.sendUdp(data, target, done);
      else if (target.transport === 'tcp' || target.transport === 'tls') this.sendStream(data, target, done);
      else this.failSoon(done, this.targetError('bad-target', `unknown transport '${String(target.transport)}'`, target));
    } catch (e) {
      this.failSoon(done, this.targetError('send-failed', describeError(e), target, e));
    }
  }

  /** Swaps the TLS certificate/key/CA for connections made from now on; throws (keeping the old one) if unusable. */
  reloadTls(tls: TlsSettings): void {
    checkTlsSettings(tls);
    this.tls = tls;
    for (const s of this.streams) s.setSecureContext(tls);
  }

  stats(): TransportStats {
    return { ...this.counters, connections: this.table.size, dropped: { ...this.counters.dropped }, closed: { ...this.counters.closed } };
  }

  /** Closes every socket and clears every timer the layer owns. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    this.state = 'closed';
    const waits: Promise<void>[] = [];
    for (const s of this.streams) waits.push(s.close());
    for (const c of this.table.all()) {
      c.destroy(undefined);
      waits.push(c.handleClosed);
    }
    for (const u of this.udp) waits.push(u.close());
    // The sockets read no more: what waits for a slice would reach a stack that is closing.
    this.udpQueue.clear();
    await Promise.all(waits);
  }

  private sendUdp(data: Buffer, target: SendTarget, done: Callback): void {
    const address = normaliseAddress(target.address);
    const family = familyOf(address);
    if (!family || !validPort(target.port)) {
      this.failSoon(done, this.targetError('bad-target', `not an IP address and port: ${target.address} ${target.port}`, target));
      return;
    }
    const listener = this.udp.find((u) => u.family === family);
    if (!listener) {
      this.failSoon(done, this.targetError('no-listener', `no udp listener for IPv${family}`, target));
      return;
    }
    listener.send(data, target.port, address, (err) => {
      if (err) {
        done(this.targetError('send-failed', `udp send: ${describeError(err)}`, target, err));
        return;
      }
      this.counters.datagramsOut++;
      this.counters.bytesOut += data.length;
      done();
    });
  }

  private sendStream(data: Buffer, target: SendTarget, done: Callback): void {
    const transport = target.transport as StreamTransportName;
    if (target.connectionId !== undefined) {
      const c = this.table.get(target.connectionId);
      if (c && c.state !== 'closed' && c.transport === transport) {
        c.send(data, done);
        return;
      }
    }
    const address = normaliseAddress(target.address);
    const family = familyOf(address);
    if (!family || !validPort(target.port)) {
      this.failSoon(done, this.targetError('bad-target', `not an IP address and port: ${target.address} ${target.port}`, target));
      return;
    }
    const existing = this.table.find(transport, address, target.port, target.servername);
    const connection = existing ?? this.connect(transport, address, target.port, family, target.servername);
    connection.send(data, done);
  }

  private connect(
    transport: StreamTransportName,
    address: string,
    port: number,
    family: AddressFamily,
    servername: string | undefined,
  ): StreamConnection {
    const localAddress = this.outboundLocalAddress(transport, family, address);
    let socket: Socket;
    if (transport === 'tcp') {
      socket = tcpConnect({ host: address, port, family, ...(localAddress ? { localAddress } : {}) });
    } else {
      const tls = this.tls;
      socket = tlsConnect({
        host: address,
        port,
        ...(localAddress ? { localAddress } : {}),
        // SNI carries names only (RFC 6066 §3); without a name the certificate is checked against the address.
        ...(servername && !familyOf(servername) ? { servername } : {}),
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls ? { cert: tls.cert, key: tls.key } : {}),
        rejectUnauthorized: tls?.rejectUnauthorized ?? true,
        minVersion: tls?.minVersion ?? 'TLSv1.2',
      });
    }
    const connection = new StreamConnection({
      id: this.nextConnectionId++,
      transport,
      direction: 'outbound',
      socket,
      established: false,
      remote: { address, port },
      ...(servername !== undefined ? { servername } : {}),
      settings: this.settings,
      timers: this.timers,
      stats: this.counters,
      events: this.connectionEvents,
    });
    this.table.add(connection);
    return connection;
  }

  private adoptInbound(socket: Socket, transport: StreamTransportName, release: () => void): void {
    if (this.state === 'closed' || socket.remoteAddress === undefined) {
      socket.destroy();
      release();
      return;
    }
    const connection = new StreamConnection({
      id: this.nextConnectionId++,
      transport,
      direction: 'inbound',
      socket,
      established: true,
      remote: { address: normaliseAddress(socket.remoteAddress), port: socket.remotePort ?? 0 },
      settings: this.settings,
      timers: this.timers,
      stats: this.counters,
      events: this.connectionEvents,
    });
    connection.handleClosed.then(release, release);
    this.table.add(connection);
  }

  /**
   * Outbound connections leave from our listening address when it is a specific one (so the
   * peer sees the address our Via names), unless that would cross between loopback and not.
   */
  private outboundLocalAddress(transport: StreamTransportName, family: AddressFamily, target: string): string | undefined {
    const l = this.streams.find((s) => s.transport === transport && s.family === family);
    if (!l || l.local.address === '0.0.0.0' || l.local.address === '::') return undefined;
    return isLoopback(l.local.address) === isLoopback(target) ? l.local.address : undefined;
  }

  /** Hands one message to the application; a throw there is counted and reported, never propagated. */
  private deliver(m: Inbound): void {
    this.counters.messagesIn++;
    try {
      this.opts.onMessage(m);
    } catch (e) {
      this.counters.handlerErrors++;
      this.report(
        new TransportError('handler-threw', `onMessage threw: ${describeError(e)}`, {
          transport: m.transport,
          remote: m.remote,
          ...(m.connectionId !== undefined ? { connectionId: m.connectionId } : {}),
          cause: e,
        }),
      );
    }
  }

  private report(e: TransportError): void {
    this.reported.add(e);
    if (!this.opts.onError) return;
    try {
      this.opts.onError(e);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  private callUser(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.counters.handlerErrors++;
      this.report(new TransportError('handler-threw', `send callback threw: ${describeError(e)}`, { cause: e }));
    }
  }

  private failSoon(done: Callback, err: TransportError): void {
    process.nextTick(() => done(err));
  }

  private targetError(code: TransportErrorCode, message: string, target: SendTarget, cause?: unknown): TransportError {
    return new TransportError(code, message, {
      transport: target.transport,
      remote: { address: target.address, port: target.port },
      ...(target.connectionId !== undefined ? { connectionId: target.connectionId } : {}),
      cause,
    });
  }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65535;
}
