// Log lines to a file descriptor, gathered as bytes and written asynchronously in large chunks.
//
// It stands where pino's SonicBoom stood (the console and the log file use the part of its
// interface they need), because of what SonicBoom's gathering cost under load (issue 6): it
// appends each line to a string and measures that string's UTF-8 length at every line, so the
// string is flattened again and again — an allocation quadratic in the chunk (with 12-KiB chunks
// instead of 4 the server's scavenges rose by 13 %) — and the gathered strings lived until their
// write, long enough to be copied by the garbage collector. Here each line is encoded at once
// into a reused chunk of bytes outside the heap: the line's string dies young, a larger chunk
// costs nothing more, and fewer, larger writes spare the event loop's core the system calls.
//
// Writes go through libuv's pool (fs.write) one at a time, in order; a short write is resumed,
// EAGAIN (a non-blocking pipe whose reader lags) is retried after `retryDelayMs`. Bytes waiting
// beyond `maxLength` make a line dropped ('drop'), never an unbounded queue. Any other write
// error is emitted ('error') and the writer is destroyed.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';

export interface LineWriterOptions {
  fd: number;
  /** Bytes gathered before a write starts (0: write as soon as the previous write is done). */
  minLength: number;
  /** Bytes waiting (gathered and being written) beyond which a line is dropped. */
  maxLength: number;
  /** Size of each reused chunk (default 64 KiB; a larger line gets a chunk of its own). */
  chunkBytes?: number;
  /** After EAGAIN, milliseconds before the write is tried again (default 100). */
  retryDelayMs?: number;
  /** Whether end() and destroy() close the descriptor (default true; false for stdout). */
  ownsFd?: boolean;
}

interface Chunk {
  buf: Buffer;
  /** Bytes filled. */
  len: number;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024;
const DEFAULT_RETRY_DELAY_MS = 100;
/** What flushSync sleeps on between EAGAINs (Atomics.wait needs a shared cell). */
const PAUSE_CELL = new Int32Array(new SharedArrayBuffer(4));
/** Chunks kept for reuse once written (beyond, they are left to the collector). */
const SPARE_CHUNKS = 4;

/**
 * Events: 'write' (bytes) after each successful write; 'drop' (line) for a line not kept;
 * 'error' (err) when a write fails, after which the writer is destroyed; 'close' once it is
 * done (end() or destroy(); the descriptor closed when it owns it).
 */
export class LineWriter extends EventEmitter {
  private readonly fd: number;
  private readonly minLength: number;
  private readonly maxLength: number;
  private readonly chunkBytes: number;
  private readonly retryDelayMs: number;
  private readonly ownsFd: boolean;
  /** Full chunks waiting, oldest first; the last one is being filled. */
  private readonly chunks: Chunk[] = [];
  private readonly spare: Buffer[] = [];
  /** Bytes gathered and not yet written (the chunk in flight included). */
  private waiting = 0;
  /** The chunk an asynchronous write has (always chunks[0]), and how much of it is written. */
  private inFlight = false;
  private writtenOfFirst = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushCallbacks: Array<(err?: Error) => void> = [];
  private ending = false;
  private isDestroyed = false;

