/**
 * Where a response goes (RFC 3261 §18.2.2 with RFC 3581 §4): on a stream, back on the connection
 * the request came on; else to `received` (and `rport` when present) from the top Via, falling
 * back to its sent-by.
 */
import type { SipRequest, MessageSource } from '../message/index.js';
import type { Destination } from '../transaction/index.js';
import { detachRepeated } from '../message/detach.js';
import { udpDestination } from './udp-destinations.js';

/** §18.2.1 + RFC 3581 §4: stamp received/rport on the top Via of a request we received. */
export function stampTopVia(req: SipRequest, source: MessageSource): void {
  const via = req.topVia;
  let changed = false;
  if (via.host !== source.address) {
    via.params.set('received', source.address);
    changed = true;
  }
  if (via.params.has('rport') && via.params.get('rport') === null) {
    via.params.set('rport', String(source.port));
    if (!via.params.has('received')) via.params.set('received', source.address);
    changed = true;
  }
  if (changed) {
    // Rewrite the first Via value so that responses built from the header lines carry it. In
    // place, keeping the parsed object: the other Via values are neither parsed nor rebuilt.
    req.replaceTopVia(via);
  }
}

export function responseDestination(req: SipRequest, source: MessageSource): Destination {
  const via = req.topVia;
  const transport = source.transport as Destination['transport'];
  if (transport !== 'udp') {
    return {
      transport,
      address: detachRepeated(via.received ?? source.address),
      port: via.port ?? (transport === 'tls' ? 5061 : 5060),
      connectionId: source.connectionId,
    };
  }
  const rport = via.rport;
  const received = via.received;
  if (received !== undefined) return udpDestination(received, typeof rport === 'number' ? rport : via.port ?? 5060);
  return udpDestination(via.host, via.port ?? 5060);
}
