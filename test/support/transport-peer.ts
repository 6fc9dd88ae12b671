// Shared by the transport tests: a TransportLayer on real sockets that records what it receives.
import { connect, type Socket } from 'node:net';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import type { TransportError } from '../../src/sip/transport/transport-error.js';
import type { Inbound, ListenerSpec, SendTarget, TransportLayerOptions } from '../../src/sip/transport/types.js';

export interface Peer {
  layer: TransportLayer;
  inbox: Inbound[];
  errors: TransportError[];
}

export function peer(listeners: ListenerSpec[], extra: Partial<TransportLayerOptions> = {}): Peer {
  const inbox: Inbound[] = [];
  const errors: TransportError[] = [];
  const layer = new TransportLayer({
    listeners,
    maxMessageSize: 65535,
    maxHeaders: 100,
    maxConnectionsPerSource: 10,
    idleTimeoutMs: 10_000,
    readTimeoutMs: 5_000,
    keepAliveIntervalMs: 0,
    onMessage: (m) => inbox.push(m),
    onError: (e) => errors.push(e),
    ...extra,
  });
  return { layer, inbox, errors };
}

export async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function send(layer: TransportLayer, data: string | Buffer, target: SendTarget): Promise<Error | undefined> {
  return new Promise((resolve) => layer.send(Buffer.from(data), target, (err) => resolve(err)));
}

/** A bare TCP client (no SIP), to test what the listener does with a peer's bytes and closes. */
export interface RawClient {
  socket: Socket;
  isClosed: () => boolean;
  closed: Promise<void>;
}

export function rawClient(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let isClosed = false;
    socket.on('error', () => {});
    const closed = new Promise<void>((r) =>
      socket.once('close', () => {
        isClosed = true;
        r();
      }),
    );
    socket.once('connect', () => resolve({ socket, isClosed: () => isClosed, closed }));
    socket.once('error', reject);
  });
}
