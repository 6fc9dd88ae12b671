/**
 * Header lines as the parser leaves them: offsets into the decoded header block and the known
 * name, five numbers per line, turned into Header objects only when a message's headers are
 * first read. A proxy or a stack that answers from the core headers (which the parser reads
 * itself) never pays for the names and values of the others.
 */
import { headerKey, KNOWN_BY_ID, spelledAs, type KnownHeader } from './header-names.js';
import type { Header } from './message.js';

/**
 * Per line (LINE numbers): name start, name end, value start, value end (the value not yet
 * trimmed), then the KnownHeader id of the name or UNKNOWN_NAME — resolved once by the parser, so
 * that reading a header from the offsets compares numbers instead of names. A name start of
 * FOLDED marks a continuation line (§7.3.1 folding) whose text joins the previous value.
 */
export type HeaderLineOffsets = number[];

export const LINE = 5;
export const FOLDED = -1;
export const UNKNOWN_NAME = -1;

/** The header key of the line at k. */
function lineKey(text: string, lines: HeaderLineOffsets, k: number): string {
  const id = lines[k + 4]!;
  return id >= 0 ? KNOWN_BY_ID[id]!.key : headerKey(text.slice(lines[k]!, lines[k + 1]!));
}

/** The Header objects the lines stand for, exactly as an eager parse would have built them. */
export function materializeHeaders(text: string, lines: HeaderLineOffsets): Header[] {
  const headers: Header[] = [];
  let last: Header | undefined;
  for (let k = 0; k < lines.length; k += LINE) {
    const nameStart = lines[k]!;
    const value = trimmedSlice(text, lines[k + 2]!, lines[k + 3]!);
    if (nameStart === FOLDED) {
      // §7.3.1: the continuation and the line before it are joined by one space.
      if (last) last.value = trimLws(last.value + ' ' + value);
      continue;
    }
    last = lineHeader(text, nameStart, lines[k + 1]!, lines[k + 4]!, value);
    headers.push(last);
  }
  return headers;
}

/**
 * The Header objects of the lines named by `keys` only, grouped in the order of `keys` (message
 * order within a key): what a response copies from its request (§8.2.6.2) without objects for
 * the request's other lines. Null when the block has a folded line (then materializeHeaders).
 */
export function pendingLinesNamed(text: string, lines: HeaderLineOffsets, keys: readonly string[]): Header[] | null {
  const found: Header[] = [];
  const rank: number[] = [];
  let sorted = true;
  for (let k = 0; k < lines.length; k += LINE) {
    if (lines[k] === FOLDED) return null;
    const r = keys.indexOf(lineKey(text, lines, k));
    if (r < 0) continue;
    if (rank.length > 0 && r < rank[rank.length - 1]!) sorted = false;
    rank.push(r);
    found.push(lineHeader(text, lines[k]!, lines[k + 1]!, lines[k + 4]!, trimmedSlice(text, lines[k + 2]!, lines[k + 3]!)));
  }
  if (sorted) return found;
  const out: Header[] = [];
  for (let r = 0; r < keys.length; r++) for (let i = 0; i < found.length; i++) if (rank[i] === r) out.push(found[i]!);
  return out;
}

function lineHeader(text: string, nameStart: number, nameEnd: number, id: number, value: string): Header {
  const known: KnownHeader | undefined = id >= 0 ? KNOWN_BY_ID[id] : undefined;
  if (known === undefined) {
    const name = text.slice(nameStart, nameEnd);
    return { name, key: headerKey(name), value };
  }
  // The spelling as written is kept (it is what we write back); the usual one is not sliced.
  const name = spelledAs(text, nameStart, known.name) ? known.name : text.slice(nameStart, nameEnd);
  return { name, key: known.key, value };
}

const NO_VALUES: readonly string[] = Object.freeze([]);

/**
 * The values of the lines named `key`, in order, read straight from the offsets — for the one
 * or two headers a layer asks for (Contact, Record-Route, Allow…) without making Header objects
 * for all of them. Null when the block has a folded line: then only materializeHeaders joins the
 * continuation correctly, and the caller uses it.
 */
export function pendingValues(text: string, lines: HeaderLineOffsets, key: string): readonly string[] | null {
  let out: string[] | undefined;
  for (let k = 0; k < lines.length; k += LINE) {
    if (lines[k] === FOLDED) return null;
    if (lineKey(text, lines, k) !== key) continue;
    (out ??= []).push(trimmedSlice(text, lines[k + 2]!, lines[k + 3]!));
  }
  return out ?? NO_VALUES;
}

/** text[a, b) without the SP/HTAB around it (§7.3.1), sliced once. */
export function trimmedSlice(text: string, a: number, b: number): string {
  while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  return text.slice(a, b);
}

/**
 * Strips SP/HTAB (§25.1 LWS) from both ends. String.prototype.trim would also remove U+FEFF and
 * other Unicode spaces that belong to a UTF8-NONASCII header value (RFC 4475 §3.1.1.2).
 */
export function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
