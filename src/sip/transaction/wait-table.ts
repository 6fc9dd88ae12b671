/**
 * Transactions that only wait out a fixed timer, kept as bytes instead of objects: a non-INVITE
 * server transaction in Completed (Timer J, 64*T1 on UDP: it re-sends its final response to each
 * retransmitted request, §17.2.2), a non-INVITE client transaction in Completed (Timer K, T4 on
 * UDP: it absorbs retransmitted responses, §17.1.2.2), and an INVITE client transaction in
 * Accepted whose session has ended (Timer M, 64*T1, RFC 6026 §7.2: a 2xx goes to the TU, which
 * only ACKs it again or, from a fork, ACKs and ends it). Nothing else happens to them until the timer
 * ends them, yet under load they are most of what the heap holds: at 1,800 REFER sessions/s two
 * NOTIFY transactions per session wait 32 s — 115,000 of them, each a transaction object, its key
 * string and its timer slot, every one promoted to the old generation and traced by each of its
 * collections (issue 6).
 *
 * Here a waiting transaction is a record in segmented bytes (its key, then the response to
 * re-send: segment-fifo.ts) and a slot in typed arrays (deadline, hash, chain link, where its
 * bytes lie), found through an open hash table of chains: no JavaScript object per record. Every
 * record of a table waits the same time, so they expire in the order they were added — the FIFO
 * of fixed-timers.ts, with one host timer for the oldest. Keys with a character beyond Latin-1 are not kept (the caller keeps
 * the transaction object instead); every key the layer makes from a parsed Via is ASCII. Nor is
 * a record longer than a segment (256 KiB, more than any UDP datagram).
 */
import type { TimerHandle, TimerHost } from '../timer.js';
import { hasCome, waitFor } from '../fixed-timers.js';
import type { Destination } from './types.js';
import { NO_PLACE, SegmentFifo } from './segment-fifo.js';

/** No slot / no record. */
export const NO_RECORD = -1;

const INITIAL_SLOTS = 1024;
/** The longest key kept (a key's length is a Uint16). */
const MAX_KEY = 0xffff;

export class WaitTable {
  // Per slot (slot = seq & slotMask): the record's deadline, its key's hash, the next slot of its
  // hash chain, where its bytes lie (a place in `bytes`), its key's and body's lengths, whether it
  // still waits (0 once removed early), a code its owner keeps with it (a response's status), and
  // where its body goes (shared UDP destinations, see udp-destinations.ts).
  // (Made by resizeSlots, from the constructor on.)
  private dues!: Float64Array;
  private hashes!: Int32Array;
  private links!: Int32Array;
  private places!: Int32Array;
  private keyLengths!: Uint16Array;
  private bodyLengths!: Int32Array;
  private alive!: Uint8Array;
  private codes!: Uint16Array;
  private dests!: (Destination | undefined)[];
  private slotMask = 0;
  /** Chain heads by hash: the newest slot of each chain, NO_RECORD when empty. */
  private buckets!: Int32Array;
  private bucketMask = 0;
  private readonly bytes: SegmentFifo;
  /** Sequence numbers: the oldest record still held (alive or not), and the next one. */
  private head = 0;
  private tail = 0;
  private live = 0;
  private timer: TimerHandle | undefined = undefined;

  constructor(
    private readonly timers: TimerHost,
    /** How long every record waits (ms). */
    readonly ms: number,
    /** log2 of the byte segments' size (tests make them small). */
    segmentBits?: number,
  ) {
    this.resizeSlots(INITIAL_SLOTS); // empty: nothing to move
    this.bytes = new SegmentFifo(segmentBits);
  }

  /** Records waiting. */
  get size(): number {
    return this.live;
  }

  /** Bytes the records' segments take (spares included). */
  get heldBytes(): number {
    return this.bytes.heldBytes;
  }