  constructor(opts: LineWriterOptions) {
    super();
    this.fd = opts.fd;
    this.minLength = Math.max(0, opts.minLength);
    this.maxLength = opts.maxLength;
    this.chunkBytes = Math.max(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, 1024);
    this.retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.ownsFd = opts.ownsFd ?? true;
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** Bytes gathered and not yet written. */
  get pendingBytes(): number {
    return this.waiting;
  }

  /** Appends one line (its bytes as UTF-8). False when it was dropped or the writer is gone. */
  write(line: string): boolean {
    if (this.isDestroyed || this.ending) return false;
    // The chunk an asynchronous write has is never appended to: its range stays fixed.
    let last: Chunk | undefined = this.chunks[this.chunks.length - 1];
    if (last !== undefined && this.inFlight && this.chunks.length === 1) last = undefined;
    const room = last === undefined ? 0 : last.buf.length - last.len;
    // A line's UTF-8 length is at most 3 bytes per UTF-16 unit: measured only when it may not fit.
    const bytes = line.length * 3 <= room ? -1 : Buffer.byteLength(line);
    if (this.maxLength > 0 && this.waiting + (bytes < 0 ? line.length : bytes) > this.maxLength) {
      this.emit('drop', line);
      return false;
    }
    if (last === undefined || bytes > room) last = this.newChunk(bytes);
    const n = last.buf.write(line, last.len, 'utf8');
    last.len += n;
    this.waiting += n;
    if (!this.inFlight && this.retryTimer === undefined && this.waiting >= this.minLength) this.startWrite();
    return true;
  }

  /** Writes what is gathered now; `cb` runs once everything gathered so far is written (or failed). */
  flush(cb?: (err?: Error) => void): void {
    if (this.isDestroyed) {
      cb?.(new Error('log writer destroyed'));
      return;
    }
    if (this.waiting === 0) {
      if (cb) process.nextTick(cb);
      return;
    }
    if (cb) this.flushCallbacks.push(cb);
    if (!this.inFlight && this.retryTimer === undefined) this.startWrite();
  }

  /**
   * Writes what is gathered now, blocking (a process about to exit). The chunk an asynchronous
   * write has is left to it (its bytes may then land after these). Throws what the write throws.
   */
  flushSync(): void {
    if (this.isDestroyed) return;
    const from = this.inFlight ? 1 : 0;
    while (this.chunks.length > from) {
      const c = this.chunks[from]!;
      let off = from === 0 ? this.writtenOfFirst : 0;
      while (off < c.len) {
        try {
          off += fs.writeSync(this.fd, c.buf, off, c.len - off);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          // A non-blocking pipe that is full: its reader is expected to read what we wait to write.
          Atomics.wait(PAUSE_CELL, 0, 0, 5);
        }
      }
      this.waiting -= c.len - (from === 0 ? this.writtenOfFirst : 0);
      if (from === 0) this.writtenOfFirst = 0;
      this.chunks.splice(from, 1);
      this.recycle(c);
    }
    if (this.waiting === 0) this.settleFlushes();
  }

  /** Writes everything gathered, then closes ('close'). Later lines are dropped. */
  end(): void {
    if (this.isDestroyed || this.ending) return;
    this.ending = true;
    if (this.waiting === 0 && !this.inFlight) this.closeFd();
    else if (!this.inFlight && this.retryTimer === undefined) this.startWrite();
  }

  /** Closes now; what is gathered is lost. */
  destroy(): void {
    if (this.isDestroyed) return;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // A write in flight still holds the descriptor: it is closed when that write returns.
    if (!this.inFlight) this.closeFd();
    else this.isDestroyed = true;
    this.chunks.length = 0;
    this.waiting = 0;
    this.settleFlushes(new Error('log writer destroyed'));
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private newChunk(atLeast: number): Chunk {
    const size = Math.max(this.chunkBytes, atLeast);
    const buf = size === this.chunkBytes && this.spare.length > 0 ? this.spare.pop()! : Buffer.allocUnsafeSlow(size);
    const c = { buf, len: 0 };
    this.chunks.push(c);
    return c;
  }

  private recycle(c: Chunk): void {
    if (c.buf.length === this.chunkBytes && this.spare.length < SPARE_CHUNKS) this.spare.push(c.buf);
  }

  private startWrite(): void {
    // An empty chunk ahead (a '' line, then one too long for it) holds nothing to write.
    while (this.chunks.length > 1 && this.chunks[0]!.len === 0) this.recycle(this.chunks.shift()!);
    const c = this.chunks[0];
    if (c === undefined || c.len === 0) return;
    this.inFlight = true;
    fs.write(this.fd, c.buf, this.writtenOfFirst, c.len - this.writtenOfFirst, null, (err, n) => this.onWritten(err, n));
  }

  private onWritten(err: NodeJS.ErrnoException | null, n: number): void {
    this.inFlight = false;
    if (this.isDestroyed) {
      this.closeFd();
      return;
    }
    if (err) {
      if (err.code === 'EAGAIN') {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (!this.isDestroyed) this.startWrite();
        }, this.retryDelayMs);
        this.retryTimer.unref?.();
        return;
      }
      this.destroy();
      this.emit('error', err);
      return;
    }
    this.waiting -= n;
    this.writtenOfFirst += n;
    const c = this.chunks[0]!;
    if (this.writtenOfFirst >= c.len) {
      this.writtenOfFirst = 0;
      this.chunks.shift();
      this.recycle(c);
    }
    this.emit('write', n);
    if (this.waiting === 0) this.settleFlushes();
    if (this.waiting > 0 && (this.waiting >= this.minLength || this.flushCallbacks.length > 0 || this.ending)) this.startWrite();
    else if (this.ending && this.waiting === 0) this.closeFd();
  }

  private settleFlushes(err?: Error): void {
    if (this.flushCallbacks.length === 0) return;
    const cbs = this.flushCallbacks;
    this.flushCallbacks = [];
    for (const cb of cbs) cb(err);
  }

  private closeFd(): void {
    this.isDestroyed = true;
    if (this.ownsFd) fs.close(this.fd, () => this.emit('close'));
    else process.nextTick(() => this.emit('close'));
  }
}
