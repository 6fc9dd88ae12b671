/**
 * The SIP message model (RFC 3261 §7): a start line, an ordered list of header lines kept as
 * received, and a body. Structured values (Via, From, To, CSeq, …) are parsed on first access
 * and cached; a received message that was not modified serializes to its original bytes.
 */
import { SipParseError } from './errors.js';
import { headerKey, canonicalName, isListHeader } from './header-names.js';
import { isToken, isTokenChar, parseParams, splitList } from './grammar.js';
import { NameAddr, parseNameAddr } from './name-addr.js';
import { parseUri, type SipUri } from './uri.js';
import { parseVia, type Via } from './via.js';
import { detachForWait } from './detach.js';
import { materializeHeaders, pendingLinesNamed, pendingValues, type HeaderLineOffsets } from './header-lines.js';
// A cycle (parse.ts builds these classes), used only at call time: compact() messages re-read.
import { parseMessage } from './parse.js';

export interface Header {
  /** As written on the wire (or canonical when we created it). */
  name: string;
  /** Lower-case, compact forms expanded: the lookup key. */
  key: string;
  value: string;
}

/** Where a received message came from; filled in by the stack. */
export interface MessageSource {
  transport: string;
  address: string;
  port: number;
  localAddress: string;
  localPort: number;
  connectionId?: number;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface EventHeader {
  type: string;
  id: string | undefined;
  params: Map<string, string | null>;
}

export interface SubscriptionState {
  state: string; // active | pending | terminated | extension
  expires: number | undefined;
  reason: string | undefined;
  retryAfter: number | undefined;
  params: Map<string, string | null>;
}

export interface ReplacesHeader {
  callId: string;
  toTag: string;
  fromTag: string;
  earlyOnly: boolean;
}


/** Header reads answered by scanning the line offsets before the lines become Header objects. */
const PENDING_SCANS = 4;

export abstract class SipMessage {
  abstract readonly isRequest: boolean;
  /** The header lines; undefined while they are still offsets into `pendingText` (see header-lines.ts). */
  private headerList: Header[] | undefined;
  private pendingText: string | undefined = undefined;
  private pendingLines: HeaderLineOffsets | undefined = undefined;
  private pendingScans = 0;
  /**
   * A top Via replaced (§18.2.1 stamping) while the lines are still offsets: written into the
   * first Via line when the lines become Header objects, so that stamping every received request
   * does not make objects of all its lines.
   */
  private pendingTopVia: Via | undefined = undefined;
  /**
   * responseCopies' answer: a request answered by 100, 180 and 200 copies the same lines three
   * times. Its Header objects are shared with those responses, which is safe because a Header is
   * never changed in place (changes replace the object).
   */
  private copiedLines: Header[] | undefined = undefined;
  body: Buffer;
  /** The bytes this message was parsed from (or serialize() built), until it is modified. */
  raw: Buffer | undefined;
  source: MessageSource | undefined;
  // Structured values, parsed once (by parseMessage, or on first read) and dropped when their
  // header changes. Plain fields rather than a Map: these are read for every message.
  private topViaValue: Via | undefined = undefined;
  private viaList: Via[] | undefined = undefined;
  private fromValue: NameAddr | undefined = undefined;
  private toValue: NameAddr | undefined = undefined;
  private callIdValue: string | undefined = undefined;
  private cseqValue: CSeq | undefined = undefined;
  private maxForwardsValue: number | undefined = undefined;
  private maxForwardsRead = false;
  /** The other structured values, by header key. */
  private cache: Map<string, unknown> | undefined = undefined;

  constructor(headers: Header[] = [], body: Buffer = EMPTY) {
    this.headerList = headers;
    this.body = body;
  }

  /** The header lines in order, as received (or as built). */
  get headers(): Header[] {
    if (this.headerList === undefined) {
      if (this.pendingText === undefined) return (this.headerList = this.reread());
      this.headerList = materializeHeaders(this.pendingText!, this.pendingLines!);
      this.pendingText = undefined;
      this.pendingLines = undefined;
      if (this.pendingTopVia !== undefined) {
        writeTopVia(this.headerList, this.pendingTopVia);
        this.pendingTopVia = undefined;
      }
    }
    return this.headerList;
  }

  set headers(list: Header[]) {
    this.raw = undefined;
    this.headerList = list;
    this.pendingText = undefined;
    this.pendingLines = undefined;
    this.pendingTopVia = undefined;
    this.forgetCopiedLines();
  }

