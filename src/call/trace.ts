/**
 * The SIP messages of recent calls, for the ladder diagram (decisions.md §7): the stack's message
 * observer feeds every message in and out; the messages whose Call-ID belongs to one of the last
 * `TraceCalls` click-to-calls are kept, credentials redacted when read. Bounded in calls, in
 * messages per call, and in bytes: the messages live in one ring of bytes (TraceCalls × 16 KiB
 * by default), each a record chained to the next of its call. Keeping a message costs no object
 * of its own: under load an object per message, alive for the second or so that 1,000 calls
 * last, was the largest part of what the garbage collector copied out of the young generation
 * (issue 6: the request→INVITE p99 at half rate was 24 ms with it, 5.6–8.5 ms with TraceCalls = 0).
 */
export interface TraceEntry {
  time: number;
  direction: 'in' | 'out';
  transport: string;
  /** The peer's address:port. */
  peer: string;
  /** The SIP Call-ID (one click-to-call has one per leg). */
  sipCallId: string;
  /** `INVITE`, `200 OK` … */
  summary: string;
  text: string;
}

export interface TraceOptions {
  maxCalls: number;
  maxMessagesPerCall?: number;
  maxMessageBytes?: number;
  /** Bytes of the ring the messages are kept in (default maxCalls × 16 KiB, within 64 KiB … 256 MiB). */
  ringBytes?: number;
  redact: (text: string) => string;
  now?: () => number;
}

interface TracedCall {
  /** Ring positions (bytes written before the record) of its first and last message; -1: none. */
  first: number;
  last: number;
  count: number;
  /** Its legs' SIP Call-IDs (a record names its leg by index), to forget them with the call. */
  sipCallIds: string[];
}

// A record: the header, the peer's address (latin1), then the message's bytes (at most
// maxMessageBytes). Records never wrap around the ring's end: the tail is skipped instead.
const H_TIME = 0; // f64: ms since the epoch
const H_NEXT = 8; // f64: the position of the call's next record, -1 for none yet
const H_DIRECTION = 16; // u8: 0 in, 1 out
const H_TRANSPORT = 17; // u8: index into transportNames
const H_LEG = 18; // u8: index into the call's sipCallIds
const H_ADDRESS_LENGTH = 19; // u8
const H_PORT = 20; // u16
const H_DATA_LENGTH = 22; // u32
const HEADER = 26;

const PER_CALL_BYTES = 16 * 1024;
const MIN_RING = 64 * 1024;
const MAX_RING = 256 * 1024 * 1024;
/** Transport names get an index each; more distinct ones than this are not traced (there are five). */
const MAX_TRANSPORTS = 32;

export class CallTrace {
  /** click-to-call id → its messages, oldest call first (Map keeps insertion order). */
  private readonly calls = new Map<string, TracedCall>();
  /** SIP Call-ID → click-to-call id. */
  private readonly bySipCallId = new Map<string, string>();
  private readonly maxPerCall: number;
  private readonly maxBytes: number;
  private readonly ringBytes: number;
  /** Allocated at the first message kept (its pages are touched only as they are written). */
  private ring: Buffer | undefined;
  /** Bytes written into the ring since it was made: the position of the next record. */
  private written = 0;
  private readonly transportNames: string[] = [];

  constructor(private readonly opts: TraceOptions) {
    this.maxPerCall = opts.maxMessagesPerCall ?? 200;
    this.maxBytes = opts.maxMessageBytes ?? 8192;
    this.ringBytes = Math.floor(opts.ringBytes ?? Math.min(Math.max(opts.maxCalls * PER_CALL_BYTES, MIN_RING), MAX_RING));
  }

  get enabled(): boolean {
    return this.opts.maxCalls > 0;
  }

  /** A leg of `callId` uses SIP Call-ID `sipCallId`: its messages belong to the call's ladder. */
  addLeg(callId: string, sipCallId: string): void {
    if (!this.enabled) return;
    let call = this.calls.get(callId);
    if (!call) {
      call = { first: -1, last: -1, count: 0, sipCallIds: [] };
      this.calls.set(callId, call);
      while (this.calls.size > this.opts.maxCalls) this.forgetOldest();
    }
    call.sipCallIds.push(sipCallId);
    this.bySipCallId.set(sipCallId, callId);
  }

  /**
   * The stack's message observer. Cheap for every message: a map lookup by the SIP Call-ID (read
   * from the parsed message when the stack passes it, else scanned for), and a copy of the bytes
   * into the ring; decoding and redaction wait for get().
   */
  observe = (
    direction: 'in' | 'out', data: Buffer, transport: string, remote: { address: string; port: number },
    message?: { readonly callId: string },
  ): void => {
    if (this.bySipCallId.size === 0) return;
    let sipCallId: string | undefined;
    if (message) {
      try { sipCallId = message.callId; } catch { sipCallId = undefined; }
    } else {
      sipCallId = callIdOf(data.toString('latin1', 0, Math.min(data.length, 2048)));
    }
    if (!sipCallId) return;
    const callId = this.bySipCallId.get(sipCallId);
    if (!callId) return;
    const call = this.calls.get(callId);
    if (!call || call.count >= this.maxPerCall) return;
    const leg = call.sipCallIds.indexOf(sipCallId);
    const transportIndex = this.transportIndex(transport);
    const address = remote.address;
    if (leg < 0 || leg > 0xff || transportIndex < 0 || address.length > 0xff) return;
    this.append(call, (this.opts.now ?? Date.now)(), direction, transportIndex, leg, address, remote.port, data);
  };

