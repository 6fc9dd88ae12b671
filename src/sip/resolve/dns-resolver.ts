// Builds the real node:dns resolver from the configuration's DNSServers list.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface DnsServerAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

/**
 * Parses one DNSServers entry: `1.2.3.4`, `1.2.3.4:53`, `::1`, `[::1]`, `[::1]:5353`.
 * Returns an Error value (not thrown) naming the entry when it is not one of those.
 */
export function parseDnsServer(text: string): DnsServerAddress | Error {
  const entry = text.trim();
  let host = entry;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return new Error(`DNS server "${text}": missing "]"`);
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return new Error(`DNS server "${text}": unexpected "${rest}"`);
      portText = rest.slice(1);
    }
  } else if (entry.indexOf(':') === entry.lastIndexOf(':') && entry.includes(':')) {
    // Exactly one colon: IPv4 (or a name) with a port. Several colons: a bare IPv6 address.
    host = entry.slice(0, entry.indexOf(':'));
    portText = entry.slice(entry.indexOf(':') + 1);
  }
  const family = isIP(host);
  // c-ares takes addresses only; a name here would need DNS to find DNS.
  if (family !== 4 && family !== 6) return new Error(`DNS server "${text}": not an IP address`);
  let port = 53;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return new Error(`DNS server "${text}": bad port`);
  }
  return { address: host, port, family };
}

/** The form `Resolver.setServers` accepts: `a.b.c.d:port` or `[v6]:port`. */
export function formatDnsServer(server: DnsServerAddress): string {
  return server.family === 6 ? `[${server.address}]:${server.port}` : `${server.address}:${server.port}`;
}

/**
 * A `dns.promises.Resolver` with a per-try timeout, using `servers` when given (entries may
 * also hold comma/semicolon separated lists, as the legacy `-d` option does) and the
 * system's servers otherwise. Throws on a malformed entry: this runs at start-up, on config.
 */
export function createDnsResolver(servers: readonly string[] | undefined, timeoutMs: number): Resolver {
  // c-ares retries with a doubled timeout; two tries fit roughly inside the locator's deadline.
  const resolver = new Resolver({ timeout: Math.max(1, Math.ceil(timeoutMs / 2)), tries: 2 });
  const entries = (servers ?? []).flatMap((s) => s.split(/[,;\s]+/)).filter((s) => s !== '');
  if (entries.length > 0) {
    const parsed = entries.map(parseDnsServer);
    const bad = parsed.find((p): p is Error => p instanceof Error);
    if (bad) throw bad;
    resolver.setServers((parsed as DnsServerAddress[]).map(formatDnsServer));
  }
  return resolver;
}