  /**
   * Keeps only the bytes. A transaction in a wait state (Completed, Accepted, Confirmed: up to
   * 64*T1 on UDP) holds its request and last response in case of retransmissions, and thousands
   * of them wait at any time under load: their parsed header objects, URIs and caches would be
   * kilobytes of small objects per transaction for the garbage collector to trace. Everything
   * dropped here is read again from the bytes if anything asks for it (rarely: a retransmission
   * re-sends the bytes as they are).
   */
  compact(): void {
    if (this.headerList === undefined && this.pendingText === undefined) return; // already compact
    // A built message's bytes are a view into an 8 KiB pool slab shared with short-lived
    // buffers: kept for 32 s, the view would keep the whole slab (~4 KB per call, issue 6).
    const raw = detachForWait(this.serialize());
    this.raw = raw;
    // The body too is read from the kept bytes (it ends them): the old one is a view into a pool
    // slab or a datagram, and held for 32 s it pinned ~8 KiB per call (issue 6 heap snapshot).
    const bodyLength = this.body.length;
    if (bodyLength > 0) this.body = raw.subarray(raw.length - bodyLength);
    this.headerList = undefined;
    this.pendingText = undefined;
    this.pendingLines = undefined;
    this.pendingTopVia = undefined;
    this.forgetCopiedLines();
    this.topViaValue = undefined;
    this.viaList = undefined;
    this.fromValue = undefined;
    this.toValue = undefined;
    this.callIdValue = undefined;
    this.cseqValue = undefined;
    this.maxForwardsValue = undefined;
    this.maxForwardsRead = false;
    this.cache = undefined;
    this.compactStartLine();
  }

  /** The parts of the start line that compact() may drop (the parsed Request-URI). */
  protected compactStartLine(): void {}

  /** The header lines of a compacted message, parsed again from its bytes. */
  private reread(): Header[] {
    // A compacted message was accepted (or built) before, so its bytes parse; stream framing:
    // the body is exactly what serialize() wrote after the Content-Length it wrote.
    return parseMessage(this.raw!, { stream: true }).headers;
  }

  /**
   * For parseMessage: the header lines as offsets into `text`, made into Header objects when
   * `headers` is first read.
   */
  setPendingHeaders(text: string, lines: HeaderLineOffsets): void {
    this.headerList = undefined;
    this.pendingText = text;
    this.pendingLines = lines;
    this.pendingTopVia = undefined;
    this.forgetCopiedLines();
  }

  // ── header access ──────────────────────────────────────────────────────────────

  /**
   * The values of one header while the lines are still offsets; null: read `headers` instead.
   * Each call scans every line, so a message asked for many headers is materialized instead
   * (after PENDING_SCANS scans the Header objects cost less than more scans).
   */
  private pendingValuesOf(key: string): readonly string[] | null {
    if (this.headerList !== undefined || this.pendingText === undefined) return null;
    if (key === 'via' && this.pendingTopVia !== undefined) return null;
    if (++this.pendingScans > PENDING_SCANS) return null;
    return pendingValues(this.pendingText, this.pendingLines!, key);
  }

  /** First value of a header (for list headers, the first list element). */
  get(name: string): string | undefined {
    const key = headerKey(name);
    const pending = this.pendingValuesOf(key);
    if (pending !== null) {
      const v = pending[0];
      return v === undefined || !isListHeader(key) ? v : splitList(v)[0];
    }
    for (const h of this.headers) {
      if (h.key === key) return isListHeader(key) ? splitList(h.value)[0] : h.value;
    }
    return undefined;
  }

  /** Every value of a header: all lines, list headers split on their commas (§7.3.1). */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    const pending = this.pendingValuesOf(key);
    if (pending !== null) {
      for (const v of pending) {
        if (list) for (const x of splitList(v)) out.push(x);
        else out.push(v);
      }
      return out;
    }
    for (const h of this.headers) {
      if (h.key !== key) continue;
      if (list) for (const v of splitList(h.value)) out.push(v);
      else out.push(h.value);
    }
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    const pending = this.pendingValuesOf(key);
    if (pending !== null) return pending.length > 0;
    for (const h of this.headers) if (h.key === key) return true;
    return false;
  }

