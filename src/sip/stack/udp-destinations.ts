/** Shared UDP destinations (see udpDestination). */
import { detachString } from '../message/detach.js';
import type { Destination } from '../transaction/index.js';

/**
 * UDP destinations, one shared frozen object per address and port: every transaction keeps its
 * destination through its wait state (up to 64*T1, tens of thousands at a time under load), and
 * a server talks to few peers — a PBX, a trunk, a farm of phones. Bounded: cleared when full.
 */
const udpDestinations = new Map<string, Map<number, Destination>>();
let udpDestinationCount = 0;
const UDP_DESTINATIONS_MAX = 4096;

export function udpDestination(host: string, port: number): Destination {
  let byPort = udpDestinations.get(host);
  let dest = byPort?.get(port);
  if (dest === undefined) {
    if (udpDestinationCount >= UDP_DESTINATIONS_MAX) {
      udpDestinations.clear();
      udpDestinationCount = 0;
      byPort = undefined;
    }
    // The address kept is a copy of its own: `host` may be a slice that keeps a message's text.
    const address = detachString(host);
    if (byPort === undefined) udpDestinations.set(address, (byPort = new Map()));
    dest = Object.freeze({ transport: 'udp', address, port });
    byPort.set(port, dest);
    udpDestinationCount++;
  }
  return dest;
}
