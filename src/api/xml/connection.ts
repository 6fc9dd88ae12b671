// One XML client connection: frames what it sends, hands requests to the engine and writes
// every result back with that request's echo.
import type { Socket } from 'node:net';
import { XML_TEXT, echoOf, extractRequest, isFinalResult, renderResponse } from './codec.js';
import type { ClickToCallFields, XmlEcho, XmlResult } from './codec.js';
import { XmlFramer } from './framer.js';
import type { FramedItem } from './framer.js';
import type {
  XmlClient,
  XmlLogger,
  XmlRequestHandler,
  XmlResultSink,
  XmlServerCounters,
  XmlTimers,
} from './types.js';

export interface XmlConnectionSettings {
  readonly maxDocumentSize: number;
  readonly maxOpenRequests: number;
  /** Bytes queued for a client that does not read before it is dropped. */
  readonly maxWriteBufferBytes: number;
  /** Close a connection with no open request after this long without input; 0 = never. */
  readonly idleTimeoutMs: number;
  /** How long a closing connection may take to flush before it is destroyed. */
  readonly closeGraceMs: number;
  readonly secret: string | undefined;
  readonly handler: XmlRequestHandler;
  readonly counters: XmlServerCounters;
  readonly logger: XmlLogger;
  readonly timers: XmlTimers;
  readonly onInternalError: (err: unknown) => void;
}

export class XmlConnection {
  readonly id: number;
  readonly client: XmlClient;
  readonly #socket: Socket;
  readonly #settings: XmlConnectionSettings;
  readonly #framer: XmlFramer;
  #openRequests = 0;
  #closing = false;
  #closed = false;
  #peerEnded = false;
  #idleTimer: unknown = null;
  #graceTimer: unknown = null;
  /** Answers written in this event-loop turn, sent together at its end (#flush). */
  #pending = '';
  #flushScheduled = false;
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const text = this.#pending;
    this.#pending = '';
    if (text !== '' && !this.#closed && !this.#socket.destroyed && this.#socket.writable) this.#socket.write(text);
  };

  constructor(id: number, socket: Socket, client: XmlClient, settings: XmlConnectionSettings, onClosed: (c: XmlConnection) => void) {
    this.id = id;
    this.client = client;
    this.#socket = socket;
    this.#settings = settings;
    this.#framer = new XmlFramer({ maxDocumentSize: settings.maxDocumentSize });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#guard(() => this.#onData(chunk)));
    socket.on('end', () => this.#guard(() => this.#onPeerEnd()));
    socket.on('error', (err) => {
      settings.logger.debug({ client, err: err.message }, 'xml connection error');
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#clearTimers();
      onClosed(this);
    });
    this.#armIdleTimer();
  }

  get openRequests(): number {
    return this.#openRequests;
  }

  /** Stops reading, flushes what was written, then closes (destroys after the grace time). */
  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#clearIdleTimer();
    this.#flush();
    this.#socket.end(() => this.#socket.destroy());
    this.#graceTimer = this.#settings.timers.setTimeout(() => this.#socket.destroy(), this.#settings.closeGraceMs);
  }

  /** Closes at once, discarding unsent answers. */
  destroy(): void {
    this.#closing = true;
    this.#pending = '';
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closing || this.#closed) return;
    this.#armIdleTimer();
    this.#handleItems(this.#framer.push(chunk), performance.now());
  }