  /**
   * The lines a response copies from this request (§8.2.6.2): Via, From, To, Call-ID, CSeq, in
   * that order (message order within a name), in an array of the caller's own. While the lines
   * are still offsets, only these become Header objects.
   */
  responseCopies(): Header[] {
    let found = this.copiedLines;
    if (found === undefined) {
      let fromPending: Header[] | null = null;
      if (this.headerList === undefined && this.pendingText !== undefined) {
        fromPending = pendingLinesNamed(this.pendingText, this.pendingLines!, RESPONSE_COPIES);
        if (fromPending !== null && this.pendingTopVia !== undefined) writeTopVia(fromPending, this.pendingTopVia);
      }
      found = fromPending ?? this.headers.filter((h) => RESPONSE_COPIES.includes(h.key))
        .sort((a, b) => RESPONSE_COPIES.indexOf(a.key) - RESPONSE_COPIES.indexOf(b.key));
      this.copiedLines = found;
    }
    return found.slice();
  }

  /** The lines changed: responseCopies reads them again. */
  private forgetCopiedLines(): void {
    this.copiedLines = undefined;
  }

  get headerCount(): number {
    return this.headers.length;
  }

  /** Replaces every line of a header with the given value(s). */
  set(name: string, value: string | string[]): this {
    const key = headerKey(name);
    const spelled = canonicalName(key);
    const list = this.headers;
    if (typeof value === 'string' && !list.some((h) => h.key === key)) {
      // A header the message does not have yet (Contact, Server … on a response we build): appended.
      list.push({ name: spelled, key, value });
      this.touched(key);
      return this;
    }
    let at = -1;
    const kept: Header[] = [];
    for (let i = 0; i < list.length; i++) {
      const h = list[i]!;
      if (h.key === key) {
        if (at < 0) at = kept.length;
      } else kept.push(h);
    }
    if (at < 0) at = kept.length;
    if (typeof value === 'string') kept.splice(at, 0, { name: spelled, key, value });
    else for (let i = 0; i < value.length; i++) kept.splice(at + i, 0, { name: spelled, key, value: value[i]! });
    this.headers = kept;
    this.touched(key);
    return this;
  }

  /** Appends a header line after the existing ones. */
  add(name: string, value: string): this {
    const key = headerKey(name);
    let last = -1;
    for (let i = 0; i < this.headers.length; i++) if (this.headers[i]!.key === key) last = i;
    const h = { name: canonicalName(key), key, value };
    if (last < 0) this.headers.push(h);
    else this.headers.splice(last + 1, 0, h);
    this.touched(key);
    return this;
  }

