// Shared shapes of RFC 3263 server location: what the caller asks for, what it gets back,
// and the slice of node:dns/promises that the locator needs (so tests can inject a fake).
import type { NaptrRecord, RecordWithTtl, SrvRecord } from 'node:dns';

export type SipTransport = 'udp' | 'tcp' | 'tls';
export type IpFamily = 4 | 6;

/** One place to send a request: a transport, an IP address (no brackets) and a port. */
export interface Target {
  transport: SipTransport;
  address: string;
  port: number;
  family: IpFamily;
}

/** The parts of a SIP/SIPS URI that RFC 3263 looks at, already parsed by the caller. */
export interface LocateRequest {
  /** Host name or IP address; an IPv6 reference may keep its brackets. */
  host: string;
  port?: number;
  /** The URI's `transport` parameter, when present. */
  transport?: SipTransport;
  /** true for a sips: URI. */
  secure: boolean;
  /** The URI's `maddr` parameter: overrides host (RFC 3263 §4). */
  maddr?: string;
}

/** The subset of `dns.promises.Resolver` used here. */
export interface DnsLike {
  resolveNaptr(hostname: string): Promise<NaptrRecord[]>;
  resolveSrv(hostname: string): Promise<SrvRecord[]>;
  resolve4(hostname: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve6(hostname: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  /** Ends every question in flight, each rejected with ECANCELLED (node:dns `Resolver.cancel`). */
  cancel?(): void;
}

/**
 * Why location produced no target:
 * - `not-found`: the names exist nowhere or carry no usable record (NXDOMAIN, no data);
 * - `timeout`: at least one needed DNS answer never came (timeout, refused, server failure),
 *   so trying again later may succeed;
 * - `unsupported-transport`: the URI asks for a transport we do not run (or sips over UDP);
 * - `invalid-target`: empty host or a port outside 1–65535.
 */
export type LocateErrorCode = 'not-found' | 'timeout' | 'unsupported-transport' | 'invalid-target';

export class LocateError extends Error {
  override readonly name = 'LocateError';
  constructor(
    readonly code: LocateErrorCode,
    readonly host: string,
    detail?: string,
  ) {
    super(`cannot locate SIP server for "${host}": ${code}${detail ? ` (${detail})` : ''}`);
  }
}

export function isLocateError(value: unknown): value is LocateError {
  return value instanceof LocateError;
}

/** RFC 3261 §19.1.2: 5060 for UDP/TCP, 5061 for TLS. */
export function defaultPort(transport: SipTransport): number {
  return transport === 'tls' ? 5061 : 5060;
}
