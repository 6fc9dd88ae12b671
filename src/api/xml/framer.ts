// Splits one TCP connection's byte stream into XML documents.
//
// The replaced system framed textually (first tag name → literal end tag), which hangs on a
// prolog or a root attribute. Here saxes reads each document, so a document may carry an
// `<?xml …?>` prolog, comments, CDATA and attributes anywhere, and ends exactly where its root
// element ends. Whitespace (and a byte-order mark) between documents is skipped.
//
// Resynchronisation after bad input (each case answers one 400 `Parse error`):
// - Garbage where a document should start (anything but `<` followed by a name, `?` or `!`):
//   dropped up to the next `<` that can start markup. Garbage right after a malformed document
//   is the rest of that document, already answered, and is dropped silently.
// - Malformed before the root opens (stray text, bad prolog, a DOCTYPE): saxes recovers on its
//   own; the document ends where its root does.
// - Malformed inside the root (mismatched or unmatched end tag, bad entity, bad character):
//   saxes' nesting is no longer trustworthy, so the document ends at the next literal end tag
//   of its root (`</ClickToCall>`, blanks allowed before `>`) — the replaced system's framing.
// - An unclosed root has no end to find: the document runs into the size limit, which answers
//   400 and closes the connection (the stream position is lost), or into the idle timeout.
import { StringDecoder } from 'node:string_decoder';
import { DocumentParser, isXmlSpace } from './document-parser.js';
import type { XmlDocument } from './document-parser.js';

export const DEFAULT_MAX_DOCUMENT_SIZE = 65536;

export interface XmlFramerOptions {
  /** Largest document accepted, in bytes (`XmlMaxDocumentSize`). */
  readonly maxDocumentSize?: number;
}

export type FramedItem =
  | { readonly kind: 'document'; readonly document: XmlDocument }
  | {
      readonly kind: 'error';
      readonly reason: 'parse' | 'too-large';
      /** For logs: saxes' message or ours; never contains document content. */
      readonly message: string;
      /** The stream position is lost: answer, then close the connection. */
      readonly fatal: boolean;
    };

type Mode = 'between' | 'garbage' | 'parse' | 'skip' | 'dead';

const LT = 0x3c;
const BOM = 0xfeff;

/** Whether the character after a `<` can start markup: a name, `<?` or `<!`. */
function startsMarkup(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    code === 0x5f || // _
    code === 0x3a || // :
    code === 0x3f || // ?
    code === 0x21 || // !
    code >= 0x80 // non-ASCII name characters; saxes judges the details
  );
}

export class XmlFramer {
  readonly #maxBytes: number;
  readonly #decoder = new StringDecoder('utf8');
  #mode: Mode = 'between';
  /** A `<` at the end of a chunk: the next character decides whether it starts markup. */
  #carry = '';
  #doc: DocumentParser | null = null;
  #docBytes = 0;
  #skipFrom = 0;
  #garbageBytes = 0;
  #garbageFresh = false;
  #dropGarbage = false;

  constructor(options: XmlFramerOptions = {}) {
    this.#maxBytes = options.maxDocumentSize ?? DEFAULT_MAX_DOCUMENT_SIZE;
  }

  /** Whether the framer has given up on the stream (after a fatal error or `end()`). */
  get dead(): boolean {
    return this.#mode === 'dead';
  }

