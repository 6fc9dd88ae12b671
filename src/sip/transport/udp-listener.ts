// One bound UDP socket: every datagram in is one message; every datagram out leaves from here so
// that its source port is our listening port (what Via and Contact announce).
import { createSocket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { RemoteInfo, Socket } from 'node:dgram';
import { normaliseAddress } from './address.js';
import { TransportError, describeError } from './transport-error.js';
import type { AddressFamily, Endpoint, Inbound, TransportStats } from './types.js';

export interface UdpListenerHooks {
  maxMessageSize: number;
  bufferSize: number;
  stats: TransportStats;
  deliver(m: Inbound): void;
  report(e: TransportError): void;
}

export class UdpListener {
  readonly family: AddressFamily;
  readonly local: Endpoint;
  private readonly socket: Socket;
  private readonly hooks: UdpListenerHooks;
  private closing: Promise<void> | undefined;

  private constructor(socket: Socket, family: AddressFamily, local: Endpoint, hooks: UdpListenerHooks) {
    this.socket = socket;
    this.family = family;
    this.local = local;
    this.hooks = hooks;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
  }

  static bind(address: string, port: number, family: AddressFamily, hooks: UdpListenerHooks): Promise<UdpListener> {
    return new Promise((resolve, reject) => {
      // An IPv6 socket takes IPv6 only, so an IPv4 socket can share its port number.
      const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
      const onBindError = (err: Error) => {
        socket.close();
        reject(new Error(`cannot listen on udp ${address}:${port}: ${describeError(err)}`));
      };
      socket.once('error', onBindError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        socket.on('error', (err) =>
          safe(() => hooks.report(new TransportError('socket-error', `udp socket: ${describeError(err)}`, { transport: 'udp', cause: err }))),
        );
        // Deep buffers absorb bursts at high rates; the OS may clamp or refuse (it is only a wish).
        try {
          socket.setRecvBufferSize(hooks.bufferSize);
          socket.setSendBufferSize(hooks.bufferSize);
        } catch {
          // the default buffers still work
        }
        const bound = socket.address();
        resolve(new UdpListener(socket, family, { address: normaliseAddress(bound.address), port: bound.port }, hooks));
      });
    });
  }

  send(data: Buffer, port: number, address: string, cb: (err: Error | null) => void): void {
    this.socket.send(data, port, address, cb);
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    return this.closing;
  }

  /**
   * The normalised address as one shared string per peer: Node makes a new string for every
   * datagram, and a server transaction keeps its peer's address in its response destination for
   * 64*T1 — one copy per peer rather than one per transaction. Bounded; cleared when full.
   */
  private peerAddress(raw: string): string {
    let address = this.peers.get(raw);
    if (address === undefined) {
      if (this.peers.size >= PEER_ADDRESS_CACHE) this.peers.clear();
      address = normaliseAddress(raw);
      this.peers.set(raw, address);
    }
    return address;
  }

  private readonly peers = new Map<string, string>();

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    const { stats } = this.hooks;
    try {
      stats.datagramsIn++;
      stats.bytesIn += msg.length;
      // RFC 5626 §4.4.1 keep-alives over UDP are STUN; a bare CRLFCRLF is dropped without answer.
      if (msg.length === 4 && msg[0] === 13 && msg[1] === 10 && msg[2] === 13 && msg[3] === 10) {
        stats.pingsIn++;
        return;
      }
      const remote = { address: this.peerAddress(rinfo.address), port: rinfo.port };
      if (msg.length > this.hooks.maxMessageSize) {
        stats.dropped['datagram-too-large'] = (stats.dropped['datagram-too-large'] ?? 0) + 1;
        this.hooks.report(
          new TransportError('datagram-too-large', `datagram of ${msg.length} bytes exceeds ${this.hooks.maxMessageSize}`, {
            transport: 'udp',
            remote,
          }),
        );
        return;
      }
      this.hooks.deliver({ data: msg, transport: 'udp', remote, local: this.local });
    } catch (e) {
      safe(() => this.hooks.report(new TransportError('internal', `udp handler threw: ${describeError(e)}`, { transport: 'udp', cause: e })));
    }
  }
}

/** Peers whose address string is shared (see peerAddress). */
const PEER_ADDRESS_CACHE = 4096;

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // a reporting hook failing must not take the socket down
  }
}

/**
 * dgram passes every destination through `lookup`, an IP literal too, and dns.lookup answers a
 * literal on the next tick: a nextTick and two closures per datagram sent. The transport layer
 * sends only to IP literals (it refuses anything else as `bad-target`; names are resolved by
 * RFC 3263 in resolve/), so a literal is answered at once; dns.lookup stays the fallback.
 */
function literalLookup(
  hostname: string,
  options: number | LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}