  #onPeerEnd(): void {
    // The client half-closed: answer what it sent, keep writing results of open requests,
    // and end our side once none is left.
    this.#peerEnded = true;
    if (!this.#closing) this.#handleItems(this.#framer.end(), performance.now());
    if (this.#openRequests === 0) this.close();
  }

  /** `readAt`: when the bytes that completed these documents were read (setup-latency metric). */
  #handleItems(items: FramedItem[], readAt: number): void {
    for (const item of items) {
      if (this.#closing || this.#closed) return;
      this.#settings.counters.documents++;
      if (item.kind === 'error') {
        this.#settings.counters.errors++;
        this.#settings.logger.info({ client: this.client, reason: item.reason, detail: item.message }, 'xml document refused');
        const text = item.reason === 'too-large' ? XML_TEXT.tooLarge : XML_TEXT.parseError;
        this.write(renderResponse(null, { code: 400, text }));
        if (item.fatal) this.close();
        continue;
      }
      const document = item.document;
      const echo = echoOf(document);
      const extraction = extractRequest(document, this.#settings.secret);
      if (!extraction.ok) {
        if (extraction.result.code === 400) this.#settings.counters.errors++;
        else this.#settings.counters.refusedRequests++;
        this.#settings.logger.info({ client: this.client, code: extraction.result.code, text: extraction.result.text }, 'xml request refused');
        this.write(renderResponse(echo, extraction.result));
        continue;
      }
      if (this.#openRequests >= this.#settings.maxOpenRequests) {
        this.#settings.counters.refusedRequests++;
        this.write(renderResponse(echo, { code: 503, text: XML_TEXT.tooManyRequests }));
        continue;
      }
      this.#submit(extraction.fields, echo, readAt);
    }
  }

  #submit(fields: ClickToCallFields, echo: XmlEcho | null, receivedAt: number): void {
    this.#openRequests++;
    const sink = new RequestSink(this, echo);
    try {
      this.#settings.handler.submit({ ...fields, client: this.client, receivedAt }, sink);
    } catch (err) {
      this.#internalError(err);
      sink.result({ code: 500, text: XML_TEXT.internalError });
    }
  }

  /** Called by a sink once its request got its final result. */
  requestFinished(): void {
    this.#openRequests--;
    if (this.#openRequests === 0) {
      if (this.#peerEnded) this.close();
      else this.#armIdleTimer();
    }
  }

  /** Writes an answer unless the connection is gone; drops a client that does not read. */
  write(text: string): void {
    if (this.#closed || this.#socket.destroyed || !this.#socket.writable) return;
    // The answers of one event-loop turn (many calls' results on a pipelining client) leave as
    // one string in one socket write: not a write (a queued chunk object, its own encoding in
    // writev) per answer, four or five per call (issue 6).
    this.#pending += text;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
    const queued = this.#socket.writableLength + this.#pending.length;
    if (queued > this.#settings.maxWriteBufferBytes) {
      this.#settings.logger.warn(
        { client: this.client, queued },
        'xml client does not read its answers: connection closed',
      );
      this.destroy();
    }
  }

  /** Reports an exception that escaped our own code (decisions §7). */
  #internalError(err: unknown): void {
    this.#settings.counters.internalErrors++;
    this.#settings.logger.error({ client: this.client, err: err instanceof Error ? err.stack : String(err) }, 'xml connection internal error');
    try {
      this.#settings.onInternalError(err);
    } catch {
      // The reporter failing must not take the connection down with it.
    }
  }

  /** Socket event handlers never throw: an unexpected exception closes this connection. */
  #guard(action: () => void): void {
    try {
      action();
    } catch (err) {
      this.#internalError(err);
      this.destroy();
    }
  }

  /** For sinks: report an exception in their own work. */
  reportInternalError(err: unknown): void {
    this.#internalError(err);
  }

  #armIdleTimer(): void {
    this.#clearIdleTimer();
    const ms = this.#settings.idleTimeoutMs;
    if (ms <= 0 || this.#closing || this.#closed) return;
    this.#idleTimer = this.#settings.timers.setTimeout(() => {
      this.#idleTimer = null;
      // A call in progress may stay silent for minutes (ringing): only idle connections go.
      if (this.#openRequests > 0) return;
      this.#settings.logger.debug({ client: this.client }, 'xml connection idle: closed');
      this.close();
    }, ms);
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== null) this.#settings.timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #clearTimers(): void {
    this.#clearIdleTimer();
    if (this.#graceTimer !== null) this.#settings.timers.clearTimeout(this.#graceTimer);
    this.#graceTimer = null;
  }
}

/** The engine's handle on one request: renders each result with the request's echo. */
class RequestSink implements XmlResultSink {
  readonly #connection: XmlConnection;
  readonly #echo: XmlEcho | null;
  #finished = false;

  constructor(connection: XmlConnection, echo: XmlEcho | null) {
    this.#connection = connection;
    this.#echo = echo;
  }

  result(result: XmlResult): void {
    if (this.#finished) return;
    try {
      if (!Number.isInteger(result.code) || result.code < 100 || result.code > 699) {
        throw new RangeError(`result code out of range: ${String(result.code)}`);
      }
      const final = isFinalResult(result);
      if (final) this.#finished = true;
      this.#connection.write(renderResponse(this.#echo, result));
      if (final) this.#connection.requestFinished();
    } catch (err) {
      this.#connection.reportInternalError(err);
    }
  }
}
