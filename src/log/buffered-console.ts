// The console when it is not a terminal (a pipe to a supervisor, journald, a file): process.stdout
// writes to a pipe synchronously on Linux, one system call per line, and blocks the event loop
// whenever the reader falls behind — under load, part of the request→INVITE tail (issue 6).
// Here lines gather up to `minLength` bytes and a LineWriter writes them to the descriptor
// asynchronously, at most `flushDelayMs` late; what is gathered is written synchronously at close and
// when the process exits (an uncaught exception included). A console that fails (EPIPE: the
// reader went away) is given up: its lines are dropped, the process goes on.
import type { DestinationStream } from 'pino';
import { DelayedFlush } from './delayed-flush.js';
import { LineWriter } from './line-writer.js';

export interface BufferedConsoleOptions {
  /** The descriptor (default 1, stdout). */
  fd?: number;
  /** Bytes gathered before a write system call (default 64 KiB: one LineWriter chunk). */
  minLength?: number;
  /** Gathered lines are written at most this many milliseconds late (default 100). */
  flushDelayMs?: number;
  /** Bytes held while the reader is slower than the log; beyond it lines are dropped (default 4 MiB). */
  maxBuffered?: number;
}

function report(text: string): void {
  try {
    process.stderr.write(text + '\n');
  } catch {
    /* nowhere left to say it */
  }
}

export class BufferedConsole implements DestinationStream {
  private out: LineWriter | undefined;
  private readonly delayedFlush: DelayedFlush;
  private readonly onExit = (): void => this.flushSync();
  private dropped = 0;

  constructor(opts: BufferedConsoleOptions = {}) {
    // The descriptor is not ours to close (stdout): a later open could take its number.
    const out = new LineWriter({ fd: opts.fd ?? 1, ownsFd: false, minLength: opts.minLength ?? 64 * 1024, maxLength: opts.maxBuffered ?? 4 * 1024 * 1024 });
    out.on('error', () => this.giveUp());
    out.on('drop', () => {
      // Said once, on stderr (the file, when LogFilename is set, still has every line).
      if (this.dropped++ === 0) report('clicktocall: stdout falls more than its buffer behind: console log lines are dropped');
    });
    this.out = out;
    this.delayedFlush = new DelayedFlush(opts.flushDelayMs ?? 100, () => {
      if (this.out !== undefined && !this.out.destroyed) this.out.flush();
    });
    process.on('exit', this.onExit);
  }

  /** Lines lost: the console failed, or its reader fell more than maxBuffered behind. */
  get droppedLines(): number {
    return this.dropped;
  }

  /** One pino line. Never throws. */
  write(line: string): boolean {
    const out = this.out;
    if (out === undefined) {
      this.dropped++;
      return true;
    }
    out.write(line);
    this.delayedFlush.wrote();
    return true;
  }

  /** Writes what is gathered now, blocking; the console stays open. */
  flushSync(): void {
    const out = this.out;
    if (out === undefined || out.destroyed) return;
    try {
      out.flushSync();
    } catch {
      // A write in flight or a broken pipe: the asynchronous write finishes or fails on its own.
    }
  }

  /** At the logger's close: what is gathered is written now; the console stays open for late lines. */
  close(): void {
    this.flushSync();
  }

  private giveUp(): void {
    const out = this.out;
    this.out = undefined;
    this.delayedFlush.stop();
    process.off('exit', this.onExit);
    try {
      out?.destroy();
    } catch {
      /* already gone */
    }
  }
}
