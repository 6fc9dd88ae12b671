// One XML document read with saxes, fed piece by piece as it arrives.
//
// The parser sees exactly the document's text (from its first markup character), so saxes'
// `position` (a UTF-16 index into everything written so far) is an offset into `text`.
// When the root element closes, or when the document turns out malformed inside its root,
// a handler throws a private sentinel out of `write()`: saxes stops on the spot, and the
// caller (the framer) learns where the document ends or where to resynchronise.
//
// Safety: saxes never reads external entities and does not expand entities declared in a
// DOCTYPE internal subset (an undeclared `&x;` is an error). We go further and refuse any
// DOCTYPE, so neither XXE nor "billion laughs" can do anything but earn a `Parse error`.
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';

/** An element `<Secret>…</Secret>` (any case, any depth) that the echo must leave out. */
export interface SecretSpan {
  /** Start of the run of whitespace right before the element (the cut starts here). */
  readonly cutStart: number;
  /** Offset of the element's `<`. */
  readonly start: number;
  /** Offset just past the element's last `>`. */
  readonly end: number;
}

/** A complete, well-formed document as received, with what the codec needs from it. */
export interface XmlDocument {
  /** Exact text from the first markup character (prolog, comment…) through the root end tag. */
  readonly text: string;
  /** UTF-8 size of `text` in bytes. */
  readonly bytes: number;
  /** Offset of the root start tag's `<` in `text`. */
  readonly rootStart: number;
  /** The root element's name as written. */
  readonly rootName: string;
  /**
   * Offset just past the literal `</Request>` closing the root's first `<Request>` child
   * (exact case), or -1 when there is none (lower-case tags, `<Request/>`, no request).
   */
  readonly requestEnd: number;
  /**
   * Children of the root's first child named `request` (any case): lower-cased element
   * name → its direct character data (text and CDATA, not trimmed); the first occurrence of
   * a name wins. `null` when the root has no such child.
   */
  readonly request: ReadonlyMap<string, string> | null;
  /** `<Secret>` elements to cut from any echo, in document order, outermost only. */
  readonly secretSpans: readonly SecretSpan[];
}

export type FeedOutcome =
  /** Everything was consumed; the document is still open. */
  | { readonly kind: 'more' }
  /** The document ends at `end` (offset in `text`); `failure` is set when it is malformed. */
  | { readonly kind: 'complete'; readonly end: number }
  /**
   * Malformed inside the root: saxes' view of the nesting can no longer be trusted. The
   * caller resynchronises by looking for the literal root end tag from `searchFrom` on.
   */
  | { readonly kind: 'failed'; readonly searchFrom: number }
  /** saxes itself threw: where the document ends is unknown. */
  | { readonly kind: 'lost'; readonly message: string };

const ROOT_CLOSED: unique symbol = Symbol('root closed');
const ROOT_FAILED: unique symbol = Symbol('root failed');

const LT = 0x3c;

/** ASCII letters, digits, '_', '-', '.', ':' — the names a root is written with (others: no cut). */
function isPlainNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x3a;
}

export function isXmlSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

export class DocumentParser {
  /** Everything fed so far; may run past the document's end (the caller slices it). */
  text = '';
  /** First well-formedness problem, or null while the document is sound. */
  failure: string | null = null;
  rootName = '';
  rootStart = -1;

  readonly #saxes = new SaxesParser<{ xmlns: false; position: false }>({ xmlns: false, position: false });
  #depth = 0; // open elements; the root is depth 1
  #tagStart = -1; // `<` of the tag whose start saxes is reporting
  #endAt = -1;
  #searchFrom = -1;
  #requestState: 'none' | 'open' | 'closed' = 'none';
  #requestEnd = -1;
  #fields: Map<string, string> | null = null;
  #captureName: string | null = null;
  #captureText = '';
  #secretDepth = 0;
  #secretStart = -1;
  readonly #secretSpans: SecretSpan[] = [];
  /** The root closed at the very end of the part saxes was given: no sentinel was thrown. */
  #closedAtEnd = false;

