/**
 * WAL checkpoints of the record store, off the event loop. SQLite's automatic checkpoint runs
 * inside the commit that crosses `wal_autocheckpoint` pages: it copies the WAL into the database
 * and fsyncs both, and under load that made a 1 ms group commit take 7–20 ms on the event loop.
 * So the store's connection does not checkpoint (`wal_autocheckpoint = 0`), and a worker thread
 * with a connection of its own runs `PRAGMA wal_checkpoint(PASSIVE)` beside it: in WAL mode a
 * checkpointer never waits for the writer nor the writer for it (https://sqlite.org/wal.html).
 *
 * When: the store reports each commit (`committed()`), and every CHECKPOINT_EVERY_COMMITS-th asks
 * the worker for a checkpoint — a count costs nothing on the event loop (the page count of the WAL
 * would take a query), and the request arrives just after a commit, so the checkpoint has the
 * gap before the next one to finish in. The worker also checkpoints every CHECKPOINT_INTERVAL_MS
 * when another connection has committed since (`data_version`), for the tail of a quiet spell.
 *
 * A checkpoint does not shrink the WAL: it copies frames; the *writer* starts the WAL over at its
 * next transaction once every frame is copied. Under continuous writes a commit may land while a
 * checkpoint runs, and then not every frame is copied; the next checkpoint copies the few left.
 * If the WAL grows past WAL_ALARM_PAGES with frames left uncopied (a reader holding an old
 * snapshot, or a race that keeps being lost), it is reported once, and `wantsHelp()` asks the
 * store to run one PASSIVE checkpoint from its own connection just after a commit, which no
 * commit can race. A WAL past the limit but copied whole only had a late checkpoint (a burst of
 * writes, or the niced worker starved by a saturated core: the hold test's 100,000 set-ups at
 * 3,300/s saw 16–18k pages): the writer starts it over at its next commit, so that is no failure
 * — unless it has grown at each of ALARM_RESULTS checkpoints in a row (then something keeps the
 * writer from starting it over: a reader inside the WAL).
 *
 * The worker is a small CommonJS source run with `eval: true`, so it works the same whether this
 * module runs as TypeScript (tests, through tsx) or as compiled JavaScript (dist/), and it loads
 * better-sqlite3 from the path this module resolves (not from the working directory). It is
 * unref'd: it never keeps the process alive. If it fails or exits, that is reported and the store
 * goes back to checkpointing on its own connection (the WAL must not grow without bound).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Commits between two checkpoint requests: ~0.15–0.3 s under load (one group commit per 5 ms). */
export const CHECKPOINT_EVERY_COMMITS = 64;
/** The worker's own timer: a quiet store's last commits are copied within this (ms). */
const CHECKPOINT_INTERVAL_MS = 1000;
/**
 * WAL pages (16,384 = 64 MiB at 4 KiB) beyond which checkpoints are failing to keep it small:
 * at ~2,000 sessions/s it holds a few thousand at most.
 */
const WAL_ALARM_PAGES = 16_384;
/** Checkpoints in a row that found the WAL past WAL_ALARM_PAGES and larger than the one before, though copied whole, before that is reported. */
const ALARM_RESULTS = 4;
/**
 * The worker thread's nice value (Linux, where it is per thread). A server pinned to one core
 * shares it with the worker; at the same priority the scheduler may give a checkpoint whole
 * slices (several ms) while the event loop waits. Niced, the event loop preempts it when it has
 * work; a worker starved for long lets the WAL grow, which WAL_ALARM_PAGES catches.
 */
const WORKER_NICE = 10;
/** Checkpoint passes per request at most: each copies what was committed during the one before. */
const PASSES = 16;
/** close() waits at most this long for the worker to finish a checkpoint and close its connection. */
const STOP_WAIT_MS = 5000;

/** A row of `PRAGMA wal_checkpoint`: frames in the WAL (`log`) and how many are in the database. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface WalCheckpointerOptions {
  /** The database file (in WAL mode already). */
  path: string;
  reportError(err: unknown, where: string): void;
  /** The worker stopped working: the store checkpoints on its own connection again. */
  onFailed(): void;
  /** Tests: WAL_ALARM_PAGES. */
  alarmPages?: number;
}

// Shared state word: who opens or closes the worker's connection, without a message round trip.
const STARTING = 0;
const OPEN = 1;
const CLOSED = 2;
/** close() came before the worker opened the file: it never will. */
const CANCELLED = 3;

