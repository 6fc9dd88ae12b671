// close() leaves nothing behind. In a file of its own, so the process's handle count is not
// disturbed by sockets of earlier tests still closing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListenerSpec } from '../../src/sip/transport/types.js';
import { peer, rawClient, send, waitFor } from '../support/transport-peer.js';

const request = (n: number) => `MESSAGE sip:b@127.0.0.1 SIP/2.0\r\nCall-ID: c${n}\r\nContent-Length: 5\r\n\r\nhello`;

test('close() releases every socket and timer: connections back to 0, no active handles left behind', async () => {
  const countHandles = () => {
    const counts: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
    return counts;
  };
  await new Promise((r) => setImmediate(r));
  const before = countHandles();
  const listeners: ListenerSpec[] = [
    { transport: 'udp', address: '127.0.0.1', port: 0 },
    { transport: 'udp', address: '::1', port: 0 },
    { transport: 'tcp', address: '127.0.0.1', port: 0 },
    { transport: 'tcp', address: '::1', port: 0 },
  ];
  const a = peer(listeners, { keepAliveIntervalMs: 60_000, idleTimeoutMs: 60_000, readTimeoutMs: 60_000 });
  const b = peer(listeners, { keepAliveIntervalMs: 60_000, idleTimeoutMs: 60_000, readTimeoutMs: 60_000 });
  const bBound = (await Promise.all([a.layer.listen(), b.layer.listen()]))[1];
  for (const l of bBound) {
    assert.equal(await send(a.layer, request(1), { transport: l.transport, address: l.address, port: l.port }), undefined);
  }
  // One partial message so that a read deadline is running too.
  const partial = await rawClient(bBound[2]!.port);
  partial.socket.write('MESSAGE sip:b@x SIP/2.0\r\n');
  await waitFor('all delivered', () => b.inbox.length === 4 && b.layer.stats().connections === 3);
  assert.equal(a.layer.stats().connections, 2);
  const during = countHandles();
  assert.ok((during['Timeout'] ?? 0) > (before['Timeout'] ?? 0), 'the layers hold timers while open');

  await Promise.all([a.layer.close(), b.layer.close()]);
  assert.equal(a.layer.stats().connections, 0);
  assert.equal(b.layer.stats().connections, 0);
  await partial.closed;
  await new Promise((r) => setImmediate(r));
  const after = countHandles();
  for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'UDPWrap', 'Timeout']) {
    assert.equal(after[kind] ?? 0, before[kind] ?? 0, `${kind}: ${JSON.stringify({ before, during, after })}`);
  }
  await a.layer.close(); // idempotent
});