  constructor() {
    const sax = this.#saxes;
    sax.on('opentagstart', () => {
      this.#tagStart = this.text.lastIndexOf('<', sax.position - 1);
    });
    sax.on('opentag', (tag) => this.#onOpenTag(tag));
    sax.on('closetag', (tag) => this.#onCloseTag(tag));
    sax.on('text', (data) => this.#onCharacters(data));
    sax.on('cdata', (data) => this.#onCharacters(data));
    sax.on('doctype', () => {
      // Not part of the protocol, and the door to entity tricks: refuse it outright.
      this.failure ??= 'DOCTYPE is not accepted';
    });
    sax.on('error', (err) => this.#onError(err));
  }

  /**
   * Appends `piece` to the document and lets saxes read it.
   *
   * A piece usually holds the rest of the document and the requests pipelined after it. When it
   * starts with the root's start tag, it is fed in two parts, cut right after the first literal
   * end tag of that name: the root then closes at the end of what saxes was given, and the
   * handler returns instead of throwing the sentinel (in Node every throw computes a message
   * location — ~3 µs a document, 1 % of a loaded server's time, issue 6). Where that end tag is
   * not the root's (a nested element of the same name, CDATA), the second part goes on as before.
   */
  feed(piece: string): FeedOutcome {
    const cut = this.#cutAfterRootEnd(piece);
    if (cut <= 0 || cut >= piece.length) return this.#feedPart(piece);
    const first = this.#feedPart(piece.slice(0, cut));
    if (first.kind === 'more') return this.#feedPart(piece.slice(cut));
    // A failure in the first part is resynchronised within it (the search for the root's end
    // tag starts before the cut, which follows one); `text` still holds everything fed, as the
    // caller expects of a document that did not complete.
    if (first.kind !== 'complete') this.text += piece.slice(cut);
    return first;
  }

  #feedPart(piece: string): FeedOutcome {
    this.text += piece;
    this.#closedAtEnd = false;
    try {
      this.#saxes.write(piece);
    } catch (thrown) {
      if (thrown === ROOT_CLOSED) return { kind: 'complete', end: this.#endAt };
      if (thrown === ROOT_FAILED) return { kind: 'failed', searchFrom: this.#searchFrom };
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      this.failure ??= message;
      return { kind: 'lost', message };
    }
    if (this.#closedAtEnd) return { kind: 'complete', end: this.#endAt };
    return { kind: 'more' };
  }

  /**
   * Where to cut a piece that starts with the root's start tag (after blanks; no prolog), or
   * whose root is open already: just past the first `</Name` blanks `>`. 0: do not cut.
   */
  #cutAfterRootEnd(piece: string): number {
    let name = this.rootName;
    if (this.#depth === 0) {
      if (this.rootStart >= 0) return 0;
      let i = 0;
      while (i < piece.length && isXmlSpace(piece.charCodeAt(i))) i++;
      if (piece.charCodeAt(i) !== LT) return 0;
      const nameStart = ++i;
      while (i < piece.length && isPlainNameChar(piece.charCodeAt(i))) i++;
      if (i === nameStart || i >= piece.length) return 0;
      const c = piece.charCodeAt(i);
      if (c !== 0x3e && c !== 0x2f && !isXmlSpace(c)) return 0;
      name = piece.slice(nameStart, i);
    } else if (name === '') {
      return 0;
    }
    const opener = '</' + name;
    for (let from = 0; ;) {
      const lt = piece.indexOf(opener, from);
      if (lt < 0) return 0;
      let k = lt + opener.length;
      while (k < piece.length && isXmlSpace(piece.charCodeAt(k))) k++;
      if (k >= piece.length) return 0;
      if (piece.charCodeAt(k) === 0x3e) return k + 1;
      from = lt + 1;
    }
  }

  /** Appends text without parsing it (while the framer searches for the root end tag). */
  appendRaw(piece: string): void {
    this.text += piece;
  }

  /** The finished document; call only after a `complete` outcome with no failure. */
  toDocument(end: number, bytes: number): XmlDocument {
    return {
      text: end === this.text.length ? this.text : this.text.slice(0, end),
      bytes,
      rootStart: this.rootStart,
      rootName: this.rootName,
      requestEnd: this.#requestEnd,
      request: this.#fields,
      secretSpans: this.#secretSpans,
    };
  }

  #onOpenTag(tag: SaxesTagPlain): void {
    const depth = ++this.#depth;
    const position = this.#saxes.position;
    if (depth === 1) {
      this.rootName = tag.name;
      this.rootStart = this.#tagStart;
      if (this.failure !== null) {
        // Something before the root was wrong (DOCTYPE, stray text…): the document is lost
        // but its end is still findable.
        if (tag.isSelfClosing) {
          this.#endAt = position;
          throw ROOT_CLOSED;
        }
        this.#searchFrom = position;
        throw ROOT_FAILED;
      }
      return;
    }
    const lowerName = tag.name.toLowerCase();
    if (depth === 2 && this.#requestState === 'none' && lowerName === 'request') {
      this.#requestState = 'open';
      this.#fields = new Map();
    } else if (depth === 3 && this.#requestState === 'open' && this.#fields !== null) {
      if (!this.#fields.has(lowerName)) {
        this.#captureName = lowerName;
        this.#captureText = '';
      }
    }
    if (this.#secretDepth === 0 && lowerName === 'secret') {
      this.#secretDepth = depth;
      this.#secretStart = this.#tagStart;
    }
  }

  #onCharacters(data: string): void {
    // Only the field's own character data, not that of nested elements.
    if (this.#captureName !== null && this.#depth === 3) this.#captureText += data;
  }

  #onCloseTag(tag: SaxesTagPlain): void {
    const depth = this.#depth;
    const position = this.#saxes.position;
    if (depth === 3 && this.#captureName !== null) {
      this.#fields?.set(this.#captureName, this.#captureText);
      this.#captureName = null;
      this.#captureText = '';
    }
    if (depth === this.#secretDepth) {
      let cutStart = this.#secretStart;
      while (cutStart > 0 && isXmlSpace(this.text.charCodeAt(cutStart - 1))) cutStart--;
      this.#secretSpans.push({ cutStart, start: this.#secretStart, end: position });
      this.#secretDepth = 0;
    }
    if (depth === 2 && this.#requestState === 'open') {
      this.#requestState = 'closed';
      if (!tag.isSelfClosing && this.text.startsWith('</Request>', position - 10)) {
        this.#requestEnd = position;
      }
    }
    this.#depth = depth - 1;
    if (depth !== 1) return;
    // saxes also reports the root as closed when an unmatched end tag pops every open
    // element; only the root's own end tag really ends the document.
    if (tag.isSelfClosing || this.#isEndTagOf(this.rootName, position)) {
      this.#endAt = position;
      // Nothing of the part follows the root's end: saxes has nothing left to read.
      if (position === this.text.length) {
        this.#closedAtEnd = true;
        return;
      }
      throw ROOT_CLOSED;
    }
    this.failure ??= 'the root element is closed by a mismatched end tag';
    this.#searchFrom = this.text.lastIndexOf('<', position - 1);
    throw ROOT_FAILED;
  }

  #onError(err: Error): void {
    this.failure ??= err.message;
    if (this.#depth === 0) return; // before the root: saxes recovers, keep reading
    const lt = this.text.lastIndexOf('<', this.#saxes.position - 1);
    this.#searchFrom = lt < 0 ? 0 : lt;
    throw ROOT_FAILED;
  }

  /** Whether the end tag that finishes just before `end` is `</name>` (blanks before `>` allowed). */
  #isEndTagOf(name: string, end: number): boolean {
    const lt = this.text.lastIndexOf('<', end - 1);
    if (lt < 0 || this.text.charCodeAt(lt) !== LT || !this.text.startsWith('</' + name, lt)) {
      return false;
    }
    for (let k = lt + 2 + name.length; k < end - 1; k++) {
      if (!isXmlSpace(this.text.charCodeAt(k))) return false;
    }
    return true;
  }
}
