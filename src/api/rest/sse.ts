/**
 * One Server-Sent Events stream (WHATWG HTML §9.2): `id:` + `data:` (one line of JSON) per
 * event, a `: ping` comment every heartbeat so proxies and the idle timeout keep the connection,
 * `retry:` once at the start. A client that reads too slowly (more than `maxBufferedBytes`
 * unsent) is disconnected: it reconnects with `Last-Event-ID` and loses nothing still held.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { TimerHandle, TimerHost } from '../../sip/timer.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;
/** Suggested reconnection delay for EventSource clients. */
export const RETRY_MS = 3000;

export interface SseOptions {
  timers: TimerHost;
  heartbeatMs?: number;
  maxBufferedBytes?: number;
  /** Called once when the stream ends, whoever ended it. */
  onClose: () => void;
}

export class SseStream {
  private closed = false;
  private heartbeat: TimerHandle | undefined;
  private readonly res: ServerResponse;

  constructor(reply: FastifyReply, private readonly opts: SseOptions) {
    // The stream outlives the handler: Fastify leaves the response to us.
    reply.hijack();
    this.res = reply.raw;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // One stream per connection: when it ends (call over, shutdown) the socket goes too.
      connection: 'close',
      // nginx and similar proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    this.res.write(`retry: ${RETRY_MS}\n\n`);
    const end = () => this.close();
    this.res.on('close', end);
    this.res.on('error', end);
    this.arm();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** One event: `id: <id>` then the JSON on one `data:` line (JSON.stringify escapes newlines). */
  send(id: number | string | undefined, data: unknown): void {
    if (this.closed) return;
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    this.write(`${idLine}data: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (this.closed) return;
    this.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== undefined) this.opts.timers.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
    if (!this.res.writableEnded) this.res.end();
    this.opts.onClose();
  }

  private write(text: string): void {
    if (this.res.destroyed) {
      this.close();
      return;
    }
    this.res.write(text);
    if (this.res.writableLength > (this.opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) {
      this.res.destroy();
      this.close();
    }
  }

  private arm(): void {
    this.heartbeat = this.opts.timers.setTimeout(() => {
      this.heartbeat = undefined;
      if (this.closed) return;
      this.comment('ping');
      this.arm();
    }, this.opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  }
}