  /**
   * Adds a record that waits `ms`; `body` (copied) is what `bodyOf` gives back, sent to `dest`;
   * `code` (0–65535) is what `codeOf` gives back. `due` brings the end forward, for a timer that
   * started before the record (never later than `ms` from now): such a record expires with the
   * first record after it that is due, a FIFO's order. Returns its sequence number, or NO_RECORD
   * when the key cannot be kept (see the file comment).
   */
  add(key: string, body: Uint8Array | undefined, dest: Destination | undefined, code = 0, due?: number): number {
    const keyLength = key.length;
    if (keyLength > MAX_KEY) return NO_RECORD;
    const hash = hashOf(key);
    if (hash === NO_RECORD) return NO_RECORD;
    const bodyLength = body === undefined ? 0 : body.length;
    const place = this.bytes.append(keyLength + bodyLength);
    if (place === NO_PLACE) return NO_RECORD;
    const segment = this.bytes.bufferOf(place);
    const start = this.bytes.offsetOf(place);
    segment.write(key, start, keyLength, 'latin1');
    if (body !== undefined) segment.set(body, start + keyLength);
    if (this.tail - this.head === this.slotMask + 1) this.resizeSlots(2 * (this.slotMask + 1));
    const seq = this.tail++;
    const slot = seq & this.slotMask;
    const latest = this.timers.now() + this.ms;
    this.dues[slot] = due === undefined || due > latest ? latest : due;
    this.hashes[slot] = hash;
    this.places[slot] = place;
    this.keyLengths[slot] = keyLength;
    this.bodyLengths[slot] = bodyLength;
    this.alive[slot] = 1;
    this.codes[slot] = code;
    this.dests[slot] = dest;
    const bucket = hash & this.bucketMask;
    this.links[slot] = this.buckets[bucket]!;
    this.buckets[bucket] = slot;
    this.live++;
    if (this.timer === undefined) this.arm(this.dues[slot]!);
    return seq;
  }

  /** The sequence number of the waiting record with this key, or NO_RECORD. */
  find(key: string): number {
    if (this.live === 0) return NO_RECORD;
    const hash = hashOf(key);
    if (hash === NO_RECORD) return NO_RECORD;
    const keyLength = key.length;
    let slot = this.buckets[hash & this.bucketMask]!;
    while (slot !== NO_RECORD) {
      if (this.hashes[slot] === hash && this.keyLengths[slot] === keyLength) {
        const place = this.places[slot]!;
        const bytes = this.bytes.bufferOf(place);
        const start = this.bytes.offsetOf(place);
        let i = 0;
        while (i < keyLength && bytes[start + i] === key.charCodeAt(i)) i++;
        if (i === keyLength) return this.seqOf(slot);
      }
      slot = this.links[slot]!;
    }
    return NO_RECORD;
  }

  /** Whether the record still waits (neither expired nor removed). */
  has(seq: number): boolean {
    return seq >= this.head && seq < this.tail && this.alive[seq & this.slotMask] === 1;
  }

  /** A copy of the record's body (a send may outlive the record's segment). */
  bodyOf(seq: number): Buffer {
    const slot = seq & this.slotMask;
    const place = this.places[slot]!;
    const start = this.bytes.offsetOf(place) + this.keyLengths[slot]!;
    return Buffer.from(this.bytes.bufferOf(place).subarray(start, start + this.bodyLengths[slot]!));
  }

  codeOf(seq: number): number {
    return this.codes[seq & this.slotMask]!;
  }

  destOf(seq: number): Destination | undefined {
    return this.dests[seq & this.slotMask];
  }

  /** Ends a record before its time (a failed send, the layer closing). */
  remove(seq: number): void {
    if (!this.has(seq)) return;
    this.unlink(seq & this.slotMask);
    if (this.live === 0) this.reset();
  }

  /** Ends every record and stops the timer. */
  clear(): void {
    for (let seq = this.head; seq < this.tail; seq++) {
      const slot = seq & this.slotMask;
      if (this.alive[slot] === 1) this.unlink(slot);
    }
    this.reset();
  }

  // ── internals ─────────────────────────────────────────────────────────────────

  private seqOf(slot: number): number {
    return this.head + ((slot - this.head) & this.slotMask);
  }

