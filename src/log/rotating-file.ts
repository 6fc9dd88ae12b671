// The log file (LogFilename): JSON lines, a new file after LogFileMaxLines lines.
//
// Each pino write is exactly one line, so counting writes counts lines. Writes go through an
// asynchronous LineWriter (line-writer.ts; file descriptor opened here, so a rename during
// rotation can never race an asynchronous open); lines gather in memory up to `minLength`
// bytes and reach the disk at most `flushDelayMs` later. A file that cannot be written
// (permission, disk full) never throws into the caller: it is reported once on stderr, lines
// are dropped, and the file is tried again every `retryDelayMs`.
import fs from 'node:fs';
import type { DestinationStream } from 'pino';
import { DelayedFlush } from './delayed-flush.js';
import { LineWriter } from './line-writer.js';

export interface RotatingFileOptions {
  /** LogFilename. */
  file: string;
  /** LogFileMaxLines: lines after which a new file is started; 0 means never. */
  maxLines: number;
  /** Old files kept as `<file>.1` (newest) … `<file>.<keep>` (default 5; 0 keeps none). */
  keep?: number;
  /** Bytes gathered before a write system call (default 64 KiB: one LineWriter chunk). */
  minLength?: number;
  /** Gathered lines reach the file at most this many milliseconds late (default 1000). */
  flushDelayMs?: number;
  /** Bytes held while the disk is slower than the log; beyond it lines are dropped (default 16 MiB). */
  maxBuffered?: number;
  /** After a failure, milliseconds before the file is opened again (default 30000). */
  retryDelayMs?: number;
  /** Where a failure is reported (default: one line on stderr). */
  report?: (text: string) => void;
  /** Clock for the retry delay (default Date.now). */
  now?: () => number;
}

const DEFAULT_KEEP = 5;
// A write hands its bytes to libuv's pool, whose thread then takes the event loop's core for a
// while: 64-KiB writes make a third as many as 16-KiB ones (this file and the console together:
// main-thread time in them 266 → 95 ms per 20 s at 2,000 sessions/s; issue 6). The flush delay
// still bounds how late a line lands.
const DEFAULT_MIN_LENGTH = 64 * 1024;
const DEFAULT_FLUSH_DELAY_MS = 1000;
const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
const DEFAULT_RETRY_DELAY_MS = 30_000;
const COUNT_CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
// Logs name callers and callees: not for every local user.
const FILE_MODE = 0o640;