  get(callId: string): TraceEntry[] | undefined {
    const call = this.calls.get(callId);
    if (!call) return undefined;
    const entries: TraceEntry[] = [];
    const ring = this.ring;
    let pos = call.first;
    while (ring !== undefined && this.intact(pos)) {
      const at = pos % this.ringBytes;
      const addressLength = ring[at + H_ADDRESS_LENGTH]!;
      const address = ring.toString('latin1', at + HEADER, at + HEADER + addressLength);
      const port = ring.readUInt16LE(at + H_PORT);
      const dataStart = at + HEADER + addressLength;
      const text = this.opts.redact(ring.toString('utf8', dataStart, dataStart + ring.readUInt32LE(at + H_DATA_LENGTH)));
      const eol = text.indexOf('\n');
      const firstLine = (eol < 0 ? text : text.slice(0, eol)).replace(/\r$/, '');
      entries.push({
        time: ring.readDoubleLE(at + H_TIME),
        direction: ring[at + H_DIRECTION] === 1 ? 'out' : 'in',
        transport: this.transportNames[ring[at + H_TRANSPORT]!] ?? '?',
        peer: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
        sipCallId: call.sipCallIds[ring[at + H_LEG]!] ?? '',
        summary: summarize(firstLine),
        text,
      });
      pos = ring.readDoubleLE(at + H_NEXT);
    }
    return entries;
  }

  /** Whether the record at `pos` is still in the ring (later writes have not reached it). */
  private intact(pos: number): boolean {
    return pos >= 0 && pos >= this.written - this.ringBytes;
  }

  private append(
    call: TracedCall, time: number, direction: 'in' | 'out', transport: number, leg: number,
    address: string, port: number, data: Buffer,
  ): void {
    const size = this.ringBytes;
    const dataLength = Math.min(data.length, this.maxBytes);
    const length = HEADER + address.length + dataLength;
    if (length > size) return;
    const ring = (this.ring ??= Buffer.allocUnsafeSlow(size));
    let pos = this.written;
    const tail = size - (pos % size);
    if (length > tail) pos += tail; // never across the end
    const end = pos + length;
    const low = end - size; // records before this position are overwritten by this one
    // The calls whose first record this one overwrites are forgotten whole, oldest first.
    for (;;) {
      const oldest = this.calls.values().next().value as TracedCall | undefined;
      if (oldest === undefined || oldest === call || oldest.first < 0 || oldest.first >= low) break;
      this.forgetOldest();
    }
    // This call keeps what is left of its own (only a call larger than the ring loses some).
    while (call.first >= 0 && call.first < low) {
      call.first = this.intact(call.first) ? ring.readDoubleLE((call.first % size) + H_NEXT) : -1;
    }
    if (call.first < 0) call.first = pos;
    else ring.writeDoubleLE(pos, (call.last % size) + H_NEXT);
    call.last = pos;
    call.count++;
    const at = pos % size;
    ring.writeDoubleLE(time, at + H_TIME);
    ring.writeDoubleLE(-1, at + H_NEXT);
    ring[at + H_DIRECTION] = direction === 'out' ? 1 : 0;
    ring[at + H_TRANSPORT] = transport;
    ring[at + H_LEG] = leg;
    ring[at + H_ADDRESS_LENGTH] = address.length;
    ring.writeUInt16LE(port, at + H_PORT);
    ring.writeUInt32LE(dataLength, at + H_DATA_LENGTH);
    ring.write(address, at + HEADER, 'latin1');
    data.copy(ring, at + HEADER + address.length, 0, dataLength);
    this.written = end;
  }

  /** Forgets the oldest call and its legs' Call-IDs. */
  private forgetOldest(): void {
    const [oldestId, oldest] = this.calls.entries().next().value as [string, TracedCall];
    this.calls.delete(oldestId);
    for (const sip of oldest.sipCallIds) if (this.bySipCallId.get(sip) === oldestId) this.bySipCallId.delete(sip);
  }

  private transportIndex(name: string): number {
    const i = this.transportNames.indexOf(name);
    if (i >= 0) return i;
    if (this.transportNames.length >= MAX_TRANSPORTS) return -1;
    return this.transportNames.push(name) - 1;
  }
}

function callIdOf(head: string): string | undefined {
  const m = /\r?\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+)/i.exec(head);
  return m ? m[1]!.trim() : undefined;
}

function summarize(firstLine: string): string {
  if (firstLine.startsWith('SIP/2.0 ')) return firstLine.slice(8);
  return firstLine.split(' ', 1)[0] ?? firstLine;
}