  /** Feeds a chunk as received; returns the documents and errors it completes, in order. */
  push(chunk: Buffer | string): FramedItem[] {
    const out: FramedItem[] = [];
    if (this.#mode === 'dead') return out;
    const decoded = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const text = this.#carry.length === 0 ? decoded : this.#carry + decoded;
    this.#carry = '';
    this.#process(text, out);
    return out;
  }

  /** The peer finished sending: whatever is pending is an incomplete document. */
  end(): FramedItem[] {
    const out: FramedItem[] = [];
    if (this.#mode === 'dead') return out;
    const rest = this.#carry + this.#decoder.end();
    this.#carry = '';
    if (rest.length > 0) this.#process(rest, out);
    if (this.#carry.length > 0 && this.#mode === 'between') this.#mode = 'garbage';
    if (this.#mode === 'garbage') {
      if (!this.#dropGarbage) out.push(parseError('garbage at the end of the stream', false));
    } else if (this.#mode === 'parse' || this.#mode === 'skip') {
      out.push(parseError(this.#doc?.failure ?? 'document incomplete at the end of the stream', false));
    }
    this.#mode = 'dead';
    this.#doc = null;
    return out;
  }

  #process(s: string, out: FramedItem[]): void {
    let i = 0;
    while (i < s.length) {
      switch (this.#mode) {
        case 'dead':
          return;
        case 'between': {
          while (i < s.length && (isXmlSpace(s.charCodeAt(i)) || s.charCodeAt(i) === BOM)) i++;
          if (i >= s.length) return;
          if (s.charCodeAt(i) === LT && i + 1 >= s.length) {
            this.#carry = '<';
            return;
          }
          if (s.charCodeAt(i) !== LT || !startsMarkup(s.charCodeAt(i + 1))) {
            this.#mode = 'garbage';
            this.#garbageBytes = 0;
            this.#garbageFresh = true;
            continue;
          }
          this.#doc = new DocumentParser();
          this.#docBytes = 0;
          this.#dropGarbage = false;
          this.#mode = 'parse';
          continue;
        }
        case 'garbage':
          i = this.#skipGarbage(s, i, out);
          continue;
        case 'parse':
        case 'skip':
          i = this.#readDocument(s, i, out);
          continue;
      }
    }
  }

  /** Drops garbage up to the next `<` that can start markup; returns where to go on. */
  #skipGarbage(s: string, from: number, out: FramedItem[]): number {
    // The character that made this garbage is skipped; a resumed scan starts at the chunk
    // start, which may be a carried `<` that now turns out to start markup.
    let k = this.#garbageFresh ? from + 1 : from;
    this.#garbageFresh = false;
    for (;;) {
      k = s.indexOf('<', k);
      if (k < 0) {
        this.#countGarbage(s, from, s.length, out);
        return s.length;
      }
      if (k + 1 >= s.length) {
        this.#countGarbage(s, from, k, out);
        if (this.#mode !== 'dead') this.#carry = '<';
        return s.length;
      }
      if (startsMarkup(s.charCodeAt(k + 1))) {
        this.#countGarbage(s, from, k, out);
        if (this.#mode === 'dead') return s.length;
        if (!this.#dropGarbage) out.push(parseError('garbage where a document should start', false));
        this.#mode = 'between';
        return k;
      }
      k++;
    }
  }

  #countGarbage(s: string, from: number, to: number, out: FramedItem[]): void {
    this.#garbageBytes += Buffer.byteLength(from === 0 && to === s.length ? s : s.slice(from, to));
    if (this.#garbageBytes > this.#maxBytes) this.#fail(tooLarge(), out);
  }

  /** Feeds the current document; returns where the next one may start. */
  #readDocument(s: string, from: number, out: FramedItem[]): number {
    const doc = this.#doc;
    if (doc === null) {
      this.#mode = 'between';
      return from;
    }
    const piece = from === 0 ? s : s.slice(from);
    const base = doc.text.length; // offset of `piece` within the document text
    let end = -1;
    if (this.#mode === 'parse') {
      const outcome = doc.feed(piece);
      if (outcome.kind === 'complete') {
        end = outcome.end;
      } else if (outcome.kind === 'failed') {
        this.#mode = 'skip';
        this.#skipFrom = outcome.searchFrom;
        end = this.#findRootEnd(doc);
      } else if (outcome.kind === 'lost') {
        this.#fail(parseError(outcome.message, true), out);
        return s.length;
      }
    } else {
      doc.appendRaw(piece);
      end = this.#findRootEnd(doc);
    }

    if (end < 0) {
      this.#docBytes += Buffer.byteLength(piece);
      if (this.#docBytes > this.#maxBytes) this.#fail(tooLarge(), out);
      return s.length;
    }
    const bytes = this.#docBytes + Buffer.byteLength(end - base === piece.length ? piece : piece.slice(0, end - base));
    if (bytes > this.#maxBytes) {
      this.#fail(tooLarge(), out);
      return s.length;
    }
    if (doc.failure === null) {
      out.push({ kind: 'document', document: doc.toDocument(end, bytes) });
    } else {
      out.push(parseError(doc.failure, false));
      this.#dropGarbage = true; // what follows may be the rest of this malformed document
    }
    this.#doc = null;
    this.#mode = 'between';
    return from + (end - base);
  }

  /**
   * Looks for the literal end tag of the root (`</Name`, blanks, `>`) from where the last
   * search stopped; returns the offset past it, or -1 when more text is needed.
   */
  #findRootEnd(doc: DocumentParser): number {
    const text = doc.text;
    const opener = '</' + doc.rootName;
    let from = this.#skipFrom;
    for (;;) {
      const lt = text.indexOf(opener, from);
      if (lt < 0) {
        // The opener may be cut by the chunk boundary: search its possible start again.
        this.#skipFrom = Math.max(from, text.length - opener.length + 1);
        return -1;
      }
      let k = lt + opener.length;
      while (k < text.length && isXmlSpace(text.charCodeAt(k))) k++;
      if (k >= text.length) {
        this.#skipFrom = lt;
        return -1;
      }
      if (text.charCodeAt(k) === 0x3e) return k + 1; // '>'
      from = lt + 1;
    }
  }

  #fail(item: FramedItem, out: FramedItem[]): void {
    out.push(item);
    this.#mode = 'dead';
    this.#doc = null;
    this.#carry = '';
  }
}

function parseError(message: string, fatal: boolean): FramedItem {
  return { kind: 'error', reason: 'parse', message, fatal };
}

function tooLarge(): FramedItem {
  return { kind: 'error', reason: 'too-large', message: 'document exceeds the size limit', fatal: true };
}
