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