  /** Inserts a header line before the existing ones of that name (a new top Via, §16.6). */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    const h = { name: canonicalName(key), key, value };
    const first = this.headers.findIndex((x) => x.key === key);
    if (first < 0) this.headers.unshift(h);
    else this.headers.splice(first, 0, h);
    this.touched(key);
    return this;
  }

  /** Puts `via` (with its text) above the other Via lines: a UAC's own Via (§8.1.1.7), already parsed. */
  prependTopVia(via: Via, text: string): this {
    this.prepend('Via', text);
    this.topViaValue = via;
    return this;
  }

  remove(name: string): this {
    const key = headerKey(name);
    this.headers = this.headers.filter((h) => h.key !== key);
    this.touched(key);
    return this;
  }

  /** Removes the first value of a list header (the top Via when a proxy or UAC strips it). */
  removeFirst(name: string): this {
    const key = headerKey(name);
    const i = this.headers.findIndex((h) => h.key === key);
    if (i >= 0) {
      const rest = splitList(this.headers[i]!.value).slice(1);
      if (rest.length === 0) this.headers.splice(i, 1);
      else this.headers[i] = { ...this.headers[i]!, value: rest.join(', ') };
      this.touched(key);
    }
    return this;
  }

  setBody(body: Buffer | string, contentType?: string): this {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType !== undefined) this.set('content-type', contentType);
    else if (this.body.length === 0) this.remove('content-type');
    this.raw = undefined;
    return this;
  }

  /**
   * For parseMessage: the core values it has already parsed and checked, so that the first
   * reads do not parse them again.
   */
  primeCore(topVia: Via, from: NameAddr, to: NameAddr, callId: string, cseq: CSeq): void {
    this.topViaValue = topVia;
    this.fromValue = from;
    this.toValue = to;
    this.callIdValue = callId;
    this.cseqValue = cseq;
  }

  /** For parseMessage: the Max-Forwards value it has checked (undefined: no such header). */
  primeMaxForwards(value: number | undefined): void {
    this.maxForwardsValue = value;
    this.maxForwardsRead = true;
  }

  /**
   * Replaces the top Via value (the first element of the first Via line) with `via`, e.g. after
   * §18.2.1 added received/rport to it; the other Via values and header lines stay as they are.
   */
  replaceTopVia(via: Via): this {
    if (this.headerList === undefined && this.pendingText !== undefined) this.pendingTopVia = via;
    else writeTopVia(this.headers, via);
    this.forgetCopiedLines();
    this.raw = undefined;
    this.topViaValue = via;
    if (this.viaList !== undefined) this.viaList[0] = via;
    return this;
  }

  protected touched(key: string): void {
    this.raw = undefined;
    this.forgetCopiedLines();
    switch (key) {
      case 'via':
        this.topViaValue = undefined;
        this.viaList = undefined;
        return;
      case 'from':
        this.fromValue = undefined;
        return;
      case 'to':
        this.toValue = undefined;
        return;
      case 'call-id':
        this.callIdValue = undefined;
        return;
      case 'cseq':
        this.cseqValue = undefined;
        return;
      case 'max-forwards':
        this.maxForwardsValue = undefined;
        this.maxForwardsRead = false;
        return;
      default:
        this.cache?.delete(key);
    }
  }

  protected cached<T>(key: string, make: () => T): T {
    if (!this.cache) this.cache = new Map();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  private required(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw new SipParseError(`Missing ${canonicalName(headerKey(name))} header`);
    return v;
  }

  // ── structured values (parsed once, on first use) ──────────────────────────────

  get vias(): Via[] {
    if (this.viaList === undefined) {
      const values = this.getAll('via');
      const list: Via[] = [];
      for (let i = 0; i < values.length; i++) {
        // The top Via may already be parsed (and stamped, §18.2.1): keep that object.
        list.push(i === 0 && this.topViaValue !== undefined ? this.topViaValue : parseVia(values[i]!));
      }
      this.viaList = list;
      if (list.length > 0) this.topViaValue = list[0];
    }
    return this.viaList;
  }

  /** The first Via value, parsed on its own: the other Via values are parsed only when `vias` is read. */
  get topVia(): Via {
    if (this.topViaValue === undefined) {
      let first: string | undefined;
      for (const h of this.headers) {
        if (h.key !== 'via') continue;
        // Skips an empty Via line as getAll does (§7.3.1 lists).
        first = h.value.indexOf(',') < 0 ? trimmedOrUndefined(h.value) : splitList(h.value)[0];
        if (first !== undefined) break;
      }
      if (first === undefined) throw new SipParseError('Missing Via header');
      this.topViaValue = parseVia(first);
    }
    return this.topViaValue;
  }

  get from(): NameAddr {
    return (this.fromValue ??= parseNameAddr(this.required('from')));
  }

  get to(): NameAddr {
    return (this.toValue ??= parseNameAddr(this.required('to')));
  }

  get callId(): string {
    return (this.callIdValue ??= this.required('call-id'));
  }

  get cseq(): CSeq {
    return (this.cseqValue ??= parseCSeq(this.required('cseq')));
  }

  get maxForwards(): number | undefined {
    if (!this.maxForwardsRead) {
      const v = this.get('max-forwards');
      // 1*DIGIT, leading zeros allowed (RFC 4475 §3.1.1.1 sends "0068").
      if (v !== undefined && (!isDigits(v) || Number(v) > 255)) throw new SipParseError(`Bad Max-Forwards "${v}"`);
      this.maxForwardsValue = v === undefined ? undefined : Number(v);
      this.maxForwardsRead = true;
    }
    return this.maxForwardsValue;
  }

  get contacts(): NameAddr[] | '*' {
    return this.cached('contact', () => {
      const values = this.getAll('contact');
      if (values.length === 1 && values[0] === '*') return '*' as const;
      return values.map(parseNameAddr);
    });
  }

  get contact(): NameAddr | undefined {
    const c = this.contacts;
    return c === '*' ? undefined : c[0];
  }

  get routes(): NameAddr[] {
    return this.cached('route', () => this.getAll('route').map(parseNameAddr));
  }

  get recordRoutes(): NameAddr[] {
    return this.cached('record-route', () => this.getAll('record-route').map(parseNameAddr));
  }

  get contentType(): string | undefined {
    const v = this.get('content-type');
    return v === undefined ? undefined : v.split(';', 1)[0]!.trim().toLowerCase();
  }

  get contentLength(): number {
    return this.body.length;
  }

  get expires(): number | undefined {
    return this.cached('expires', () => parseUnsigned(this.get('expires'), 'Expires'));
  }

  get referTo(): NameAddr | undefined {
    return this.cached('refer-to', () => {
      const v = this.get('refer-to');
      return v === undefined ? undefined : parseNameAddr(v);
    });
  }

  get referredBy(): NameAddr | undefined {
    return this.cached('referred-by', () => {
      const v = this.get('referred-by');
      return v === undefined ? undefined : parseNameAddr(v);
    });
  }

  get event(): EventHeader | undefined {
    return this.cached('event', () => {
      const v = this.get('event');
      if (v === undefined) return undefined;
      const semi = v.indexOf(';');
      const type = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
      if (!isToken(type)) throw new SipParseError(`Bad Event "${v}"`);
      const params = new Map<string, string | null>();
      if (semi >= 0) parseParams(v, semi, params);
      return { type, id: params.get('id') ?? undefined, params };
    });
  }

  get subscriptionState(): SubscriptionState | undefined {
    return this.cached('subscription-state', () => {
      const v = this.get('subscription-state');
      if (v === undefined) return undefined;
      const semi = v.indexOf(';');
      const state = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
      if (!isToken(state)) throw new SipParseError(`Bad Subscription-State "${v}"`);
      const params = new Map<string, string | null>();
      if (semi >= 0) parseParams(v, semi, params);
      return {
        state,
        expires: parseUnsigned(params.get('expires') ?? undefined, 'Subscription-State expires'),
        reason: params.get('reason')?.toLowerCase() ?? undefined,
        retryAfter: parseUnsigned(params.get('retry-after') ?? undefined, 'Subscription-State retry-after'),
        params,
      };
    });
  }

  /** Allow methods (upper-case), or undefined when the header is absent. */
  get allow(): string[] | undefined {
    return this.cached('allow', () => (this.has('allow') ? this.getAll('allow').map((m) => m.toUpperCase()) : undefined));
  }

  get supported(): string[] {
    return this.cached('supported', () => this.getAll('supported').map((m) => m.toLowerCase()));
  }

  get require(): string[] {
    return this.cached('require', () => this.getAll('require').map((m) => m.toLowerCase()));
  }

  /** RFC 3891 Replaces. */
  get replaces(): ReplacesHeader | undefined {
    return this.cached('replaces', () => {
      const v = this.get('replaces');
      return v === undefined ? undefined : parseReplaces(v);
    });
  }

  /** RFC 4488 Refer-Sub: false means "no implicit subscription". */
  get referSub(): boolean | undefined {
    const v = this.get('refer-sub');
    if (v === undefined) return undefined;
    return v.split(';', 1)[0]!.trim().toLowerCase() !== 'false';
  }

  // ── serialization ──────────────────────────────────────────────────────────────

  abstract startLine(): string;

  /**
   * Bytes on the wire. Content-Length is always written from the body (§20.14). The bytes of a
   * built message are kept in `raw` until it is modified, as a parsed message's are: the size
   * check before a send (§18.1.1), the send itself, retransmissions and compact() share them.
   */
  serialize(): Buffer {
    if (this.raw) return this.raw;
    const head = this.headText();
    let out: Buffer;
    if (this.body.length === 0) out = Buffer.from(head, 'utf8');
    else {
      // One allocation (from the pool for small messages): head, then body.
      const headLength = Buffer.byteLength(head, 'utf8');
      out = Buffer.allocUnsafe(headLength + this.body.length);
      out.write(head, 0, headLength, 'utf8');
      this.body.copy(out, headLength);
    }
    this.raw = out;
    return out;
  }

  /** The length of `serialize()`'s result. */
  byteLength(): number {
    return this.serialize().length;
  }

  /** Start line, header lines and the empty line, as serialize() writes them. */
  private headText(): string {
    let head = this.startLine() + '\r\n';
    for (const h of this.headers) {
      if (h.key === 'content-length') continue;
      head += h.name + ': ' + h.value + '\r\n';
    }
    return head + 'Content-Length: ' + this.body.length + '\r\n\r\n';
  }

  toString(): string {
    return this.serialize().toString('utf8');
  }
}

