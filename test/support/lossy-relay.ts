/**
 * A lossy UDP relay on loopback that stands in front of one phone (issue #7 "Faults"): whoever
 * sends to the relay's public port reaches the phone, through a network that drops, duplicates
 * and reorders datagrams with a seeded PRNG, so that a run is repeatable.
 *
 * It works like a symmetric NAT with a SIP-aware rewrite (an "ALG"): every peer that writes to
 * the public socket gets an inner socket of its own facing the phone, so the phone's answers go
 * back to the right peer. SIP routes by what messages say (Via, Contact, Record-Route), not by
 * where datagrams come from, so `host:port` in the header section is rewritten both ways: the
 * phone sees each peer at that peer's inner socket, and peers see the phone at the public port.
 * Without it in-dialog requests would go around the relay, to the Contacts. Bodies are left
 * alone: Content-Length stays right, and SDP holds no `host:port`.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface LossProfile {
  /** Probability (0–1) that a datagram towards the phone is dropped. */
  dropToPhone: number;
  /** Probability (0–1) that a datagram from the phone is dropped. */
  dropFromPhone: number;
  /** Probability (0–1) that a datagram that got through is sent twice. */
  duplicate: number;
  /** Probability (0–1) that a datagram is held back `reorderDelayMs` so later ones overtake it. */
  reorder: number;
  /** Longest hold-back of a reordered datagram (1 … this many ms). Default 5. */
  reorderDelayMs?: number;
  /** Drops, on top of the odds, every datagram whose first line this matches (e.g. only BYEs). */
  dropIf?: (firstLine: string, direction: 'toPhone' | 'fromPhone') => boolean;
}

export const NO_LOSS: LossProfile = { dropToPhone: 0, dropFromPhone: 0, duplicate: 0, reorder: 0 };

export interface DirectionStats {
  /** Datagrams received on this side. */
  received: number;
  /** Datagrams passed on (a duplicate counts twice). */
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export interface RelayOptions {
  /** The phone's UDP port on `host`. */
  phonePort: number;
  host?: string;
  profile?: LossProfile;
  /** Numbers in [0, 1): use `seededRandom` for a repeatable run. */
  random?: () => number;
}

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Peer {
  address: string;
  port: number;
  /** Faces the phone: the phone sees this peer at this socket's port. */
  inner: Socket;
  innerPort: number;
}

function bindUdp(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      s.removeListener('error', reject);
      // A send to a vanished port may report ICMP errors: a lossy network ignores them.
      s.on('error', () => {});
      resolve(s);
    });
  });
}

function firstLine(data: Buffer): string {
  const eol = data.indexOf('\r\n');
  return data.subarray(0, eol < 0 ? Math.min(data.length, 200) : eol).toString('latin1');
}

