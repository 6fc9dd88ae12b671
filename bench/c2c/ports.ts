/**
 * Free loopback ports for the bench's processes, chosen by the OS (port 0) and released at once.
 * SIP needs the same number free on UDP and TCP (UDPTCPPort); SIPp also needs a control port.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const HOST = '127.0.0.1';

function probeUdp(port: number): Promise<{ port: number; close(): void } | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, HOST, () => resolve({ port: s.address().port, close: () => s.close() }));
  });
}

function probeTcp(port: number): Promise<{ port: number; close(): void } | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, HOST, () => {
      const a = s.address();
      resolve(typeof a === 'object' && a ? { port: a.port, close: () => s.close() } : undefined);
    });
  });
}

/** A port free on both UDP and TCP. */
export async function freeUdpTcpPort(tries = 20): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const udp = await probeUdp(0);
    if (!udp) continue;
    const tcp = await probeTcp(udp.port);
    udp.close();
    tcp?.close();
    if (tcp) return udp.port;
  }
  throw new Error(`no port free on both UDP and TCP on ${HOST} after ${tries} tries`);
}

export async function freeTcpPort(): Promise<number> {
  const tcp = await probeTcp(0);
  if (!tcp) throw new Error(`cannot bind a TCP port on ${HOST}`);
  tcp.close();
  return tcp.port;
}
