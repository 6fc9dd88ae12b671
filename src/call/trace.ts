/**
 * The SIP messages of recent calls, for the ladder diagram (decisions.md §7): the stack's message
 * observer feeds every message in and out; the messages whose Call-ID belongs to one of the last
 * `TraceCalls` click-to-calls are kept, credentials redacted. Bounded in calls and in messages
 * per call.
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
  redact: (text: string) => string;
  now?: () => number;
}

/** What observe() keeps: the bytes, turned into a TraceEntry only when someone reads the ladder. */
interface Held {
  time: number;
  direction: 'in' | 'out';
  transport: string;
  address: string;
  port: number;
  sipCallId: string;
  data: Buffer;
}

interface TracedCall {
  messages: Held[];
  /** Its legs' SIP Call-IDs, to forget them with the call. */
  sipCallIds: string[];
}

export class CallTrace {
  /** click-to-call id → its messages, oldest call first (Map keeps insertion order). */
  private readonly calls = new Map<string, TracedCall>();
  /** SIP Call-ID → click-to-call id. */
  private readonly bySipCallId = new Map<string, string>();
  private readonly maxPerCall: number;
  private readonly maxBytes: number;

  constructor(private readonly opts: TraceOptions) {
    this.maxPerCall = opts.maxMessagesPerCall ?? 200;
    this.maxBytes = opts.maxMessageBytes ?? 8192;
  }

  get enabled(): boolean {
    return this.opts.maxCalls > 0;
  }

  /** A leg of `callId` uses SIP Call-ID `sipCallId`: its messages belong to the call's ladder. */
  addLeg(callId: string, sipCallId: string): void {
    if (!this.enabled) return;
    let call = this.calls.get(callId);
    if (!call) {
      call = { messages: [], sipCallIds: [] };
      this.calls.set(callId, call);
      while (this.calls.size > this.opts.maxCalls) {
        const [oldestId, oldest] = this.calls.entries().next().value as [string, TracedCall];
        this.calls.delete(oldestId);
        for (const sip of oldest.sipCallIds) if (this.bySipCallId.get(sip) === oldestId) this.bySipCallId.delete(sip);
      }
    }
    call.sipCallIds.push(sipCallId);
    this.bySipCallId.set(sipCallId, callId);
  }

  /**
   * The stack's message observer. Cheap for every message: a map lookup by the SIP Call-ID (read
   * from the parsed message when the stack passes it, else scanned for), and a reference to the
   * bytes; decoding and redaction wait for get().
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
    if (!call || call.messages.length >= this.maxPerCall) return;
    let kept = data.length > this.maxBytes ? data.subarray(0, this.maxBytes) : data;
    // A view into a larger buffer (a TCP read, Node's 8 KiB allocation pool) would pin all of it.
    if (kept.byteLength !== kept.buffer.byteLength) kept = Buffer.from(kept);
    call.messages.push({
      time: (this.opts.now ?? Date.now)(),
      direction, transport, address: remote.address, port: remote.port, sipCallId, data: kept,
    });
  };

  get(callId: string): TraceEntry[] | undefined {
    return this.calls.get(callId)?.messages.map((m) => {
      const text = this.opts.redact(m.data.toString('utf8'));
      const eol = text.indexOf('\n');
      const firstLine = (eol < 0 ? text : text.slice(0, eol)).replace(/\r$/, '');
      return {
        time: m.time,
        direction: m.direction,
        transport: m.transport,
        peer: m.address.includes(':') ? `[${m.address}]:${m.port}` : `${m.address}:${m.port}`,
        sipCallId: m.sipCallId,
        summary: summarize(firstLine),
        text,
      };
    });
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
