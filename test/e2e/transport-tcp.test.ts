// TCP through real sockets on 127.0.0.1 and ::1: connection reuse, framing on the wire, failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import type { TransportError } from '../../src/sip/transport/transport-error.js';
import type { Inbound, SendTarget } from '../../src/sip/transport/types.js';
import { peer, send, waitFor } from '../support/transport-peer.js';

function rawClient(port: number, host = '127.0.0.1'): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

const request = (n: number) => `MESSAGE sip:b@127.0.0.1 SIP/2.0\r\nCall-ID: c${n}\r\nContent-Length: 5\r\n\r\nhello`;
const response = (n: number) => `SIP/2.0 200 OK\r\nCall-ID: c${n}\r\nl: 0\r\n\r\n`;

test('TCP: a send opens one connection, the next reuses it, the response goes back on it by connectionId', async () => {
  const a = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    await a.layer.listen();
    const [bBound] = await b.layer.listen();
    const toB: SendTarget = { transport: 'tcp', address: '127.0.0.1', port: bBound!.port };
    assert.equal(await send(a.layer, request(1), toB), undefined);
    assert.equal(await send(a.layer, request(2), toB), undefined);
    await waitFor('two requests at b', () => b.inbox.length === 2);
    assert.deepEqual(
      b.inbox.map((m) => m.data.toString()),
      [request(1), request(2)],
    );
    const [first, second] = b.inbox as [Inbound, Inbound];
    assert.equal(first.transport, 'tcp');
    assert.equal(typeof first.connectionId, 'number');
    assert.equal(second.connectionId, first.connectionId, 'both requests came on one connection');
    assert.equal(a.layer.stats().connectionsOpened, 1);
    assert.equal(a.layer.stats().connections, 1);
    assert.equal(first.local.port, bBound!.port);

    // RFC 3261 §18.2.2: the response leaves on the connection the request came in on.
    assert.equal(
      await send(b.layer, response(1), { transport: 'tcp', ...first.remote, connectionId: first.connectionId! }),
      undefined,
    );
    await waitFor('response at a', () => a.inbox.length === 1);
    assert.equal(a.inbox[0]!.data.toString(), response(1));
    assert.deepEqual(a.inbox[0]!.remote, { address: '127.0.0.1', port: bBound!.port });
    assert.equal(b.layer.stats().connectionsOpened, 1, 'b opened no connection of its own');

    // A new request from b to the address:port the connection came from reuses it too (§18.1.1).
    assert.equal(await send(b.layer, request(3), { transport: 'tcp', ...first.remote }), undefined);
    await waitFor('request at a', () => a.inbox.length === 2);
    assert.equal(a.inbox[1]!.connectionId, a.inbox[0]!.connectionId);
    assert.equal(b.layer.stats().connectionsOpened, 1);
    assert.equal(b.layer.stats().connections, 1);

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
  assert.equal(a.layer.stats().connections, 0);
  assert.equal(b.layer.stats().connections, 0);
});

