// One TCP or TLS connection: frames what arrives, writes what is sent, and owns the timers that
// guard it (idle, read deadline, connect deadline, keep-alive pings). Every socket event handler
// is wrapped: nothing thrown inside escapes to the event loop.
import type { Socket } from 'node:net';
import { StreamFramer } from './stream-framer.js';
import type { FramerErrorCode } from './stream-framer.js';
import { TransportError, describeError } from './transport-error.js';
import type { TransportErrorCode } from './transport-error.js';
import { normaliseAddress } from './address.js';
import type { Endpoint, StreamTransportName, TransportStats, TransportTimers } from './types.js';

const PING = Buffer.from('\r\n\r\n');
const PONG = Buffer.from('\r\n');

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ConnectionSettings {
  maxMessageSize: number;
  maxHeaders: number;
  idleTimeoutMs: number;
  readTimeoutMs: number;
  keepAliveIntervalMs: number;
  connectTimeoutMs: number;
  maxWriteBuffer: number;
}

export interface ConnectionEvents {
  /** A framed message; the owner delivers it (and guards the application's handler). */
  message(connection: StreamConnection, data: Buffer): void;
  /** The connection is gone from the owner's point of view (its socket handle may close a little later). */
  closed(connection: StreamConnection, reason: TransportError | undefined): void;
  /** Something worth logging: limits, failures. */
  report(error: TransportError): void;
}

export interface ConnectionParams {
  id: number;
  transport: StreamTransportName;
  /** outbound = we opened it (keep-alive pings are ours to send, RFC 5626 §4.4.1). */
  direction: 'inbound' | 'outbound';
  socket: Socket;
  /** false for an outbound socket still connecting (or handshaking). */
  established: boolean;
  remote: Endpoint;
  servername?: string;
  settings: ConnectionSettings;
  timers: TransportTimers;
  stats: TransportStats;
  events: ConnectionEvents;
}

interface QueuedSend {
  data: Buffer;
  cb: (err?: Error) => void;
}

export class StreamConnection {
  readonly id: number;
  readonly transport: StreamTransportName;
  readonly direction: 'inbound' | 'outbound';
  readonly remote: Endpoint;
  readonly servername: string | undefined;
  local: Endpoint;
  state: ConnectionState;
  /** Resolves when the socket handle has closed. */
  readonly handleClosed: Promise<void>;

  private readonly socket: Socket;
  private readonly settings: ConnectionSettings;
  private readonly timers: TransportTimers;
  private readonly stats: TransportStats;
  private readonly events: ConnectionEvents;
  private readonly framer: StreamFramer;
  private queue: QueuedSend[] = [];
  private idleTimer: unknown = undefined;
  private readTimer: unknown = undefined;
  private connectTimer: unknown = undefined;
  private keepAliveTimer: unknown = undefined;
  private awaitingPong = false;
  /** Why we are closing, kept until the socket's 'close' so an 'error' after destroy() is not re-reported. */
  private failure: TransportError | undefined;

  constructor(p: ConnectionParams) {
    this.id = p.id;
    this.transport = p.transport;
    this.direction = p.direction;
    this.socket = p.socket;
    this.remote = p.remote;
    this.servername = p.servername;
    this.settings = p.settings;
    this.timers = p.timers;
    this.stats = p.stats;
    this.events = p.events;
    this.local = localOf(p.socket);
    this.state = p.established ? 'open' : 'connecting';
    this.framer = new StreamFramer(
      {
        maxMessageSize: p.settings.maxMessageSize,
        maxHeaders: p.settings.maxHeaders,
        keepAliveRole: p.direction === 'outbound' ? 'pinger' : 'responder',
      },
      {
        message: (data) => this.events.message(this, data),
        ping: () => this.answerPing(),
        pong: () => this.onPong(),
        error: (code, detail) => this.onFramingError(code, detail),
      },
    );

    this.handleClosed = new Promise<void>((resolve) => {
      this.socket.once('close', () => {
        this.guard(() => this.destroy(undefined));
        resolve();
      });
    });
    this.socket.on('error', (err) => this.guard(() => this.onSocketError(err)));
    this.socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    this.socket.setNoDelay?.(true); // SIP messages leave whole: Nagle only adds latency

    this.stats.connectionsOpened++;
    if (this.state === 'connecting') {
      this.socket.once(this.transport === 'tls' ? 'secureConnect' : 'connect', () => this.guard(() => this.onEstablished()));
      this.connectTimer = this.timers.setTimeout(
        () => this.guard(() => this.fail('connect-timeout', `no connection within ${this.settings.connectTimeoutMs} ms`)),
        this.settings.connectTimeoutMs,
      );
    } else {
      this.startIdleTimer();
    }
  }

  /** Sends one message: queued while connecting, written at once when open. Never throws; `cb` runs later. */
  send(data: Buffer, cb: (err?: Error) => void): void {
    if (this.state === 'closed') {
      const err = this.failure ?? this.error('connection-closed', 'connection closed');
      process.nextTick(cb, err);
      return;
    }
    if (this.state === 'connecting') {
      this.queue.push({ data, cb });
      return;
    }
    this.write(data, cb);
    this.startIdleTimer(); // sending is use: the connection is not idle
  }

