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

export class CallTrace {
  /** click-to-call id → its messages, oldest call first (Map keeps insertion order). */
  private readonly calls = new Map<string, TraceEntry[]>();
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
    if (!this.calls.has(callId)) {
      this.calls.set(callId, []);
      while (this.calls.size > this.opts.maxCalls) {
        const oldest = this.calls.keys().next().value as string;
        this.calls.delete(oldest);
        for (const [sip, id] of this.bySipCallId) if (id === oldest) this.bySipCallId.delete(sip);
      }
    }
    this.bySipCallId.set(sipCallId, callId);
  }

  /** The stack's message observer. Cheap for messages of no traced call (one header scan). */
  observe = (direction: 'in' | 'out', data: Buffer, transport: string, remote: { address: string; port: number }): void => {
    if (this.bySipCallId.size === 0) return;
    const head = data.toString('latin1', 0, Math.min(data.length, 2048));
    const sipCallId = callIdOf(head);
    if (!sipCallId) return;
    const callId = this.bySipCallId.get(sipCallId);
    if (!callId) return;
    const list = this.calls.get(callId);
    if (!list || list.length >= this.maxPerCall) return;
    const text = this.opts.redact(data.toString('utf8', 0, Math.min(data.length, this.maxBytes)));
    const firstLine = head.slice(0, head.indexOf('\r\n') >= 0 ? head.indexOf('\r\n') : head.indexOf('\n'));
    list.push({
      time: (this.opts.now ?? Date.now)(),
      direction,
      transport,
      peer: remote.address.includes(':') ? `[${remote.address}]:${remote.port}` : `${remote.address}:${remote.port}`,
      sipCallId,
      summary: summarize(firstLine),
      text,
    });
  };

  get(callId: string): TraceEntry[] | undefined {
    return this.calls.get(callId);
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
