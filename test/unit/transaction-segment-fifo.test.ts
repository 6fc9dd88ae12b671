// The segmented byte FIFO under the wait tables' records (src/sip/transaction/segment-fifo.ts):
// places in order, never straddling a segment, segments released from the front and reused, the
// segment numbers wrapping around the ones that can be held at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NO_PLACE, SegmentFifo } from '../../src/sip/transaction/segment-fifo.js';

function write(fifo: SegmentFifo, text: string): number {
  const place = fifo.append(text.length);
  if (place !== NO_PLACE) fifo.bufferOf(place).write(text, fifo.offsetOf(place), 'latin1');
  return place;
}

function read(fifo: SegmentFifo, place: number, length: number): string {
  const at = fifo.offsetOf(place);
  return fifo.bufferOf(place).toString('latin1', at, at + length);
}

describe('SegmentFifo', () => {
  it('fills a segment, starts the next one for bytes that do not fit, and refuses more than a segment', () => {
    const fifo = new SegmentFifo(4); // 16-byte segments
    assert.equal(fifo.heldBytes, 0, 'nothing held before the first append');
    const a = write(fifo, 'abcdefghij'); // 10 bytes at 0
    const b = write(fifo, 'KLMNOP'); // 6 more: exactly full
    const c = write(fifo, 'qr'); // next segment
    assert.equal(fifo.offsetOf(a), 0);
    assert.equal(fifo.offsetOf(b), 10);
    assert.equal(fifo.offsetOf(c), 0);
    assert.equal(fifo.bufferOf(a), fifo.bufferOf(b));
    assert.notEqual(fifo.bufferOf(b), fifo.bufferOf(c));
    assert.equal(read(fifo, a, 10), 'abcdefghij');
    assert.equal(read(fifo, b, 6), 'KLMNOP');
    assert.equal(read(fifo, c, 2), 'qr');
    assert.equal(fifo.heldBytes, 32);
    assert.equal(fifo.append(17), NO_PLACE, 'longer than a segment');
    assert.equal(fifo.heldBytes, 32, 'a refusal allocates nothing');
    const d = write(fifo, 'x'.repeat(16));
    assert.equal(fifo.offsetOf(d), 0, 'a whole segment for 16 bytes');
    assert.equal(read(fifo, c, 2), 'qr', 'earlier bytes untouched');
  });

  it('releases the segments before a place, reuses up to spareLimit of them, and clear() releases all', () => {
    const fifo = new SegmentFifo(4, 1);
    const places = Array.from({ length: 4 }, (_, i) => write(fifo, String(i).repeat(16))); // four segments
    const [, second, third, fourth] = places as [number, number, number, number];
    assert.equal(fifo.heldBytes, 64);
    const firstSegment = fifo.bufferOf(places[0]!);
    fifo.releaseBefore(third);
    assert.equal(fifo.heldBytes, 16 * 2 + 16, 'two held and one spare (the limit is 1)');
    assert.equal(read(fifo, third, 16), '2'.repeat(16));
    assert.equal(read(fifo, fourth, 16), '3'.repeat(16));
    fifo.releaseBefore(third); // again: nothing more
    assert.equal(fifo.heldBytes, 48);
    const e = write(fifo, 'e');
    assert.equal(fifo.bufferOf(e), firstSegment, 'the spare is reused (released first, kept first)');
    void second;
    fifo.clear();
    assert.equal(fifo.heldBytes, 16, 'only the spare stays');
    const f = write(fifo, 'f');
    assert.equal(fifo.offsetOf(f), 0);
    assert.equal(read(fifo, f, 1), 'f');
  });

  it('segment numbers wrap around the ones that can be held; when all are held, NO_PLACE', () => {
    const fifo = new SegmentFifo(4, 2, 2); // at most 4 segments of 16 bytes at once
    const live: { place: number; text: string }[] = [];
    let n = 0;
    for (let round = 0; round < 50; round++) {
      // Fill to the limit (two 8-byte records a segment), then release the oldest two segments:
      // numbers 0..3 are reused many times.
      for (;;) {
        const text = `${n}`.padEnd(8, '.');
        const place = write(fifo, text);
        if (place === NO_PLACE) break;
        live.push({ place, text });
        n++;
      }
      assert.equal(live.length, 8, `round ${round}: four segments of two`);
      assert.equal(fifo.heldBytes, 64);
      for (const { place, text } of live) assert.equal(read(fifo, place, text.length), text, `round ${round}`);
      fifo.releaseBefore(live[4]!.place);
      live.splice(0, 4);
      assert.equal(fifo.heldBytes, 64, 'two held, two spares');
      for (const { place, text } of live) assert.equal(read(fifo, place, text.length), text, `round ${round}`);
    }
    assert.equal(n, 8 + 49 * 4);
  });

  it('rejects sizes it cannot address', () => {
    assert.throws(() => new SegmentFifo(3), RangeError);
    assert.throws(() => new SegmentFifo(27), RangeError);
    assert.throws(() => new SegmentFifo(18, 2, 14), RangeError, 'a place has 31 bits');
    assert.throws(() => new SegmentFifo(18, 2, 0), RangeError);
  });
});
