// RFC 3263 §4: from a SIP/SIPS URI's host, port, transport and maddr to an ordered list of
// (transport, address, port) to try, failing over from one to the next (§4.3).
import { isIP } from 'node:net';
import type { DnsCache } from './dns-cache.js';
import { DnsQuery, normaliseName, realTimer, type SetTimer } from './dns-query.js';
import { selectNaptrRecords } from './naptr.js';
import { orderSrvRecords, type RandomSource } from './srv-order.js';
import {
  LocateError,
  defaultPort,
  type DnsLike,
  type IpFamily,
  type LocateRequest,
  type SipTransport,
  type Target,
} from './types.js';

export interface ServerLocatorOptions {
  resolver: DnsLike;
  /** The transports this stack runs; nothing else is ever chosen. */
  transports: readonly SipTransport[];
  /** Deadline of each DNS question. */
  timeoutMs: number;
  /** Address families to use and their order: [4, 6] (default) puts A before AAAA. */
  ipFamilies?: readonly IpFamily[];
  /** For the RFC 2782 weighted order; Math.random by default. */
  random?: RandomSource;
  cache?: DnsCache;
  setTimer?: SetTimer;
}

/** Targets found by one branch of the search, and whether some answer in it never came. */
interface Branch {
  targets: Target[];
  timedOut: boolean;
}

// RFC 3263 §4.1: without NAPTR, the SRV services to query, most preferred first.
const SRV_SERVICES: ReadonlyArray<{ transport: SipTransport; prefix: string }> = [
  { transport: 'udp', prefix: '_sip._udp.' },
  { transport: 'tcp', prefix: '_sip._tcp.' },
  { transport: 'tls', prefix: '_sips._tcp.' },
];

// The factory of the real resolver lives beside its parser; offered here too for callers of locate.
export { createDnsResolver } from './dns-resolver.js';

export class ServerLocator {
  private readonly supported: ReadonlySet<SipTransport>;
  private readonly families: readonly IpFamily[];
  private readonly random: RandomSource;
  private readonly query: DnsQuery;
  private readonly resolver: DnsLike;

  constructor(options: ServerLocatorOptions) {
    this.resolver = options.resolver;
    this.supported = new Set(options.transports);
    this.families = options.ipFamilies && options.ipFamilies.length > 0 ? options.ipFamilies : [4, 6];
    this.random = options.random ?? Math.random;
    this.query = new DnsQuery(options.resolver, options.timeoutMs, options.cache, options.setTimer ?? realTimer);
  }

  /**
   * Ends the DNS questions in flight (shutdown): their locations fail at once as unanswered,
   * instead of the resolver retrying them for up to DNSTimeout after the server has stopped.
   */
  cancelQueries(): void {
    this.resolver.cancel?.();
  }

  /**
   * The ordered targets for `request`. Rejects only with a LocateError (never with a DNS
   * error): when nothing was found, when the transport is not ours, or on a malformed input.
   */
  async locate(request: LocateRequest): Promise<Target[]> {
    // RFC 3263 §4: "If the URI contains an maddr parameter, TARGET is the maddr value".
    const host = stripBrackets((request.maddr ?? request.host).trim());
    if (host === '') throw new LocateError('invalid-target', host, 'empty host');
    const port = request.port;
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      throw new LocateError('invalid-target', host, `port ${port}`);
    }
    const explicit = this.explicitTransport(request, host);

    // RFC 3263 §4.1/§4.2: a numeric IP is the address; UDP for sip:, TLS for sips: unless told.
    const family = isIP(host);
    if (family === 4 || family === 6) {
      const transport = explicit ?? this.defaultTransport(request.secure, host);
      const address = family === 6 ? host.toLowerCase() : host;
      return [{ transport, address, port: port ?? defaultPort(transport), family }];
    }

    const name = normaliseName(host);
    // RFC 3263 §4.1/§4.2: an explicit port means no NAPTR and no SRV, only A/AAAA.
    if (port !== undefined) {
      const transport = explicit ?? this.defaultTransport(request.secure, host);
      return this.finish(host, [await this.addressTargets(name, transport, port)]);
    }

    // RFC 3263 §4.2: a transport given explicitly → SRV for that transport, then A/AAAA.
    if (explicit !== undefined) {
      const srv = await this.srvTargets(srvServiceName(explicit, name), explicit);
      if (srv.targets.length > 0) return dedupe(srv.targets);
      const direct = await this.addressTargets(name, explicit, defaultPort(explicit));
      return this.finish(host, [srv, direct]);
    }

