#!/usr/bin/env node
// Rebuilds the SIP torture-test corpus under test/conformance/ from the RFC texts kept in
// test/conformance/source/:
//
//   rfc4475-appendix-a.txt -> test/conformance/rfc4475/*.dat  (byte-exact: RFC 4475 Appendix A's
//                             base64 gzip'd tar, decoded here with node:zlib and a tiny tar reader)
//   rfc5118-messages.txt   -> test/conformance/rfc5118/*.dat  (rebuilt from the §4 message texts:
//                             the RFC 5118 archive itself was not available, see that file's header)
//
// Usage: node --import tsx scripts/extract-torture.ts [--check]
//   --check  compare with the committed .dat files instead of writing; exit 1 on any difference.
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

export interface CorpusFile {
  name: string;
  data: Buffer;
}

/** Every message RFC 4475 §3 describes ("Message Details : <name>"), plus test.dat, which the
 *  archive carries but no section describes. 49 + 1 = 50 files. */
export const RFC4475_FILES: readonly string[] = [
  // §3.1.1 valid
  'wsinv', 'intmeth', 'esc01', 'escnull', 'esc02', 'lwsdisp', 'longreq', 'dblreq', 'semiuri',
  'transports', 'mpart01', 'unreason', 'noreason',
  // §3.1.2 invalid
  'badinv01', 'clerr', 'ncl', 'scalar02', 'scalarlg', 'quotbal', 'ltgtruri', 'lwsruri', 'lwsstart',
  'trws', 'escruri', 'baddate', 'regbadct', 'badaspec', 'baddn', 'badvers', 'mismatch01',
  'mismatch02', 'bigcode',
  // §3.2 transaction layer
  'badbranch',
  // §3.3 application layer
  'insuf', 'unkscm', 'novelsc', 'unksm2', 'bext01', 'invut', 'regaut01', 'multi01', 'mcl01',
  'bcast', 'zeromf', 'cparam01', 'cparam02', 'regescrt', 'sdp01',
  // §3.4 backward compatibility
  'inv2543',
  // archive only
  'test',
].map((n) => `${n}.dat`);

const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Pulls the base64 text out of RFC 4475 Appendix A.1. Between the BEGIN/END markers the RFC's
 * pagination interrupts the block: form feeds, blank lines, "Sparks, et al. ... [Page N]" footers
 * and "RFC 4475 ... May 2006" headers. Those are removed explicitly; anything else that is not a
 * clean base64 line is an error rather than silently dropped, so a damaged copy fails loudly.
 */
export function extractBase64Block(rfcText: string): string {
  const begin = rfcText.indexOf('-- BEGIN MESSAGE ARCHIVE --');
  const end = rfcText.indexOf('-- END MESSAGE ARCHIVE --');
  if (begin < 0 || end < begin) throw new Error('archive markers not found');
  const block = rfcText.slice(rfcText.indexOf('\n', begin) + 1, end);
  const out: string[] = [];
  let lineNo = 0;
  for (const raw of block.split('\n')) {
    lineNo++;
    const line = raw.replace(/[\f\r]/g, '').trim();
    if (line === '') continue;
    if (/^[A-Z][A-Za-z-]+, et al\.\s+\S+\s+\[Page \d+\]$/.test(line)) continue; // page footer
    if (/^RFC \d{4}\s.*\s\d{4}$/.test(line)) continue; // running page header
    if (!BASE64_LINE.test(line)) {
      throw new Error(`unexpected text inside the archive block (line ${lineNo}): ${JSON.stringify(line)}`);
    }
    out.push(line);
  }
  return out.join('');
}