function newStats(): DirectionStats {
  return { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
}

export class LossyRelay {
  readonly host: string;
  /** The port peers send to: write it in the phone's URI. */
  readonly port: number;
  readonly phonePort: number;
  /** Mutable: a test may make the phone vanish (`dropToPhone = dropFromPhone = 1`) mid-call. */
  profile: LossProfile;
  readonly stats = { toPhone: newStats(), fromPhone: newStats() };
  private readonly random: () => number;
  private readonly peers = new Map<string, Peer>();
  private readonly pendingPeers = new Map<string, Promise<Peer>>();
  private readonly held = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(private readonly outer: Socket, opts: RelayOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = outer.address().port;
    this.phonePort = opts.phonePort;
    this.profile = { ...(opts.profile ?? NO_LOSS) };
    this.random = opts.random ?? Math.random;
    outer.on('message', (data, rinfo) => this.fromPeer(data, rinfo));
  }

  static async start(opts: RelayOptions): Promise<LossyRelay> {
    const outer = await bindUdp(opts.host ?? '127.0.0.1');
    return new LossyRelay(outer, opts);
  }

  /** `sip:user@host:port` reaching the phone through this relay. */
  uriFor(user: string): string {
    return `sip:${user}@${this.host}:${this.port}`;
  }

  /** Drops everything from now on, both ways: the phone is gone without a word. */
  vanish(): void {
    this.profile = { ...this.profile, dropToPhone: 1, dropFromPhone: 1, duplicate: 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.held) clearTimeout(t);
    this.held.clear();
    await Promise.allSettled([...this.pendingPeers.values()]);
    const sockets = [this.outer, ...[...this.peers.values()].map((p) => p.inner)];
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  // ── the two directions ───────────────────────────────────────────────────────

  private fromPeer(data: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    const known = this.peers.get(key);
    if (known) {
      this.pass(data, known, 'toPhone');
      return;
    }
    // A new peer: its inner socket is bound asynchronously; datagrams wait for it, in order.
    let pending = this.pendingPeers.get(key);
    if (!pending) {
      pending = bindUdp(this.host).then((inner) => {
        const peer: Peer = { address: rinfo.address, port: rinfo.port, inner, innerPort: inner.address().port };
        inner.on('message', (d) => this.pass(d, peer, 'fromPhone'));
        this.peers.set(key, peer);
        this.pendingPeers.delete(key);
        if (this.closed) inner.close();
        return peer;
      });
      this.pendingPeers.set(key, pending);
    }
    pending.then((peer) => this.pass(data, peer, 'toPhone'), () => {});
  }

  private pass(data: Buffer, peer: Peer, direction: 'toPhone' | 'fromPhone'): void {
    if (this.closed) return;
    const stats = this.stats[direction];
    stats.received++;
    const p = this.profile;
    if (p.dropIf?.(firstLine(data), direction) || this.random() < (direction === 'toPhone' ? p.dropToPhone : p.dropFromPhone)) {
      stats.dropped++;
      return;
    }
    const out = direction === 'toPhone' ? this.rewrite(data, peer, 'toPhone') : this.rewrite(data, peer, 'fromPhone');
    const copies = this.random() < p.duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    const send = () => {
      if (this.closed) return;
      for (let i = 0; i < copies; i++) {
        stats.forwarded++;
        if (direction === 'toPhone') peer.inner.send(out, this.phonePort, this.host);
        else this.outer.send(out, peer.port, peer.address);
      }
    };
    if (this.random() < p.reorder) {
      stats.reordered++;
      const delay = 1 + Math.floor(this.random() * (p.reorderDelayMs ?? 5));
      const t = setTimeout(() => {
        this.held.delete(t);
        send();
      }, delay);
      this.held.add(t);
      return;
    }
    send();
  }

  // ── the SIP-aware part ───────────────────────────────────────────────────────

  /**
   * Towards the phone: the peer's own `host:port` becomes its inner socket, and the relay's public
   * port becomes the phone's. From the phone: the reverse. Only the header section is touched.
   */
  private rewrite(data: Buffer, peer: Peer, direction: 'toPhone' | 'fromPhone'): Buffer {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) return data;
    const head = data.subarray(0, end).toString('latin1');
    const map = new Map<string, string>();
    const hp = (port: number) => `${this.host}:${port}`;
    if (direction === 'toPhone') {
      map.set(hp(peer.port), hp(peer.innerPort));
      map.set(hp(this.port), hp(this.phonePort));
    } else {
      map.set(hp(peer.innerPort), hp(peer.port));
      map.set(hp(this.phonePort), hp(this.port));
    }
    // `host:port` not followed by another digit; the received/rport Via params name the source
    // and are written by the receiver, so rewriting their numbers keeps the round trip exact.
    let changed = false;
    const rewritten = head.replace(/(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+)(?!\d)/g, (m) => {
      const to = map.get(m);
      if (to === undefined) return m;
      changed = true;
      return to;
    }).replace(/;rport=(\d+)/g, (m, port: string) => {
      // rport carries a bare port (RFC 3581): the source port the receiver saw.
      const to = map.get(hp(Number(port)));
      if (to === undefined) return m;
      changed = true;
      return `;rport=${to.slice(to.lastIndexOf(':') + 1)}`;
    });
    if (!changed) return data;
    return Buffer.concat([Buffer.from(rewritten, 'latin1'), data.subarray(end)]);
  }
}
