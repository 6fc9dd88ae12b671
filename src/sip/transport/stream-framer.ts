// Cuts a byte stream (TCP, TLS) into SIP messages. It reads only what framing needs: where the
// header block ends, and the Content-Length value. Everything else is the parser's business.
//
// RFC 3261 §18.3: on a stream, Content-Length MUST be present and gives the body size; a missing
// one is taken as 0 here. A non-numeric, negative or conflicting one, or a message over the size
// limit, leaves the stream impossible to resynchronise: the framer reports an error and stops.
// RFC 3261 §7.5: CRLFs before a start line are ignored. RFC 5626 §3.5.1: CRLFCRLF is a keep-alive
// ping (answered by the caller with one CRLF); a lone CRLF is a pong.
//
// Copies: a message that lies whole in one chunk is handed up as a view of that chunk; bytes are
// only copied into an accumulator when a message spans chunks.

export type FramerErrorCode = 'message-too-large' | 'bad-content-length' | 'too-many-headers';

export interface FramerLimits {
  maxMessageSize: number;
  /** Header lines (the start line not counted; folded continuation lines counted). */
  maxHeaders: number;
  /**
   * RFC 5626 §4.4.1: only the side that opened a flow pings. 'responder' (default, flows opened
   * by the peer): CRLFCRLF is a ping. 'pinger' (flows we opened): every CRLF is a pong, since
   * two pongs in a row would otherwise read as a ping.
   */
  keepAliveRole?: 'responder' | 'pinger';
}

export interface FramerSink {
  /** One message (headers + body). A view: the framer never writes into it afterwards. */
  message(data: Buffer): void;
  /** CRLFCRLF seen between messages: answer with a CRLF pong. */
  ping(): void;
  /** A lone CRLF seen between messages. */
  pong(): void;
  /** The stream cannot be framed any further; the framer has stopped. */
  error(code: FramerErrorCode, detail: string): void;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

const BETWEEN = 0; // before a start line: skipping CRLFs
const HEADERS = 1; // looking for the empty line that ends the header block
const BODY = 2; // waiting for Content-Length bytes of body

const NOT_CONTENT_LENGTH = -1;
const BAD_CONTENT_LENGTH = -2;
/** Any Content-Length above this is only ever "too big"; stops digit accumulation overflowing. */
const CONTENT_LENGTH_CAP = 0x7fffffff;
const CONTENT_LENGTH_NAME = 'content-length';
const EMPTY = Buffer.alloc(0);

export class StreamFramer {
  private readonly limits: FramerLimits;
  private readonly sink: FramerSink;
  private readonly pinger: boolean;

  // Bytes not yet consumed; acc[0] is the start of the current message (or of pending CRLF bytes).
  private acc: Buffer = EMPTY;
  private accLen = 0;
  /** acc was allocated here, so its spare capacity beyond accLen may be written. */
  private accOwned = false;

  private phase = BETWEEN;
  private crlfRun = 0; // CRLF pairs seen in a row between messages
  private pongReported = false;

  // Header-scan state, as offsets from the start of the current message, so it survives the
  // move of a partial message into the accumulator and no byte is scanned twice.
  private searchFrom = 0;
  private lineStart = 0;
  private lines = 0;
  private contentLength = -1;
  private bodyStart = -1;

  private stopped = false;
  /** Messages handed up so far. */
  messages = 0;

  constructor(limits: FramerLimits, sink: FramerSink) {
    this.limits = limits;
    this.sink = sink;
    this.pinger = limits.keepAliveRole === 'pinger';
  }

  /** True while part of a message is held (the read deadline runs). */
  get midMessage(): boolean {
    return this.phase !== BETWEEN && !this.stopped;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.accLen;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops framing and releases the held bytes; later pushes are ignored. */
  stop(): void {
    this.stopped = true;
    this.acc = EMPTY;
    this.accLen = 0;
    this.accOwned = false;
  }

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.accLen === 0) {
      this.feed(chunk, false);
      return;
    }
    this.append(chunk);
    this.feed(this.acc.subarray(0, this.accLen), true);
  }