  /** Takes a slot out of its chain; its bytes stay until the head passes their segment. */
  private unlink(slot: number): void {
    this.alive[slot] = 0;
    this.dests[slot] = undefined;
    this.live--;
    const bucket = this.hashes[slot]! & this.bucketMask;
    let at = this.buckets[bucket]!;
    if (at === slot) {
      this.buckets[bucket] = this.links[slot]!;
      return;
    }
    while (at !== NO_RECORD) {
      const next = this.links[at]!;
      if (next === slot) {
        this.links[at] = this.links[slot]!;
        return;
      }
      at = next;
    }
  }

  /** Moves the slots of [head, tail) to arrays of `count` slots, and rebuilds the chains. */
  private resizeSlots(count: number): void {
    const old = {
      dues: this.dues, hashes: this.hashes, places: this.places, keyLengths: this.keyLengths,
      bodyLengths: this.bodyLengths, alive: this.alive, codes: this.codes, dests: this.dests, mask: this.slotMask,
    };
    this.dues = new Float64Array(count);
    this.hashes = new Int32Array(count);
    this.links = new Int32Array(count);
    this.places = new Int32Array(count);
    this.keyLengths = new Uint16Array(count);
    this.bodyLengths = new Int32Array(count);
    this.alive = new Uint8Array(count);
    this.codes = new Uint16Array(count);
    this.dests = new Array<Destination | undefined>(count).fill(undefined);
    this.slotMask = count - 1;
    this.buckets = new Int32Array(2 * count).fill(NO_RECORD);
    this.bucketMask = 2 * count - 1;
    for (let seq = this.head; seq < this.tail; seq++) {
      const from = seq & old.mask;
      const to = seq & this.slotMask;
      this.dues[to] = old.dues[from]!;
      this.hashes[to] = old.hashes[from]!;
      this.places[to] = old.places[from]!;
      this.keyLengths[to] = old.keyLengths[from]!;
      this.bodyLengths[to] = old.bodyLengths[from]!;
      this.alive[to] = old.alive[from]!;
      this.codes[to] = old.codes[from]!;
      this.dests[to] = old.dests[from];
      if (old.alive[from] === 1) {
        // In sequence order: each newer record becomes its chain's head, as add() does.
        const bucket = old.hashes[from]! & this.bucketMask;
        this.links[to] = this.buckets[bucket]!;
        this.buckets[bucket] = to;
      }
    }
  }

  private arm(due: number): void {
    this.timer = this.timers.setTimeout(() => this.expire(), waitFor(this.timers, due, this.ms));
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.timers.now();
    while (this.head < this.tail) {
      const slot = this.head & this.slotMask;
      if (this.alive[slot] === 1) {
        if (!hasCome(this.dues[slot]!, now, this.ms)) break;
        this.unlink(slot);
      }
      this.head++;
    }
    if (this.live === 0) {
      this.reset();
      return;
    }
    // The records before the head are gone: so are the segments only they used.
    this.bytes.releaseBefore(this.places[this.head & this.slotMask]!);
    this.shrinkIfSparse();
    this.arm(this.dues[this.head & this.slotMask]!);
  }

  /** After a burst the slots go back down, once an eighth of them is in use. */
  private shrinkIfSparse(): void {
    const slots = this.slotMask + 1;
    if (slots > INITIAL_SLOTS && (this.tail - this.head) * 8 < slots) this.resizeSlots(slots / 2);
  }

  /** Empty: back to the initial sizes, no timer. */
  private reset(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.head = this.tail;
    this.bytes.clear();
    if (this.slotMask + 1 > INITIAL_SLOTS) this.resizeSlots(INITIAL_SLOTS);
  }
}

/** FNV-1a over the key's characters; NO_RECORD for a key with a character beyond Latin-1. */
function hashOf(key: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0xff) return NO_RECORD;
    h = Math.imul(h ^ c, 0x01000193);
  }
  // Non-negative and never NO_RECORD: the sign bit is cleared.
  return h & 0x7fffffff;
}

