/** Every fuzz target by name, for `npm run fuzz` and the CI tests. */
import type { FuzzReport, RunOptions } from './report.js';
import { runSipInProcess } from './sip-inproc.js';

/** `sip-udp`: the stack's receive path without sockets (fast: the long campaign); `sip-udp-socket`: real datagrams. */
export type TargetName = 'sip-udp' | 'sip-udp-socket' | 'sip-tcp' | 'sip-tls' | 'xml' | 'http';
export const TARGETS: TargetName[] = ['sip-udp', 'sip-udp-socket', 'sip-tcp', 'sip-tls', 'xml', 'http'];

export async function runTarget(name: TargetName, opts: RunOptions): Promise<FuzzReport> {
  switch (name) {
    case 'sip-udp':
      return runSipInProcess(opts);
    case 'sip-udp-socket':
      return (await import('./sip-datagram.js')).runSipDatagrams(opts);
    case 'sip-tcp':
    case 'sip-tls':
      return (await import('./sip-stream.js')).runSipStream(name === 'sip-tls' ? 'tls' : 'tcp', opts);
    case 'xml':
      return (await import('./xml.js')).runXml(opts);
    case 'http':
      return (await import('./http.js')).runHttp(opts);
  }
}