  private append(chunk: Buffer): void {
    const need = this.accLen + chunk.length;
    if (!this.accOwned || need > this.acc.length) {
      // Doubling keeps a message arriving in many small chunks linear in its size.
      const grown = Buffer.allocUnsafe(Math.max(need, this.accLen * 2, 4096));
      this.acc.copy(grown, 0, 0, this.accLen);
      this.acc = grown;
      this.accOwned = true;
    }
    chunk.copy(this.acc, this.accLen);
    this.accLen = need;
  }

  /** Frames as much of `data` as possible; keeps the unconsumed tail. */
  private feed(data: Buffer, fromAcc: boolean): void {
    const end = data.length;
    let pos = 0; // start of the current message, or of the next unread byte between messages
    while (pos < end && !this.stopped) {
      if (this.phase === BETWEEN) {
        const b = data[pos];
        if (b === CR) {
          if (pos + 1 >= end) break; // wait: is it CRLF?
          if (data[pos + 1] === LF) {
            pos += 2;
            if (this.pinger) {
              this.sink.pong();
              continue;
            }
            this.crlfRun++;
            if (this.crlfRun === 2) {
              this.crlfRun = 0;
              this.pongReported = false;
              this.sink.ping();
            }
            continue;
          }
          pos++; // a stray CR: ignore it like a CRLF (RFC 3261 §7.5 spirit)
          this.endCrlfRun();
          continue;
        }
        if (b === LF) {
          pos++;
          this.endCrlfRun();
          continue;
        }
        this.endCrlfRun();
        this.phase = HEADERS;
        this.searchFrom = 0;
        this.lineStart = 0;
        this.lines = 0;
        this.contentLength = -1;
        this.bodyStart = -1;
      }

      if (this.phase === HEADERS && !this.scanHeaders(data, pos, end)) break;

      if (this.phase === BODY) {
        const total = this.bodyStart + (this.contentLength < 0 ? 0 : this.contentLength);
        if (end - pos < total) break;
        const message = data.subarray(pos, pos + total);
        pos += total;
        this.phase = BETWEEN;
        this.messages++;
        this.sink.message(message);
      }
    }
    if (this.stopped) return;
    // A lone CRLF at the end of what we have: report the pong now rather than wait for the next
    // message (if a second CRLF follows, it is a ping after all; the pong count is then one high).
    if (this.phase === BETWEEN && this.crlfRun === 1 && !this.pongReported) {
      this.pongReported = true;
      this.sink.pong();
    }
    if (pos === 0 && fromAcc) return; // nothing consumed: the accumulator stays as it is
    if (pos >= end) {
      this.acc = EMPTY;
      this.accLen = 0;
      this.accOwned = false;
      return;
    }
    // Keep the tail as a view. Its capacity equals its length, so the next append copies it
    // into a fresh buffer and nothing handed up is ever overwritten.
    this.acc = data.subarray(pos);
    this.accLen = this.acc.length;
    this.accOwned = false;
  }

  private endCrlfRun(): void {
    if (this.crlfRun === 1 && !this.pongReported) this.sink.pong();
    this.crlfRun = 0;
    this.pongReported = false;
  }