test('TCP: sends made while connecting are queued and leave in order on one connection', async () => {
  const a = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    await a.layer.listen();
    const [bBound] = await b.layer.listen();
    const toB: SendTarget = { transport: 'tcp', address: '127.0.0.1', port: bBound!.port };
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => send(a.layer, request(n), toB)));
    assert.deepEqual(results, [undefined, undefined, undefined, undefined, undefined]);
    await waitFor('five requests', () => b.inbox.length === 5);
    assert.deepEqual(
      b.inbox.map((m) => m.data.toString()),
      [1, 2, 3, 4, 5].map(request),
    );
    assert.equal(new Set(b.inbox.map((m) => m.connectionId)).size, 1);
    assert.equal(a.layer.stats().connectionsOpened, 1);
    assert.equal(a.layer.stats().messagesOut, 5);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('TCP: a connectionId whose connection has closed falls back to the address', async () => {
  const a = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    const [aBound] = await a.layer.listen();
    await b.layer.listen();
    const client = await rawClient(aBound!.port);
    client.socket.write(request(1));
    await waitFor('request at a', () => a.inbox.length === 1);
    const cid = a.inbox[0]!.connectionId!;
    client.socket.destroy();
    await waitFor('a sees the close', () => a.layer.stats().connections === 0);
    // The response cannot go back on the connection: it goes to the address given (b here).
    const bPort = b.layer.local('tcp', 4)!.port;
    assert.equal(await send(a.layer, response(1), { transport: 'tcp', address: '127.0.0.1', port: bPort, connectionId: cid }), undefined);
    await waitFor('response at b', () => b.inbox.length === 1);
    assert.equal(a.layer.stats().connectionsOpened, 2);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('TCP: bytes split anywhere, pipelined messages, keep-alive ping answered with a CRLF pong', async () => {
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    const stream = Buffer.from('\r\n\r\n' + request(1) + request(2) + '\r\n' + request(3));
    for (let i = 0; i < stream.length; i += 13) {
      client.socket.write(stream.subarray(i, i + 13));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor('three requests', () => b.inbox.length === 3);
    assert.deepEqual(
      b.inbox.map((m) => m.data.toString()),
      [request(1), request(2), request(3)],
    );
    await waitFor('the pong', () => client.received() === '\r\n');
    assert.equal(b.layer.stats().pingsIn, 1);
    assert.equal(b.layer.stats().pongsOut, 1);
    assert.deepEqual(b.inbox[0]!.remote, { address: '127.0.0.1', port: client.socket.localPort! });
    client.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('TCP: a bad Content-Length closes the connection and is reported', async () => {
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    client.socket.write(request(1) + 'MESSAGE sip:b@x SIP/2.0\r\nContent-Length: lots\r\n\r\n' + request(2));
    await client.closed;
    assert.deepEqual(
      b.inbox.map((m) => m.data.toString()),
      [request(1)],
    );
    assert.equal(b.errors[0]?.code, 'bad-content-length');
    assert.equal(b.layer.stats().dropped['bad-content-length'], 1);
    await waitFor('no connections left', () => b.layer.stats().connections === 0);
  } finally {
    await b.layer.close();
  }
});

test('TCP: a stream message over maxMessageSize or maxHeaders closes the connection', async () => {
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }], { maxMessageSize: 300, maxHeaders: 3 });
  try {
    const [bBound] = await b.layer.listen();
    const big = await rawClient(bBound!.port);
    big.socket.write('MESSAGE sip:b@x SIP/2.0\r\nContent-Length: 1000\r\n\r\n');
    await big.closed;
    const many = await rawClient(bBound!.port);
    many.socket.write('MESSAGE sip:b@x SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nl: 0\r\n\r\n');
    await many.closed;
    assert.deepEqual(
      b.errors.map((e) => e.code),
      ['message-too-large', 'too-many-headers'],
    );
    assert.equal(b.inbox.length, 0);
    assert.equal(b.layer.stats().dropped['message-too-large'], 1);
    assert.equal(b.layer.stats().dropped['too-many-headers'], 1);
  } finally {
    await b.layer.close();
  }
});

test('TCP: a connection refused fails the send callback with connect-failed', async () => {
  // A port that was just free: listen, note it, close.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));

  const a = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    await a.layer.listen();
    const target: SendTarget = { transport: 'tcp', address: '127.0.0.1', port };
    const [e1, e2] = await Promise.all([send(a.layer, request(1), target), send(a.layer, request(2), target)]);
    assert.equal((e1 as TransportError).code, 'connect-failed');
    assert.equal((e2 as TransportError).code, 'connect-failed', 'every queued send learns of the failure');
    assert.match(e1!.message, /ECONNREFUSED/);
    assert.equal(a.errors.filter((e) => e.code === 'connect-failed').length, 1, 'reported once, not once per queued send');
    assert.equal(a.layer.stats().connections, 0);
    assert.equal(a.layer.stats().closed['connect-failed'], 1);
  } finally {
    await a.layer.close();
  }
});

test('TCP on ::1 (IPv6), and IPv4 and IPv6 listeners side by side', async () => {
  const a = peer([
    { transport: 'tcp', address: '::1', port: 0 },
    { transport: 'tcp', address: '127.0.0.1', port: 0 },
  ]);
  const b = peer([{ transport: 'tcp', address: '::1', port: 0 }]);
  try {
    await a.layer.listen();
    const [bBound] = await b.layer.listen();
    assert.equal(a.layer.local('tcp', 6)!.address, '::1');
    assert.equal(a.layer.local('tcp', 4)!.address, '127.0.0.1');
    assert.equal(await send(a.layer, request(1), { transport: 'tcp', address: '::1', port: bBound!.port }), undefined);
    await waitFor('request at b', () => b.inbox.length === 1);
    const got = b.inbox[0]!;
    assert.equal(got.remote.address, '::1');
    assert.deepEqual(got.local, { address: '::1', port: bBound!.port });
    assert.equal(await send(b.layer, response(1), { transport: 'tcp', ...got.remote, connectionId: got.connectionId! }), undefined);
    await waitFor('response at a', () => a.inbox.length === 1);
    assert.equal(a.inbox[0]!.remote.address, '::1');
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('TCP: an IPv4 client reaching an IPv4 listener is reported with plain IPv4 addresses', async () => {
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    client.socket.write(request(1));
    await waitFor('request', () => b.inbox.length === 1);
    assert.equal(b.inbox[0]!.remote.address, '127.0.0.1');
    assert.equal(b.inbox[0]!.local.address, '127.0.0.1');
    client.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('TCP: onMessage may close the layer from inside a message without anything escaping', async () => {
  let layer: TransportLayer | undefined;
  let closing: Promise<void> | undefined;
  const b = peer([{ transport: 'tcp', address: '127.0.0.1', port: 0 }], {
    onMessage: () => {
      closing = layer!.close();
    },
  });
  layer = b.layer;
  const [bBound] = await b.layer.listen();
  const client = await rawClient(bBound!.port);
  client.socket.write(request(1) + request(2));
  await waitFor('close started', () => closing !== undefined);
  await closing;
  await client.closed;
  assert.equal(b.layer.stats().messagesIn, 1, 'the second message is not delivered after close');
  assert.equal(b.layer.stats().connections, 0);
});
