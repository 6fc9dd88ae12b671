/**
 * Listening on several addresses with one port, for the HTTP and XML servers: each host gets its
 * own server; port 0 lets the OS choose on the first host and the rest reuse that port. `::` is
 * dual-stack on Linux, so next to `0.0.0.0` it must be IPv6 only, or the two clash.
 */
import type { AddressInfo, Server } from 'node:net';

export interface ListenAddress {
  address: string;
  port: number;
  family: string;
}

/** Binds `makeServer(i)` on each host in turn; rejects at the first that cannot bind. */
export async function listenAll(hosts: readonly string[], port: number, makeServer: (index: number) => Server): Promise<ListenAddress[]> {
  const ipv6Only = hosts.includes('0.0.0.0');
  const bound: ListenAddress[] = [];
  for (const [i, host] of hosts.entries()) {
    const address = await listenOn(makeServer(i), host, port, ipv6Only && host === '::');
    port = address.port;
    bound.push({ address: address.address, port: address.port, family: address.family });
  }
  return bound;
}

function listenOn(server: Server, host: string, port: number, ipv6Only: boolean): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, ipv6Only, exclusive: true }, () => {
      server.off('error', onError);
      server.on('error', () => {}); // errors after listening surface on sockets, not here
      resolve(server.address() as AddressInfo);
    });
  });
}