  /** Closes the connection; `reason` is reported (undefined = a normal close). Idempotent. */
  destroy(reason: TransportError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (reason) {
      this.failure = reason;
      this.stats.closed[reason.code] = (this.stats.closed[reason.code] ?? 0) + 1;
    }
    this.clearTimers();
    this.framer.stop();
    this.socket.destroy();
    this.events.closed(this, reason);
    if (reason) this.events.report(reason);
    const queued = this.queue;
    this.queue = [];
    const queuedError = reason ?? this.error('connection-closed', 'connection closed before the bytes were sent');
    for (const q of queued) q.cb(queuedError);
  }

  private onEstablished(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.local = localOf(this.socket);
    this.clearTimer('connect');
    this.startIdleTimer();
    if (this.direction === 'outbound' && this.settings.keepAliveIntervalMs > 0) {
      this.keepAliveTimer = this.timers.setInterval(() => this.guard(() => this.sendPing()), this.settings.keepAliveIntervalMs);
    }
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) this.write(q.data, q.cb);
  }

  private write(data: Buffer, cb: (err?: Error) => void): void {
    if (this.socket.writableLength + data.length > this.settings.maxWriteBuffer) {
      const err = this.error('write-buffer-full', `more than ${this.settings.maxWriteBuffer} bytes waiting for the peer to read`);
      process.nextTick(cb, err);
      return;
    }
    this.socket.write(data, (err) => {
      if (err) {
        cb(this.error('send-failed', `write failed: ${describeError(err)}`, err));
        return;
      }
      this.stats.bytesOut += data.length;
      cb();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.stats.bytesIn += chunk.length;
    this.startIdleTimer();
    const framedBefore = this.framer.messages;
    this.framer.push(chunk);
    if (this.framer.isStopped) return; // closed while framing (limit hit, or a handler closed it)
    // The read deadline covers one message: from its first byte to its last.
    if (!this.framer.midMessage) {
      this.clearTimer('read');
    } else if (this.readTimer === undefined || this.framer.messages !== framedBefore) {
      this.clearTimer('read');
      this.readTimer = this.timers.setTimeout(
        () => this.guard(() => this.fail('read-timeout', `message incomplete after ${this.settings.readTimeoutMs} ms`)),
        this.settings.readTimeoutMs,
      );
    }
  }

  /** RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a single CRLF pong on the same flow. */
  private answerPing(): void {
    this.stats.pingsIn++;
    if (this.state !== 'open') return;
    this.stats.pongsOut++;
    this.socket.write(PONG);
  }

  private onPong(): void {
    this.stats.pongsIn++;
    this.awaitingPong = false;
  }

  /**
   * RFC 5626 §4.4.1: CRLFCRLF keep-alive on a flow we opened. A pong still missing when the next
   * ping is due is only counted: pings do not reset the idle timer, pongs (inbound bytes) do, so
   * a dead flow is closed by the idle timer.
   */
  private sendPing(): void {
    if (this.state !== 'open') return;
    if (this.awaitingPong) this.stats.pongsMissed++;
    this.awaitingPong = true;
    this.stats.pingsOut++;
    this.socket.write(PING);
  }

  private onFramingError(code: FramerErrorCode, detail: string): void {
    // The stream cannot be resynchronised: close it (RFC 3261 §18.3 leaves no other choice).
    this.stats.dropped[code] = (this.stats.dropped[code] ?? 0) + 1;
    this.fail(code, detail);
  }

  private onSocketError(err: Error): void {
    if (this.state === 'closed') return; // destroy() already reported why
    const code: TransportErrorCode = this.state === 'connecting' ? 'connect-failed' : 'socket-error';
    this.destroy(this.error(code, `${this.transport} ${describeError(err)}`, err));
  }

  private fail(code: TransportErrorCode, detail: string): void {
    this.destroy(this.error(code, detail));
  }

  private startIdleTimer(): void {
    if (this.state !== 'open') return;
    if (this.idleTimer !== undefined) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = this.timers.setTimeout(
      () => this.guard(() => this.fail('idle-timeout', `idle for ${this.settings.idleTimeoutMs} ms`)),
      this.settings.idleTimeoutMs,
    );
  }

  private clearTimer(which: 'read' | 'connect'): void {
    if (which === 'read' && this.readTimer !== undefined) {
      this.timers.clearTimeout(this.readTimer);
      this.readTimer = undefined;
    } else if (which === 'connect' && this.connectTimer !== undefined) {
      this.timers.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
  }

  private clearTimers(): void {
    if (this.idleTimer !== undefined) this.timers.clearTimeout(this.idleTimer);
    if (this.keepAliveTimer !== undefined) this.timers.clearInterval(this.keepAliveTimer);
    this.idleTimer = undefined;
    this.keepAliveTimer = undefined;
    this.clearTimer('read');
    this.clearTimer('connect');
  }

  private error(code: TransportErrorCode, message: string, cause?: unknown): TransportError {
    return new TransportError(code, message, { transport: this.transport, remote: this.remote, connectionId: this.id, cause });
  }

  /** Runs a handler body; anything thrown is a bug here: counted, reported, and the connection closed. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      try {
        this.destroy(this.error('internal', `connection handler threw: ${describeError(e)}`, e));
      } catch {
        // destroy() itself failing leaves nothing more to do safely
      }
    }
  }
}

function localOf(socket: Socket): Endpoint {
  return { address: normaliseAddress(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
}