const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
if (workerData.nice !== undefined) {
  try {
    require('node:os').setPriority(0, workerData.nice);
  } catch {
    // Not allowed here: checkpoints at the same priority as the event loop.
  }
}
if (Atomics.compareExchange(state, 0, ${STARTING}, ${OPEN}) === ${STARTING}) {
  let db;
  let timer;
  const stop = () => {
    clearInterval(timer);
    parentPort.close();
    try {
      if (db) db.close();
    } finally {
      Atomics.store(state, 0, ${CLOSED});
      Atomics.notify(state, 0);
    }
  };
  try {
    const Database = require(workerData.driver);
    db = new Database(workerData.path, { fileMustExist: true });
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    const dataVersion = db.prepare('PRAGMA data_version').pluck();
    let seen = dataVersion.get();
    const run = () => {
      try {
        seen = dataVersion.get();
        // Again while the last pass found frames committed during the one before: a pass that
        // finds none leaves the WAL wholly copied, and the writer starts it over.
        let r = checkpoint.get();
        for (let i = 1; i < ${PASSES} && r.busy === 0; i++) {
          const before = r.checkpointed;
          r = checkpoint.get();
          if (r.log === before) break;
        }
        parentPort.postMessage(r);
      } catch (err) {
        fail(err);
      }
    };
    parentPort.on('message', (m) => (m === 'stop' ? stop() : run()));
    timer = setInterval(() => { if (dataVersion.get() !== seen) run(); }, workerData.intervalMs);
  } catch (err) {
    fail(err);
  }
  /** Closed first, so that a close() on the main thread does not wait for a dead worker. */
  function fail(err) {
    stop();
    // A plain Error: the main thread gets a structured clone, and a SqliteError would lose its message.
    throw new Error('record store checkpoint worker: ' + (err && err.message ? err.message : String(err)));
  }
}
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(4));
  private commits = 0;
  private stopping = false;
  private failed = false;
  private alarmed = false;
  /** Results in a row with the WAL past the limit and grown since the one before. */
  private growing = 0;
  private lastLog = 0;
  private help = false;
  /** Checkpoints the worker reported, and the last one's result (tests, metrics). */
  checkpoints = 0;
  last: CheckpointResult | undefined;

  constructor(private readonly opts: WalCheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // Plain Node for the worker: none of the parent's flags (`--input-type=module` would make
      // the source a module without \`require\`; tsx's loader is not needed for it).
      execArgv: [],
      workerData: {
        path: opts.path, driver, state: this.state.buffer, intervalMs: CHECKPOINT_INTERVAL_MS,
        // Elsewhere setpriority(2) of "this process" would renice the event loop too.
        nice: process.platform === 'linux' ? WORKER_NICE : undefined,
      },
    });
    this.worker.on('message', (r: CheckpointResult) => this.onResult(r));
    this.worker.on('error', (err) => {
      if (this.stopping || this.failed) return;
      this.opts.reportError(err, 'store.checkpoint');
      this.fail();
    });
    this.worker.on('exit', (code) => {
      if (this.stopping || this.failed) return;
      this.opts.reportError(new Error(`record store: the checkpoint worker exited (code ${code}); checkpoints are back on the store's connection`), 'store.checkpoint');
      this.fail();
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  /** After each commit of the store's connection. */
  committed(): void {
    if (this.failed || ++this.commits < CHECKPOINT_EVERY_COMMITS) return;
    this.commits = 0;
    this.worker.postMessage('go');
  }

  /** True once after the WAL was found too large: the store checkpoints once itself, after a commit. */
  wantsHelp(): boolean {
    if (!this.help) return false;
    this.help = false;
    return true;
  }

  /**
   * Synchronous: when it returns the worker's connection is closed (or it did not answer within
   * STOP_WAIT_MS), so the store's own final checkpoint does not find another one running.
   */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (Atomics.compareExchange(this.state, 0, STARTING, CANCELLED) !== STARTING) {
      this.worker.postMessage('stop');
      const deadline = Date.now() + STOP_WAIT_MS;
      for (;;) {
        const left = deadline - Date.now();
        if (Atomics.load(this.state, 0) !== OPEN || left <= 0) break;
        Atomics.wait(this.state, 0, OPEN, left);
      }
    }
    void this.worker.terminate();
  }

  private onResult(r: CheckpointResult): void {
    this.checkpoints++;
    this.last = r;
    if (r.log <= (this.opts.alarmPages ?? WAL_ALARM_PAGES)) {
      this.alarmed = false;
      this.growing = 0;
      this.lastLog = r.log;
      return;
    }
    this.growing = r.log > this.lastLog ? this.growing + 1 : 0;
    this.lastLog = r.log;
    const uncopied = r.checkpointed < r.log;
    // Frames left: the store's own connection copies them once, after a commit (no race).
    if (uncopied) this.help = true;
    else if (this.growing < ALARM_RESULTS) return; // copied whole: the writer starts it over
    if (this.alarmed) return;
    this.alarmed = true;
    this.opts.reportError(new Error(
      `record store: the WAL of ${this.opts.path} holds ${r.log} pages (${r.checkpointed} copied): ` +
      'checkpoints cannot reset it (a long read transaction on the file?)',
    ), 'store.checkpoint');
  }

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    this.opts.onFailed();
  }
}