/** Minimal ustar/v7 tar reader: 512-byte headers, octal size, regular files only. */
export function untar(tar: Buffer): CorpusFile[] {
  const files: CorpusFile[] = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const field = (start: number, len: number): string => {
      const raw = header.subarray(start, start + len);
      const nul = raw.indexOf(0);
      return raw.subarray(0, nul < 0 ? len : nul).toString('latin1');
    };
    let name = field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (field(257, 5) === 'ustar') {
      const prefix = field(345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (!Number.isFinite(size) || size < 0) throw new Error(`bad size for ${name}`);
    // Checksum: sum of header bytes with the checksum field counted as spaces.
    const declared = parseInt(field(148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (sum !== declared) throw new Error(`tar header checksum mismatch for ${name}`);
    const dataStart = off + 512;
    if (dataStart + size > tar.length) throw new Error(`truncated tar entry ${name}`);
    if (type === '0' || type === '') {
      files.push({ name, data: Buffer.from(tar.subarray(dataStart, dataStart + size)) });
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return files;
}

export function decodeRfc4475(rfcText: string): CorpusFile[] {
  const tgz = Buffer.from(extractBase64Block(rfcText), 'base64');
  return untar(gunzipSync(tgz)) // gunzip verifies the CRC32, i.e. that the copy is bit-exact
    .map((f) => ({ name: f.name.replace(/^.*\//, ''), data: f.data }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * RFC 5118 messages as wire bytes: LF -> CRLF (RFC 3261 §7), and the Content-Length digits set to
 * the real CRLF body length (the RFC's declared values match no line-ending convention).
 */
export function decodeRfc5118(sourceText: string): { files: CorpusFile[]; notes: string[] } {
  const files: CorpusFile[] = [];
  const notes: string[] = [];
  const re = /^=== ([a-z0-9-]+) \(RFC 5118 §[\d.]+\) ===\n([\s\S]*?)^=== end ===$/gm;
  for (const m of sourceText.matchAll(re)) {
    const name = `${m[1]}.dat`;
    const lines = m[2]!.split('\n');
    lines.pop(); // text after the final LF before the end marker is empty
    const text = lines.map((l) => `${l}\r\n`).join('');
    const sep = text.indexOf('\r\n\r\n');
    if (sep < 0) throw new Error(`${name}: no end of header section`);
    const bodyLength = Buffer.byteLength(text.slice(sep + 4), 'latin1');
    const head = text.slice(0, sep + 4).replace(/^(Content-Length:[ \t]*)(\d+)/im, (all, pre: string, digits: string) => {
      if (Number(digits) !== bodyLength) notes.push(`${name}: Content-Length ${digits} -> ${bodyLength}`);
      return `${pre}${bodyLength}`;
    });
    files.push({ name, data: Buffer.from(head + text.slice(sep + 4), 'latin1') });
  }
  return { files: files.sort((a, b) => a.name.localeCompare(b.name)), notes };
}

function main(): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const conf = join(root, 'test', 'conformance');
  const check = process.argv.includes('--check');
  const rfc4475 = decodeRfc4475(readFileSync(join(conf, 'source', 'rfc4475-appendix-a.txt'), 'latin1'));
  const names = rfc4475.map((f) => f.name);
  const missing = RFC4475_FILES.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !RFC4475_FILES.includes(n));
  if (missing.length || extra.length) {
    throw new Error(`RFC 4475 archive does not match §3: missing ${missing.join(',')} extra ${extra.join(',')}`);
  }
  const rfc5118 = decodeRfc5118(readFileSync(join(conf, 'source', 'rfc5118-messages.txt'), 'utf8'));
  if (rfc5118.files.length !== 12) throw new Error(`expected 12 RFC 5118 messages, got ${rfc5118.files.length}`);
  for (const n of rfc5118.notes) console.log(`rfc5118 ${n}`);

  let differences = 0;
  for (const [dir, files] of [['rfc4475', rfc4475], ['rfc5118', rfc5118.files]] as const) {
    const out = join(conf, dir);
    if (check) {
      const present = existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.dat')) : [];
      for (const f of files) {
        const p = join(out, f.name);
        if (!existsSync(p) || !readFileSync(p).equals(f.data)) {
          console.error(`differs: ${dir}/${f.name}`);
          differences++;
        }
      }
      for (const n of present) {
        if (!files.some((f) => f.name === n)) {
          console.error(`not from the RFC: ${dir}/${n}`);
          differences++;
        }
      }
    } else {
      mkdirSync(out, { recursive: true });
      for (const f of files) writeFileSync(join(out, f.name), f.data);
      console.log(`wrote ${files.length} files to test/conformance/${dir}/`);
    }
  }
  if (check) {
    if (differences) process.exit(1);
    console.log('corpus matches the RFC sources');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