  /**
   * Scans header lines of the message starting at `base`. Returns true when the header block
   * is complete (phase is then BODY), false when more bytes are needed or an error stopped us.
   */
  private scanHeaders(data: Buffer, base: number, end: number): boolean {
    const { maxMessageSize, maxHeaders } = this.limits;
    for (;;) {
      const lf = data.indexOf(LF, base + this.searchFrom);
      if (lf < 0) {
        this.searchFrom = end - base;
        if (this.searchFrom > maxMessageSize) {
          this.fail('message-too-large', `header block exceeds ${maxMessageSize} bytes`);
        }
        return false;
      }
      const lineStart = base + this.lineStart;
      let lineEnd = lf;
      if (lineEnd > lineStart && data[lineEnd - 1] === CR) lineEnd--;
      const next = lf + 1 - base;
      if (lineEnd === lineStart) {
        // The empty line: RFC 3261 §7 "CRLF" ending the header block (a bare LF tolerated).
        this.bodyStart = next;
        const total = next + (this.contentLength < 0 ? 0 : this.contentLength);
        if (total > maxMessageSize) {
          this.fail('message-too-large', `message of ${total} bytes exceeds ${maxMessageSize}`);
          return false;
        }
        this.phase = BODY;
        return true;
      }
      this.lines++;
      if (this.lines > 1) {
        if (this.lines - 1 > maxHeaders) {
          this.fail('too-many-headers', `more than ${maxHeaders} header lines`);
          return false;
        }
        const value = readContentLength(data, lineStart, lineEnd);
        if (value === BAD_CONTENT_LENGTH) {
          this.fail('bad-content-length', `unusable Content-Length: '${printable(data, lineStart, lineEnd)}'`);
          return false;
        }
        if (value !== NOT_CONTENT_LENGTH) {
          if (this.contentLength >= 0 && this.contentLength !== value) {
            this.fail('bad-content-length', `conflicting Content-Length values ${this.contentLength} and ${value}`);
            return false;
          }
          this.contentLength = value;
        }
      }
      this.lineStart = next;
      this.searchFrom = next;
      if (next > maxMessageSize) {
        this.fail('message-too-large', `header block exceeds ${maxMessageSize} bytes`);
        return false;
      }
    }
  }

  private fail(code: FramerErrorCode, detail: string): void {
    this.stop();
    this.sink.error(code, detail);
  }
}

/**
 * The Content-Length value if the line [start, end) is a Content-Length header (long form or
 * compact 'l', any case, whitespace allowed before the colon), NOT_CONTENT_LENGTH if it is some
 * other header, BAD_CONTENT_LENGTH if the value is not a plain non-negative decimal.
 */
export function readContentLength(data: Buffer, start: number, end: number): number {
  const first = data[start]! | 0x20;
  if (first !== 0x63 /* c */ && first !== 0x6c /* l */) return NOT_CONTENT_LENGTH;
  let colon = start;
  while (colon < end && data[colon] !== COLON) colon++;
  if (colon === end) return NOT_CONTENT_LENGTH;
  let nameEnd = colon;
  while (nameEnd > start && (data[nameEnd - 1] === SP || data[nameEnd - 1] === HT)) nameEnd--;
  const nameLength = nameEnd - start;
  if (nameLength === 1) {
    if (first !== 0x6c) return NOT_CONTENT_LENGTH;
  } else if (nameLength === CONTENT_LENGTH_NAME.length) {
    for (let i = 0; i < nameLength; i++) {
      if ((data[start + i]! | 0x20) !== CONTENT_LENGTH_NAME.charCodeAt(i)) return NOT_CONTENT_LENGTH;
    }
  } else {
    return NOT_CONTENT_LENGTH;
  }
  let v = colon + 1;
  while (v < end && (data[v] === SP || data[v] === HT)) v++;
  let vEnd = end;
  while (vEnd > v && (data[vEnd - 1] === SP || data[vEnd - 1] === HT)) vEnd--;
  if (v === vEnd) return BAD_CONTENT_LENGTH;
  let n = 0;
  for (let i = v; i < vEnd; i++) {
    const digit = data[i]! - 0x30;
    if (digit < 0 || digit > 9) return BAD_CONTENT_LENGTH;
    if (n <= CONTENT_LENGTH_CAP) n = n * 10 + digit;
  }
  return n > CONTENT_LENGTH_CAP ? CONTENT_LENGTH_CAP + 1 : n;
}

/** A short, log-safe rendering of a header line. */
function printable(data: Buffer, start: number, end: number): string {
  return data.toString('latin1', start, Math.min(end, start + 80)).replace(/[^\x20-\x7e]/g, '?');
}
