/**
 * A small mutational fuzzer for SIP input, deterministic from a seed: truncations, bit flips,
 * byte insertions (NUL, CR, LF, bytes ≥ 0x80), duplicated and dropped header lines, huge header
 * values, thousands of headers, bad Content-Length, deep parameter lists, CRLF floods.
 */

/** xorshift32: a reproducible stream of random numbers from one seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const INTERESTING = [0, 9, 10, 13, 32, 34, 37, 44, 58, 59, 60, 62, 64, 91, 93, 127, 0x80, 0xc3, 0xff];

// Long runs make millions of mutations: the big pieces are built once and sliced.
const BIG_VALUE = Buffer.alloc(61_000, 'a');
const MANY_HEADERS = prefixed(3500, (i) => `X-H${i}: ${i}\r\n`);
const DEEP_PARAMS = prefixed(2100, (i) => `;p${i}=${i}`);

/** One buffer of `n` pieces and where each prefix of k pieces ends. */
function prefixed(n: number, piece: (i: number) => string): { bytes: Buffer; ends: number[] } {
  const parts = Array.from({ length: n }, (_, i) => piece(i));
  const ends: number[] = [];
  let at = 0;
  for (const p of parts) ends.push((at += p.length));
  return { bytes: Buffer.from(parts.join('')), ends };
}

/** Start offsets of the CRLF-separated lines of `b`. */
function lineStarts(b: Buffer): number[] {
  const starts = [0];
  for (let k = b.indexOf('\r\n'); k >= 0; k = b.indexOf('\r\n', k + 2)) starts.push(k + 2);
  return starts;
}

export function mutate(seed: Buffer, r: () => number): Buffer {
  const pick = (n: number) => Math.floor(r() * n);
  let b = Buffer.from(seed);
  const rounds = 1 + pick(4);
  for (let k = 0; k < rounds; k++) {
    switch (pick(11)) {
      case 0: // truncate
        b = b.subarray(0, pick(b.length + 1));
        break;
      case 1: { // flip bits
        if (b.length === 0) break;
        const n = 1 + pick(8);
        for (let i = 0; i < n; i++) b[pick(b.length)]! ^= 1 << pick(8);
        break;
      }
      case 2: { // insert an interesting byte
        const at = pick(b.length + 1);
        b = Buffer.concat([b.subarray(0, at), Buffer.from([INTERESTING[pick(INTERESTING.length)]!]), b.subarray(at)]);
        break;
      }
      case 3: { // duplicate a line
        const starts = lineStarts(b);
        const i = pick(starts.length);
        const from = starts[i]!;
        const to = i + 1 < starts.length ? starts[i + 1]! : b.length;
        const line = i + 1 < starts.length ? b.subarray(from, to) : Buffer.concat([b.subarray(from, to), Buffer.from('\r\n')]);
        b = Buffer.concat([b.subarray(0, from), line, b.subarray(from)]);
        break;
      }
      case 4: { // drop a line
        const starts = lineStarts(b);
        const i = pick(starts.length);
        const from = starts[i]!;
        const to = i + 1 < starts.length ? starts[i + 1]! : b.length;
        b = Buffer.concat([b.subarray(0, i + 1 < starts.length || from === 0 ? from : from - 2), b.subarray(to)]);
        break;
      }
      case 5: { // a huge header value
        const at = b.indexOf('\r\n');
        if (at < 0) break;
        b = Buffer.concat([b.subarray(0, at + 2), Buffer.from('X-Big: '), BIG_VALUE.subarray(0, 1000 + pick(60000)), Buffer.from('\r\n'), b.subarray(at + 2)]);
        break;
      }
      case 6: { // thousands of headers
        const at = b.indexOf('\r\n');
        if (at < 0) break;
        const many = MANY_HEADERS.bytes.subarray(0, MANY_HEADERS.ends[500 + pick(3000) - 1]);
        b = Buffer.concat([b.subarray(0, at + 2), many, b.subarray(at + 2)]);
        break;
      }
      case 7: { // a bad Content-Length
        const values = ['-1', '99999999999', 'abc', '', '0', '4294967296', ' 12 ', '1e3'];
        b = Buffer.from(b.toString('latin1').replace(/(\r\n(?:Content-Length|l)[ \t]*:)[^\r\n]*/i, `$1 ${values[pick(values.length)]}`), 'latin1');
        break;
      }
      case 8: { // a deep parameter list on the first Via
        const via = b.indexOf('\r\nVia:');
        if (via < 0) break;
        const eol = b.indexOf('\r\n', via + 2);
        const at = eol < 0 ? b.length : eol;
        const params = DEEP_PARAMS.bytes.subarray(0, DEEP_PARAMS.ends[100 + pick(2000) - 1]);
        b = Buffer.concat([b.subarray(0, at), params, b.subarray(at)]);
        break;
      }
      case 9: { // a CRLF flood
        const at = pick(b.length + 1);
        b = Buffer.concat([b.subarray(0, at), Buffer.from('\r\n'.repeat(1 + pick(200))), b.subarray(at)]);
        break;
      }
      default: { // splice two halves of the message (swap)
        const at = pick(b.length + 1);
        b = Buffer.concat([b.subarray(at), b.subarray(0, at)]);
      }
    }
  }
  return b;
}
