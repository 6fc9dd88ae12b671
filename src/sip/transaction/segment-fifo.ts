/**
 * Bytes appended at the back and released from the front, held in segments of one fixed size:
 * where a WaitTable keeps its records' keys and bodies (wait-table.ts). It replaces one ring that
 * doubled when full. A doubling ring copies all it holds at each doubling, a stall of several
 * milliseconds once it holds tens of megabytes. During a ramp of load it also allocates twice its
 * final size, all of it external memory to V8, and V8 starts a mark-compact for each 64 MB of
 * external memory added (issue 6: the 40–50-ms episodes of the first 64*T1 of load). Segments are
 * never copied. A released segment is kept for reuse, up to `spareLimit` of them, so a steady load
 * allocates nothing.
 *
 * A place is one non-negative int32: the segment's number (modulo the segments that can be held
 * at once) in the high bits, the offset within it in the low `segmentBits` bits. A record never
 * straddles two segments.
 */

/** No place: the bytes are longer than a segment, or every segment number is in use. */
export const NO_PLACE = -1;

export class SegmentFifo {
  readonly segmentSize: number;
  private readonly offsetMask: number;
  /** Held segments by number & numberMask; a place's high bits index it directly. */
  private readonly held: (Buffer | undefined)[];
  private readonly numberMask: number;
  /** Numbers of the oldest segment held and of the one being written (last < first: none). */
  private first = 0;
  private last = -1;
  /** Where the next bytes go in the last segment. */
  private writeAt = 0;
  private readonly spares: Buffer[] = [];

  constructor(
    /** log2 of the segment size: 18 → 256 KiB, room for any UDP message and its key. */
    private readonly segmentBits = 18,
    /** Released segments kept for reuse. */
    private readonly spareLimit = 2,
    /**
     * log2 of how many segments can be held at once; a place has 31 bits, so at most
     * 31 - segmentBits. By default 8,192 (with 256-KiB segments, 2 GiB of records).
     */
    numberBits = Math.min(13, 31 - segmentBits),
  ) {
    if (!(segmentBits >= 4 && segmentBits <= 26)) throw new RangeError(`segmentBits ${segmentBits}: 4–26`);
    if (!(numberBits >= 1 && numberBits <= 31 - segmentBits)) throw new RangeError(`numberBits ${numberBits}: 1–${31 - segmentBits}`);
    this.segmentSize = 1 << segmentBits;
    this.offsetMask = this.segmentSize - 1;
    const count = 2 ** numberBits;
    this.numberMask = count - 1;
    this.held = new Array<Buffer | undefined>(count).fill(undefined);
  }

  /** Bytes held in segments, spares included. */
  get heldBytes(): number {
    return (this.last - this.first + 1 + this.spares.length) * this.segmentSize;
  }

  /**
   * A place for `length` bytes after every place given before, or NO_PLACE. Whatever the caller
   * writes there stays until a release passes it.
   */
  append(length: number): number {
    if (length > this.segmentSize) return NO_PLACE;
    if (this.last < this.first || this.writeAt + length > this.segmentSize) {
      // A new segment; its number must not collide with one still held.
      if (this.last - this.first + 1 > this.numberMask) return NO_PLACE;
      this.last++;
      this.held[this.last & this.numberMask] = this.spares.pop() ?? Buffer.allocUnsafeSlow(this.segmentSize);
      this.writeAt = 0;
    }
    const place = ((this.last & this.numberMask) << this.segmentBits) | this.writeAt;
    this.writeAt += length;
    return place;
  }

  /** The segment a place lies in. */
  bufferOf(place: number): Buffer {
    return this.held[place >>> this.segmentBits]!;
  }

  /** Where a place starts in its segment. */
  offsetOf(place: number): number {
    return place & this.offsetMask;
  }

  /** Releases the segments before the one `place` lies in (places before it are no longer read). */
  releaseBefore(place: number): void {
    const index = place >>> this.segmentBits;
    const number = this.first + ((index - this.first) & this.numberMask);
    while (this.first < number) this.releaseFirst();
  }

  /** Releases every segment. */
  clear(): void {
    while (this.first <= this.last) this.releaseFirst();
    this.first = 0;
    this.last = -1;
    this.writeAt = 0;
  }

  private releaseFirst(): void {
    const index = this.first & this.numberMask;
    const segment = this.held[index]!;
    this.held[index] = undefined;
    if (this.spares.length < this.spareLimit) this.spares.push(segment);
    this.first++;
  }
}