/** §8.2.6.2: the lines a response copies from its request, in the order it writes them. */
const RESPONSE_COPIES: readonly string[] = ['via', 'from', 'to', 'call-id', 'cseq'];

/** Puts `via` in place of the first value of the first Via line of `list` (or adds that line). */
function writeTopVia(list: Header[], via: Via): void {
  const i = list.findIndex((h) => h.key === 'via');
  if (i < 0) {
    list.unshift({ name: 'Via', key: 'via', value: via.toString() });
    return;
  }
  const old = list[i]!.value;
  const rest = old.indexOf(',') < 0 ? [] : splitList(old).slice(1);
  rest.unshift(via.toString());
  // A new Header object: the old one may be shared with a copy of this message.
  list[i] = { name: 'Via', key: 'via', value: rest.join(', ') };
}

export class SipRequest extends SipMessage {
  readonly isRequest = true as const;
  readonly method: string;
  private uriText: string;
  private parsedUri: SipUri | undefined;

  constructor(method: string, uri: string | SipUri, headers?: Header[], body?: Buffer) {
    super(headers, body);
    this.method = method;
    if (typeof uri === 'string') this.uriText = uri;
    else {
      this.uriText = uri.toString();
      this.parsedUri = uri;
    }
  }

  /** The Request-URI as written. */
  get uri(): string {
    return this.uriText;
  }