function reportOnStderr(text: string): void {
  try {
    process.stderr.write(text + '\n');
  } catch {
    /* nowhere left to report to */
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A pino destination writing JSON lines to a file that rotates after `maxLines` lines. */
export class RotatingFileDestination implements DestinationStream {
  readonly file: string;
  private readonly maxLines: number;
  private readonly keep: number;
  private readonly minLength: number;
  private readonly maxBuffered: number;
  private readonly retryDelayMs: number;
  private readonly report: (text: string) => void;
  private readonly now: () => number;

  private current: LineWriter | undefined;
  private linesInFile = 0;
  private failing = false;
  private failedAt = 0;
  private rotateProblemReported = false;
  private dropped = 0;
  private readonly delayedFlush: DelayedFlush | undefined;
  private closed: Promise<void> | undefined;
  /** Files being flushed and closed (rotated away, or at close()). */
  private readonly ending = new Set<Promise<void>>();

  constructor(opts: RotatingFileOptions) {
    this.file = opts.file;
    this.maxLines = Math.max(0, Math.floor(opts.maxLines));
    this.keep = Math.max(0, Math.floor(opts.keep ?? DEFAULT_KEEP));
    this.minLength = opts.minLength ?? DEFAULT_MIN_LENGTH;
    this.maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.report = opts.report ?? reportOnStderr;
    this.now = opts.now ?? Date.now;
    this.delayedFlush = this.minLength > 0 ? new DelayedFlush(opts.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS, () => this.flushCurrent()) : undefined;
    this.open();
  }

  /** Lines written to the current file (including those it held when opened). */
  get lineCount(): number {
    return this.linesInFile;
  }

  /** Lines lost because the file could not be written. */
  get droppedLines(): number {
    return this.dropped;
  }

  /** True while the file cannot be written. */
  get isFailing(): boolean {
    return this.failing;
  }

  /** One pino line (always ends in a newline). Never throws. */
  write(line: string): boolean {
    if (this.closed !== undefined) {
      this.dropped++;
      return false;
    }
    if (this.maxLines > 0 && this.linesInFile >= this.maxLines && this.current !== undefined) {
      this.rotate();
    }
    let out = this.current;
    if (out === undefined || out.destroyed) {
      out = this.reopen();
      if (out === undefined) {
        this.dropped++;
        return true;
      }
    }
    this.linesInFile++;
    out.write(line);
    this.delayedFlush?.wrote();
    return true;
  }

  /** Asks for the gathered lines to be written; `cb` runs once they are. */
  flush(cb?: (err?: Error) => void): void {
    const out = this.current;
    if (out === undefined || out.destroyed) {
      cb?.();
      return;
    }
    out.flush(cb);
  }

  /** Writes the gathered lines now, blocking (for a process about to exit). */
  flushSync(): void {
    const out = this.current;
    if (out === undefined || out.destroyed) return;
    try {
      out.flushSync();
    } catch (err) {
      this.fail(err, 'write failed');
    }
  }

  /** Flushes every gathered line and closes the file(s). Later writes are dropped. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.delayedFlush?.stop();
    const out = this.current;
    this.current = undefined;
    if (out !== undefined) this.endInBackground(out);
    this.closed = Promise.all([...this.ending]).then(() => undefined);
    return this.closed;
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private open(): LineWriter | undefined {
    let fd: number;
    try {
      // 'a+': appends, and lets the lines an existing file already holds be counted.
      fd = fs.openSync(this.file, 'a+', FILE_MODE);
    } catch (err) {
      this.fail(err, 'cannot open');
      return undefined;
    }
    this.linesInFile = this.maxLines > 0 ? countLines(fd, this.maxLines) : 0;
    const out = new LineWriter({ fd, minLength: this.minLength, maxLength: this.maxBuffered });
    out.on('error', (err: Error) => this.onFileError(out, err));
    out.on('drop', () => this.onDrop());
    if (this.failing) {
      // Recovered only once a write reaches the disk (a full disk still opens).
      out.once('write', () => {
        if (!this.failing) return;
        this.failing = false;
        this.report(`clicktocall: log file ${this.file}: writing again (${this.dropped} lines dropped so far)`);
      });
    }
    this.current = out;
    return out;
  }

  /** After a failure (or pino ending the stream at exit), opens the file again when due. */
  private reopen(): LineWriter | undefined {
    this.current = undefined;
    if (this.failing && this.now() - this.failedAt < this.retryDelayMs) return undefined;
    if (this.failing) this.failedAt = this.now();
    return this.open();
  }

  private rotate(): void {
    const full = this.current;
    this.current = undefined;
    // The full file keeps its descriptor: lines still gathered for it land in it after the rename.
    if (full !== undefined && !full.destroyed) this.endInBackground(full);
    this.shiftOldFiles();
    this.open();
  }

  /** `<file>.<keep-1>` → `<file>.<keep>` … `<file>` → `<file>.1`; the oldest is replaced. */
  private shiftOldFiles(): void {
    if (this.keep === 0) {
      this.tryRotateStep(() => fs.unlinkSync(this.file));
      return;
    }
    for (let i = this.keep - 1; i >= 1; i--) {
      this.tryRotateStep(() => fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`));
    }
    this.tryRotateStep(() => fs.renameSync(this.file, `${this.file}.1`));
  }

  private tryRotateStep(step: () => void): void {
    try {
      step();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (!this.rotateProblemReported) {
        this.rotateProblemReported = true;
        this.report(`clicktocall: log file ${this.file}: cannot rotate: ${describe(err)}; the file keeps growing`);
      }
    }
  }

  private endInBackground(out: LineWriter): void {
    const done = new Promise<void>((resolve) => {
      out.once('close', resolve);
      out.once('error', () => resolve());
    });
    this.ending.add(done);
    void done.then(() => this.ending.delete(done));
    try {
      out.end();
    } catch {
      /* already destroyed: its 'close' has been or will be emitted */
    }
  }

  private onFileError(out: LineWriter, err: Error): void {
    if (out === this.current) this.current = undefined;
    this.fail(err, 'write failed');
    if (!out.destroyed) {
      try {
        out.destroy();
      } catch {
        /* closing a broken descriptor may fail too: nothing more to do */
      }
    }
  }

  private onDrop(): void {
    this.dropped++;
    if (!this.failing) {
      this.failing = true;
      this.failedAt = this.now();
      this.report(`clicktocall: log file ${this.file}: the disk is slower than the log; lines are dropped`);
    }
  }

  private fail(err: unknown, what: string): void {
    this.failedAt = this.now();
    if (this.failing) return;
    this.failing = true;
    this.report(`clicktocall: log file ${this.file}: ${what}: ${describe(err)}; log lines are dropped until it can be written`);
  }

  private flushCurrent(): void {
    const out = this.current;
    if (out !== undefined && !out.destroyed) out.flush();
  }
}

/** Newlines in an open file, counting no further than `limit` (bounds the start-up cost). */
function countLines(fd: number, limit: number): number {
  const chunk = Buffer.allocUnsafe(COUNT_CHUNK);
  let count = 0;
  let position = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, COUNT_CHUNK, position);
      if (n === 0) return count;
      position += n;
      const view = n === COUNT_CHUNK ? chunk : chunk.subarray(0, n);
      let at = view.indexOf(NEWLINE);
      while (at !== -1) {
        if (++count >= limit) return count;
        at = view.indexOf(NEWLINE, at + 1);
      }
    }
  } catch {
    return count; // unreadable: rotation merely comes later
  }
}
