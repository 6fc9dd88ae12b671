// Lines gathered in a buffered destination below its `minLength` would wait for the next ones:
// a flush at most `delayMs` after a write bounds how late a line reaches its file or console.
// The timer runs once more after the last write, so that a flush that met a write in flight is
// repeated; it never keeps the process alive.
export class DelayedFlush {
  private timer: NodeJS.Timeout | undefined;
  private wroteSinceFlush = false;

  constructor(
    private readonly delayMs: number,
    private readonly flush: () => void,
  ) {}

  /** A line was written. */
  wrote(): void {
    this.wroteSinceFlush = true;
    if (this.timer === undefined) this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => this.fire(), this.delayMs);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.flush();
    if (this.wroteSinceFlush) {
      this.wroteSinceFlush = false;
      this.arm();
    }
  }
}
