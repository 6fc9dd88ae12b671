/**
 * One call builds a ready SIP endpoint: the transport layer bound to its listeners, the stack on
 * top, the transport's messages fed into the stack. `close()` releases every socket and timer.
 */
import { TransportLayer } from '../transport/index.js';
import type { BoundListener, ListenerSpec, TlsSettings, TransportError } from '../transport/index.js';
import { realTimers, type TimerHost } from '../timer.js';
import { SipStack, type SipStackOptions } from './stack.js';

export interface EndpointLimits {
  maxMessageSize: number;
  maxHeaders: number;
  maxConnectionsPerSource: number;
  idleTimeoutMs: number;
  readTimeoutMs: number;
  keepAliveIntervalMs: number;
  /** UDP datagrams handled in slices of this many µs between socket polls (inbound-queue.ts). */
  udpSliceMicros: number;
  udpMaxQueued: number;
}

export const DEFAULT_LIMITS: EndpointLimits = {
  maxMessageSize: 65535,
  maxHeaders: 200,
  maxConnectionsPerSource: 32,
  idleTimeoutMs: 120_000,
  readTimeoutMs: 10_000,
  keepAliveIntervalMs: 30_000,
  udpSliceMicros: 250,
  udpMaxQueued: 4096,
};

export interface EndpointOptions extends Omit<SipStackOptions, 'transport' | 'timers' | 'maxHeaders'> {
  listeners: ListenerSpec[];
  tls?: TlsSettings;
  limits?: Partial<EndpointLimits>;
  timers?: TimerHost;
  onTransportError?: (e: TransportError) => void;
}

export interface SipEndpoint {
  stack: SipStack;
  transport: TransportLayer;
  bound: BoundListener[];
  close(): Promise<void>;
}

export async function startSipEndpoint(opts: EndpointOptions): Promise<SipEndpoint> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let stack: SipStack | undefined;
  const transport = new TransportLayer({
    listeners: opts.listeners,
    tls: opts.tls,
    ...limits,
    onMessage: (m) => stack?.receive(m),
    onError: opts.onTransportError,
  });
  stack = new SipStack({
    ...opts,
    transport,
    timers: opts.timers ?? realTimers,
    maxHeaders: limits.maxHeaders,
  });
  const bound = await transport.listen();
  let closed = false;
  return {
    stack,
    transport,
    bound,
    async close() {
      if (closed) return;
      closed = true;
      stack!.close();
      await transport.close();
    },
  };
}
