// On real sockets: a backlog of UDP datagrams no longer keeps the event loop from its other
// sockets (src/sip/transport/inbound-queue.ts). Each datagram's handler burns 1 ms; 30 datagrams
// are in the kernel before the loop polls, and a TCP client writes while the first one is handled
// (as a click-to-call request arrives during a burst of SIP traffic). With slices the TCP bytes
// are read after at most a slice of SIP work; with SipUdpSlice 0 (the old behaviour) after the
// whole burst. Counts of handled datagrams, not durations, are asserted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { peer, waitFor } from '../support/transport-peer.js';

const BURST = 30; // under libuv's 32 reads per readiness: one poll reads them all

function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: a handler doing real work
  }
}

async function handledBeforeTcpRead(udpSliceMicros: number): Promise<{ before: number; total: number }> {
  let handled = 0;
  let before = -1;
  let client: Socket;
  const p = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }], {
    udpSliceMicros,
    onMessage: () => {
      handled++;
      if (handled === 1) client.write('request');
      burn(1);
    },
  });
  const [bound] = await p.layer.listen();
  const server: Server = createServer((s) => s.on('data', () => {
    if (before === -1) before = handled;
  }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  client = connect({ port, host: '127.0.0.1' });
  await once(client, 'connect');
  await new Promise((r) => setTimeout(r, 20)); // the server side has accepted
  // An address literal answered at once: dgram's default lookup would send on a later tick.
  const udp = createSocket({ type: 'udp4', lookup: (host, _o, cb) => (cb as (e: null, a: string, f: number) => void)(null, host, 4) });
  const listening = once(udp, 'listening'); // the lookup answers at once: bind may finish inside the call
  udp.bind(0, '127.0.0.1');
  await listening;
  try {
    // All synchronous: the datagrams are in the kernel before the next poll.
    for (let i = 0; i < BURST; i++) udp.send(Buffer.from(`OPTIONS sip:x SIP/2.0\r\n\r\n${i}`), bound!.port, '127.0.0.1');
    await waitFor('every datagram handled and the TCP bytes read', () => handled === BURST && before !== -1);
    return { before, total: handled };
  } finally {
    udp.close();
    client.destroy();
    server.close();
    await p.layer.close();
  }
}

describe('UDP datagrams in slices', () => {
  it('a TCP read waits for at most a slice of the backlog (250 µs: one 1-ms datagram), not for all of it', async () => {
    const sliced = await handledBeforeTcpRead(250);
    assert.equal(sliced.total, BURST);
    assert.ok(sliced.before <= 2, `${sliced.before} of ${BURST} datagrams handled before the TCP read`);
  });

  it('closing the layer drops what waits for a slice: nothing reaches the stack after close()', async () => {
    let handled = 0;
    let closing: Promise<void> | undefined;
    const p = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }], {
      udpSliceMicros: 250,
      onMessage: () => {
        handled++;
        closing ??= p.layer.close(); // the server shutting down while a backlog waits
      },
    });
    const [bound] = await p.layer.listen();
    const udp = createSocket({ type: 'udp4', lookup: (host, _o, cb) => (cb as (e: null, a: string, f: number) => void)(null, host, 4) });
    const listening = once(udp, 'listening');
    udp.bind(0, '127.0.0.1');
    await listening;
    try {
      for (let i = 0; i < BURST; i++) udp.send(Buffer.from(`OPTIONS sip:x SIP/2.0\r\n\r\n${i}`), bound!.port, '127.0.0.1');
      await waitFor('the first datagram handled', () => handled > 0);
      await closing;
      await new Promise((r) => setTimeout(r, 50)); // any slice still scheduled has run by now
      assert.equal(handled, 1, 'the 29 datagrams read with the first were dropped, not delivered');
    } finally {
      udp.close();
      await p.layer.close();
    }
  });

  it('control: with SipUdpSlice 0 the whole backlog is handled before the TCP read', async () => {
    const inline = await handledBeforeTcpRead(0);
    assert.ok(inline.before >= BURST / 2, `${inline.before} of ${BURST} datagrams handled before the TCP read`);
  });
});
