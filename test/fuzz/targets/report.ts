/** What every fuzz target returns, and the checks they share (decisions §7: internal errors stay 0). */

export type FindingKind = 'internal-error' | 'throw' | 'stuck' | 'no-400' | 'unanswered' | 'memory' | 'dead-server';

export interface FuzzFinding {
  kind: FindingKind;
  detail: string;
  /** The input that produced it, when one input did (saved as the reproducer). */
  input?: Buffer;
  /** Index of that input in the run (replay: same seed, same target). */
  index?: number;
}

export interface FuzzReport {
  target: string;
  seed: number;
  inputs: number;
  findings: FuzzFinding[];
  internalErrors: number;
  /** Answerable malformed requests sent, and those answered with the expected status. */
  expected400: number;
  answered400: number;
  /** Heap growth from start to end, both measured after a GC when `--expose-gc` is on. */
  heapGrowthBytes: number;
  rssBytes: number;
  ms: number;
  /** Target-specific numbers (parse errors, connections closed …). */
  extra: Record<string, number>;
}

export interface RunOptions {
  messages: number;
  seed: number;
  /** Called now and then with the inputs done so far. */
  onProgress?: (done: number) => void;
  /** Heap growth allowed before a `memory` finding [128 MiB]. */
  maxHeapGrowthBytes?: number;
}

export const MAX_FINDINGS_KEPT = 20;

/** Adds a finding, keeping the first few (a systematic bug would otherwise fill memory). */
export function addFinding(list: FuzzFinding[], f: FuzzFinding): void {
  if (list.length < MAX_FINDINGS_KEPT) list.push(f);
}

/** Heap in use after a full GC when available (run node with --expose-gc), else as it is. */
export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

export function memoryFinding(report: FuzzReport, limit: number): void {
  if (report.heapGrowthBytes > limit) {
    addFinding(report.findings, { kind: 'memory', detail: `heap grew by ${(report.heapGrowthBytes / 2 ** 20).toFixed(1)} MiB (limit ${(limit / 2 ** 20).toFixed(0)} MiB)` });
  }
}

/** Status code and Call-ID of a SIP response, read from its first lines without a full parse. */
export function statusAndCallId(data: Buffer): { status: number; callId: string } | undefined {
  if (data.length < 12 || data[0] !== 0x53 || data.toString('latin1', 0, 8) !== 'SIP/2.0 ') return undefined;
  const status = Number(data.toString('latin1', 8, 11));
  const text = data.toString('latin1', 0, Math.min(data.length, 4096));
  const m = /\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]*)/i.exec(text);
  return m ? { status, callId: m[1]!.trim() } : undefined;
}