    const tried: Branch[] = [];
    // RFC 3263 §4.1: NAPTR first; each usable record names an SRV domain to look up.
    const naptr = await this.query.naptr(name);
    tried.push({ targets: [], timedOut: naptr.failure === 'timeout' });
    const choices = selectNaptrRecords(naptr.records, request.secure, this.supported);
    if (choices.length > 0) {
      const fromNaptr = await Promise.all(choices.map((c) => this.srvTargets(c.srvName, c.transport)));
      const found = fromNaptr.flatMap((b) => b.targets);
      if (found.length > 0) return dedupe(found);
      // Records pointing nowhere: go on as if there were none (lenient, documented).
      tried.push(...fromNaptr);
    }

    // RFC 3263 §4.1: "If no NAPTR records are found, the client constructs SRV queries for
    // those transport protocols it supports" — "_sips" for SIPS URIs.
    const services = SRV_SERVICES.filter(
      (s) => this.supported.has(s.transport) && (!request.secure || s.transport === 'tls'),
    );
    const fromSrv = await Promise.all(services.map((s) => this.srvTargets(s.prefix + name, s.transport)));
    const found = fromSrv.flatMap((b) => b.targets);
    if (found.length > 0) return dedupe(found);
    tried.push(...fromSrv);

    // RFC 3263 §4.1: "If no SRV records are found, the client SHOULD use TCP for a SIPS URI,
    // and UDP for a SIP URI" — then §4.2: A/AAAA at the transport's default port.
    const transport = this.defaultTransport(request.secure, host);
    tried.push(await this.addressTargets(name, transport, defaultPort(transport)));
    return this.finish(host, tried);
  }

  /** The URI's transport parameter as we will use it; sips over TCP means TLS (RFC 3261 §26.2.2). */
  private explicitTransport(request: LocateRequest, host: string): SipTransport | undefined {
    if (request.transport === undefined) return undefined;
    let transport = request.transport;
    if (request.secure) {
      if (transport === 'udp') throw new LocateError('unsupported-transport', host, 'sips over udp');
      transport = 'tls';
    }
    if (!this.supported.has(transport)) throw new LocateError('unsupported-transport', host, transport);
    return transport;
  }

  /** UDP for sip: (TCP, then TLS, when UDP is not run here); TLS for sips:. */
  private defaultTransport(secure: boolean, host: string): SipTransport {
    const candidates: SipTransport[] = secure ? ['tls'] : ['udp', 'tcp', 'tls'];
    const transport = candidates.find((t) => this.supported.has(t));
    if (transport === undefined) throw new LocateError('unsupported-transport', host, secure ? 'tls' : 'none');
    return transport;
  }

  /** RFC 3263 §4.2 + RFC 2782: SRV records in their order, each expanded to its addresses. */
  private async srvTargets(srvName: string, transport: SipTransport): Promise<Branch> {
    const srv = await this.query.srv(srvName);
    const ordered = orderSrvRecords(srv.records, this.random);
    const expanded = await Promise.all(ordered.map((r) => this.addressTargets(r.name, transport, r.port)));
    return {
      targets: expanded.flatMap((b) => b.targets),
      timedOut: srv.failure === 'timeout' || expanded.some((b) => b.timedOut),
    };
  }

  /** A and/or AAAA of `name`, in the configured family order. */
  private async addressTargets(name: string, transport: SipTransport, port: number): Promise<Branch> {
    const literal = isIP(stripBrackets(name));
    if (literal === 4 || literal === 6) {
      return { targets: [{ transport, address: stripBrackets(name), port, family: literal }], timedOut: false };
    }
    const answers = await Promise.all(
      this.families.map((family) => (family === 4 ? this.query.a(name) : this.query.aaaa(name))),
    );
    const targets: Target[] = [];
    answers.forEach((answer, i) => {
      const family = this.families[i]!;
      for (const record of answer.records) targets.push({ transport, address: record.address, port, family });
    });
    return { targets, timedOut: answers.some((a) => a.failure === 'timeout') };
  }

  private finish(host: string, branches: Branch[]): Target[] {
    const targets = branches.flatMap((b) => b.targets);
    if (targets.length > 0) return dedupe(targets);
    const code = branches.some((b) => b.timedOut) ? 'timeout' : 'not-found';
    throw new LocateError(code, host);
  }
}

/** RFC 3263 §4.2: "_sips" for TLS, "_sip" otherwise, then the transport label. */
export function srvServiceName(transport: SipTransport, name: string): string {
  return transport === 'tls' ? `_sips._tcp.${name}` : `_sip._${transport}.${name}`;
}

/** "[::1]" → "::1": an IPv6 reference (RFC 3261 §25.1) carries brackets the address does not. */
export function stripBrackets(host: string): string {
  return host.length >= 2 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

// The same (transport, address, port) reached by two routes is tried once, at its first place.
function dedupe(targets: Target[]): Target[] {
  const seen = new Set<string>();
  const unique: Target[] = [];
  for (const t of targets) {
    const key = `${t.transport} ${t.address} ${t.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(t);
  }
  return unique;
}
