// Shared fixtures for the transaction-layer tests: requests built from text, a wire that records
// what was sent (and can fail on demand), and TUs that record what they were told.
import { createResponse } from '../../src/sip/message/build.js';
import { SipRequest, type SipMessage, type SipResponse } from '../../src/sip/message/message.js';
import { parseMessage } from '../../src/sip/message/parse.js';
import { CountingTimers } from '../../src/sip/timer.js';
import { TransactionLayer } from '../../src/sip/transaction/layer.js';
import type { TimerSettings } from '../../src/sip/transaction/settings.js';
import { FakeClock } from './fake-clock.js';
import type { ClientTransaction } from '../../src/sip/transaction/client-transaction.js';
import type { ServerTransaction } from '../../src/sip/transaction/server-transaction.js';
import type {
  ClientTransactionUser, Destination, ServerTransactionUser, TransactionEvent, TransactionWire, TransportName,
} from '../../src/sip/transaction/types.js';

export const UDP: Destination = { transport: 'udp', address: '192.0.2.10', port: 5060 };
export const TCP: Destination = { transport: 'tcp', address: '192.0.2.10', port: 5060, connectionId: 7 };

export function dest(transport: TransportName): Destination {
  return transport === 'udp' ? UDP : TCP;
}

let counter = 0;

export interface RequestOptions {
  method?: string;
  branch?: string | null; // null: no branch parameter at all
  viaHost?: string;
  viaPort?: number | null;
  transport?: string;
  uri?: string;
  callId?: string;
  cseq?: number;
  fromTag?: string;
  toTag?: string;
}

/** A request parsed from text, as the stack would receive or send it. */
export function request(o: RequestOptions = {}): SipRequest {
  const n = ++counter;
  const method = o.method ?? 'INVITE';
  const branch = o.branch === undefined ? `z9hG4bK-test-${n}` : o.branch;
  const port = o.viaPort === undefined ? 5070 : o.viaPort;
  const sentBy = (o.viaHost ?? 'client.example.com') + (port === null ? '' : `:${port}`);
  const via = `SIP/2.0/${o.transport ?? 'UDP'} ${sentBy}` + (branch === null ? '' : `;branch=${branch}`);
  const uri = o.uri ?? 'sip:bob@example.com';
  const text =
    `${method} ${uri} SIP/2.0\r\n` +
    `Via: ${via}\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:alice@example.com>;tag=${o.fromTag ?? `from-${n}`}\r\n` +
    `To: <sip:bob@example.com>${o.toTag ? `;tag=${o.toTag}` : ''}\r\n` +
    `Call-ID: ${o.callId ?? `call-${n}@example.com`}\r\n` +
    `CSeq: ${o.cseq ?? 1} ${method}\r\n` +
    `Content-Length: 0\r\n\r\n`;
  const msg = parseMessage(Buffer.from(text));
  if (!(msg instanceof SipRequest)) throw new Error('fixture: not a request');
  return msg;
}

/** The same request as received again (a retransmission: a new object with the same bytes). */
export function again(req: SipRequest): SipRequest {
  const msg = parseMessage(Buffer.from(req.serialize()));
  if (!(msg instanceof SipRequest)) throw new Error('fixture: not a request');
  return msg;
}

/** A response to `req`, with a To tag for everything above 100. */
export function response(req: SipRequest, status: number, toTag = 'totag-1'): SipResponse {
  return createResponse(req, status, undefined, toTag);
}

export interface Sent {
  message: SipMessage;
  dest: Destination;
  at: number;
}

/** Records every send; `fail` makes the next sends report an error (synchronously or later). */
export class FakeWire implements TransactionWire {
  readonly sent: Sent[] = [];
  private failures: { error: Error; async: boolean }[] = [];
  private readonly pendingCallbacks: (() => void)[] = [];
  constructor(private readonly now: () => number = () => 0) {}

  send(message: SipMessage, d: Destination, cb?: (err?: Error) => void): void {
    this.record(message, d, cb);
  }

  /** Bytes-only sends (a waiting transaction's last response) are recorded parsed back. */
  sendBytes(bytes: Buffer, d: Destination, cb?: (err?: Error) => void): void {
    this.record(parseMessage(bytes), d, cb);
  }

  private record(message: SipMessage, d: Destination, cb?: (err?: Error) => void): void {
    this.sent.push({ message, dest: d, at: this.now() });
    const failure = this.failures.shift();
    if (!failure) {
      cb?.();
      return;
    }
    if (failure.async) this.pendingCallbacks.push(() => cb?.(failure.error));
    else cb?.(failure.error);
  }

  fail(error = new Error('send failed'), async = false): this {
    this.failures.push({ error, async });
    return this;
  }

  /** Delivers the callbacks of failed sends queued with `async`. */
  flush(): void {
    for (const run of this.pendingCallbacks.splice(0)) run();
  }

  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const s of this.sent) {
      if (s.message instanceof SipRequest && (method === undefined || s.message.method === method)) out.push(s.message);
    }
    return out;
  }

  responses(status?: number): SipResponse[] {
    const out: SipResponse[] = [];
    for (const s of this.sent) {
      if (!s.message.isRequest && (status === undefined || (s.message as SipResponse).status === status)) {
        out.push(s.message as SipResponse);
      }
    }
    return out;
  }

  /** Times (ms) at which messages matching `pick` were sent. */
  times(pick: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => pick(s.message)).map((s) => s.at);
  }
}

export type ClientEvent =
  | { kind: 'response'; status: number; response: SipResponse }
  | { kind: 'timeout' }
  | { kind: 'transport-error'; error: Error }
  | { kind: 'terminated'; state: string };

export class RecordingClientUser implements ClientTransactionUser {
  readonly events: ClientEvent[] = [];
  onResponse(response: SipResponse, _tx: ClientTransaction): void {
    this.events.push({ kind: 'response', status: response.status, response });
  }
  onTimeout(): void {
    this.events.push({ kind: 'timeout' });
  }
  onTransportError(error: Error): void {
    this.events.push({ kind: 'transport-error', error });
  }
  onTerminated(tx: ClientTransaction): void {
    this.events.push({ kind: 'terminated', state: tx.state });
  }
  kinds(): string[] {
    return this.events.map((e) => (e.kind === 'response' ? `response ${e.status}` : e.kind));
  }
}

export type ServerEvent = { kind: 'timeout' } | { kind: 'transport-error'; error: Error } | { kind: 'terminated' };

export class RecordingServerUser implements ServerTransactionUser {
  readonly events: ServerEvent[] = [];
  onTimeout(): void {
    this.events.push({ kind: 'timeout' });
  }
  onTransportError(error: Error): void {
    this.events.push({ kind: 'transport-error', error });
  }
  onTerminated(_tx: ServerTransaction): void {
    this.events.push({ kind: 'terminated' });
  }
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}

// ── a layer on a fake clock ──────────────────────────────────────────────────────


export interface Harness {
  clock: FakeClock;
  timers: CountingTimers;
  wire: FakeWire;
  events: TransactionEvent[];
  layer: TransactionLayer;
  /** Advances the clock to an absolute time (ms since the start). */
  at(ms: number): void;
}

export function harness(settings?: Partial<TimerSettings>): Harness {
  const clock = new FakeClock();
  const timers = new CountingTimers(clock);
  const wire = new FakeWire(() => clock.now());
  const events: TransactionEvent[] = [];
  const layer = new TransactionLayer({ wire, timers, settings, onEvent: (e) => events.push(e) });
  return {
    clock, timers, wire, events, layer,
    at(ms: number) {
      clock.advance(ms - clock.now());
    },
  };
}
