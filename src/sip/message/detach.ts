/**
 * Strings and bytes kept for the life of a dialog must not keep the message they came from.
 * V8 makes a substring of 13 or more characters a *sliced* string that points into its parent
 * (here the whole header section of a received message), and a concatenation a *cons* string
 * that points at its pieces; Node's small Buffers are views into shared 8 KiB pool slabs, and a
 * body is a view into its datagram. A held call kept some 4 KB of such parents per leg (heap
 * snapshot of 10,000 held calls, issue 6).
 */

/** A flat copy of `s` that shares nothing with the string it was cut from. */
export function detachString(s: string): string {
  if (s.length < 13) return s; // V8 copies short substrings already
  // Slicing a cons string flattens it into a new sequential string first: the result's parent
  // is that fresh copy (one character longer), not the message text.
  return (' ' + s).slice(1);
}

/** `b` itself when it owns its memory exactly, else a copy that does (outside the pool). */
export function detachBuffer(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  const copy = Buffer.allocUnsafeSlow(b.length);
  b.copy(copy);
  return copy;
}

/** Slab for detachForWait: big enough that a slab holds ~100 messages, small enough to free soon. */
const WAIT_SLAB_BYTES = 64 * 1024;
/** Larger messages get memory of their own (detachBuffer). */
const WAIT_SLAB_MAX_PIECE = 8 * 1024;
let waitSlab: Buffer | undefined;
let waitSlabUsed = 0;

/**
 * Like detachBuffer, for bytes kept through a transaction's wait state (64*T1 at most, in the
 * order they were stored): copied into a shared 64 KiB slab rather than an allocation each — one
 * ArrayBuffer per hundred messages instead of one per message, and a slab is freed about 64*T1
 * after it filled. Not for bytes kept for a dialog's life (a held call would pin a slab).
 */
export function detachForWait(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  const length = b.length;
  if (length > WAIT_SLAB_MAX_PIECE) return detachBuffer(b);
  if (waitSlab === undefined || waitSlabUsed + length > WAIT_SLAB_BYTES) {
    waitSlab = Buffer.allocUnsafeSlow(WAIT_SLAB_BYTES);
    waitSlabUsed = 0;
  }
  const start = waitSlabUsed;
  b.copy(waitSlab, start);
  // 8-byte aligned like Node's own pool.
  waitSlabUsed = (start + length + 7) & ~7;
  return waitSlab.subarray(start, start + length);
}

/** detachRepeated's cache: values seen often (our Contact, our URI, the peers' URIs). */
const repeated = new Map<string, string>();
const REPEATED_MAX = 1024;

/**
 * detachString for values that repeat across dialogs (our Contact, a PBX's URI, route sets):
 * one detached copy shared by every dialog that holds the same text, instead of a copy each
 * (two string objects per field per dialog of a held call). Bounded; cleared when full.
 */
export function detachRepeated(s: string): string {
  let kept = repeated.get(s);
  if (kept === undefined) {
    if (repeated.size >= REPEATED_MAX) repeated.clear();
    kept = detachString(s);
    repeated.set(kept, kept);
  }
  return kept;
}