  set uri(value: string) {
    this.uriText = value;
    this.parsedUri = undefined;
    this.raw = undefined;
  }

  protected override compactStartLine(): void {
    this.parsedUri = undefined;
  }

  /** The Request-URI, parsed on first use (throws SipParseError when malformed). */
  get requestUri(): SipUri {
    if (!this.parsedUri) this.parsedUri = parseUri(this.uriText);
    return this.parsedUri;
  }

  startLine(): string {
    return `${this.method} ${this.uriText} SIP/2.0`;
  }
}

export class SipResponse extends SipMessage {
  readonly isRequest = false as const;
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, headers?: Header[], body?: Buffer) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }

  startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }
}

export const EMPTY: Buffer = Buffer.alloc(0);

export function parseCSeq(v: string): CSeq {
  // The usual form, "<digits> SP <token>", read in one pass; anything else by the general reading.
  const n = v.length;
  let i = 0;
  let seq = 0;
  for (let c = v.charCodeAt(0); c >= 48 && c <= 57; c = v.charCodeAt(++i)) seq = seq * 10 + (c - 48);
  if (i > 0 && i <= 10 && seq <= 0xffffffff && v.charCodeAt(i) === 32) {
    const m = i + 1;
    let j = m;
    while (j < n && isTokenChar(v.charCodeAt(j))) j++;
    if (j === n && j > m) return { seq, method: v.slice(m) };
  }
  return parseCSeqGeneral(v);
}

/** The general reading (exported so that tests can check the fast path agrees with it). */
export function parseCSeqGeneral(v: string): CSeq {
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) i++;
  const digits = v.slice(0, i);
  const method = v.slice(i).trim();
  // §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer.
  if (digits.length === 0 || digits.length > 10 || Number(digits) > 0xffffffff) {
    throw new SipParseError(`Bad CSeq "${v}"`);
  }
  if (i === v.length || (v.charCodeAt(i) !== 32 && v.charCodeAt(i) !== 9) || !isToken(method)) {
    throw new SipParseError(`Bad CSeq "${v}"`);
  }
  return { seq: Number(digits), method };
}

function trimmedOrUndefined(v: string): string | undefined {
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * The value of a 1*DIGIT string, or -1 when it is empty or holds anything else. Values past
 * 2^40 are clamped there (callers only compare them with smaller limits).
 */
export function digitsValue(v: string): number {
  if (v.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
    if (n > 0x10000000000) n = 0x10000000000;
  }
  return n;
}

/** 1*DIGIT */
export function isDigits(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function parseUnsigned(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^\d{1,10}$/.test(t) || Number(t) > 0xffffffff) throw new SipParseError(`Bad ${what} "${v}"`);
  return Number(t);
}

function parseReplaces(v: string): ReplacesHeader {
  const semi = v.indexOf(';');
  const callId = (semi < 0 ? v : v.slice(0, semi)).trim();
  const params = new Map<string, string | null>();
  if (semi >= 0) parseParams(v, semi, params);
  const toTag = params.get('to-tag');
  const fromTag = params.get('from-tag');
  if (!callId || !toTag || !fromTag) throw new SipParseError(`Bad Replaces "${v}"`);
  return { callId, toTag, fromTag, earlyOnly: params.has('early-only') };
}

export { NameAddr };
