// UDP through real sockets on 127.0.0.1 and ::1, ports chosen by the OS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { TransportError } from '../../src/sip/transport/transport-error.js';
import type { SendTarget } from '../../src/sip/transport/types.js';
import { peer, send, waitFor } from '../support/transport-peer.js';

const OPTIONS = 'OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nCall-ID: u1\r\nContent-Length: 0\r\n\r\n';

test('UDP round trip between two transport layers; the source port is the listening port', async () => {
  const a = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  const b = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  try {
    const [aBound] = await a.layer.listen();
    const [bBound] = await b.layer.listen();
    assert.ok(aBound!.port > 0 && bBound!.port > 0);
    assert.deepEqual(a.layer.local('udp', 4), { address: '127.0.0.1', port: aBound!.port });
    assert.equal(a.layer.local('udp', 6), undefined);

    assert.equal(await send(a.layer, OPTIONS, { transport: 'udp', address: '127.0.0.1', port: bBound!.port }), undefined);
    await waitFor('request at b', () => b.inbox.length === 1);
    const got = b.inbox[0]!;
    assert.equal(got.data.toString(), OPTIONS);
    assert.equal(got.transport, 'udp');
    assert.deepEqual(got.remote, { address: '127.0.0.1', port: aBound!.port });
    assert.deepEqual(got.local, { address: '127.0.0.1', port: bBound!.port });
    assert.equal(got.connectionId, undefined);

    const reply = 'SIP/2.0 200 OK\r\nCall-ID: u1\r\nContent-Length: 0\r\n\r\n';
    assert.equal(await send(b.layer, reply, { transport: 'udp', ...got.remote }), undefined);
    await waitFor('reply at a', () => a.inbox.length === 1);
    assert.equal(a.inbox[0]!.data.toString(), reply);
    assert.deepEqual(a.inbox[0]!.remote, { address: '127.0.0.1', port: bBound!.port });

    const as = a.layer.stats();
    assert.equal(as.datagramsOut, 1);
    assert.equal(as.datagramsIn, 1);
    assert.equal(as.messagesOut, 1);
    assert.equal(as.messagesIn, 1);
    assert.equal(as.connections, 0);
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('UDP on ::1 (IPv6)', async () => {
  const a = peer([{ transport: 'udp', address: '::1', port: 0 }]);
  const b = peer([{ transport: 'udp', address: '::1', port: 0 }]);
  try {
    const [aBound] = await a.layer.listen();
    const [bBound] = await b.layer.listen();
    assert.deepEqual(a.layer.local('udp', 6), { address: '::1', port: aBound!.port });
    assert.equal(await send(a.layer, OPTIONS, { transport: 'udp', address: '::1', port: bBound!.port }), undefined);
    await waitFor('request at b', () => b.inbox.length === 1);
    assert.deepEqual(b.inbox[0]!.remote, { address: '::1', port: aBound!.port });
    assert.equal(await send(a.layer, OPTIONS, { transport: 'udp', address: '[::1]', port: bBound!.port }), undefined, 'brackets are accepted');
    await waitFor('second request', () => b.inbox.length === 2);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('IPv4 and IPv6 UDP listeners can share one port number; each sends from its own family', async () => {
  const v4 = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  let port = 0;
  try {
    port = (await v4.layer.listen())[0]!.port;
  } finally {
    await v4.layer.close();
  }
  const both = peer([
    { transport: 'udp', address: '127.0.0.1', port },
    { transport: 'udp', address: '::1', port },
  ]);
  const other = peer([
    { transport: 'udp', address: '127.0.0.1', port: 0 },
    { transport: 'udp', address: '::1', port: 0 },
  ]);
  try {
    const bound = await both.layer.listen();
    assert.deepEqual(
      bound.map((l) => l.port),
      [port, port],
    );
    const [o4, o6] = await other.layer.listen();
    await send(both.layer, OPTIONS, { transport: 'udp', address: '127.0.0.1', port: o4!.port });
    await send(both.layer, OPTIONS, { transport: 'udp', address: '::1', port: o6!.port });
    await waitFor('both datagrams', () => other.inbox.length === 2);
    const remotes = other.inbox.map((m) => m.remote).sort((x, y) => (x.address < y.address ? -1 : 1));
    assert.deepEqual(remotes, [
      { address: '127.0.0.1', port },
      { address: '::1', port },
    ]);
  } finally {
    await both.layer.close();
    await other.layer.close();
  }
});

test('a CRLFCRLF keep-alive datagram is dropped silently; other datagrams go up whole', async () => {
  const b = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  const raw = createSocket('udp4');
  try {
    const [bBound] = await b.layer.listen();
    const replies: Buffer[] = [];
    raw.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
    const to = (s: string) => new Promise<void>((r) => raw.send(Buffer.from(s), bBound!.port, '127.0.0.1', () => r()));
    await to('\r\n\r\n');
    await to('\r\n'); // not a keep-alive: delivered whole, the parser's business
    await to(OPTIONS);
    await waitFor('two datagrams delivered', () => b.inbox.length === 2);
    assert.deepEqual(
      b.inbox.map((m) => m.data.toString()),
      ['\r\n', OPTIONS],
    );
    assert.equal(b.layer.stats().pingsIn, 1);
    assert.equal(b.layer.stats().datagramsIn, 3);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(replies.length, 0, 'no answer to a UDP keep-alive');
    assert.deepEqual(b.errors, []);
  } finally {
    raw.close();
    await b.layer.close();
  }
});

test('a datagram over maxMessageSize is dropped, counted and reported', async () => {
  const b = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }], { maxMessageSize: 100 });
  const a = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  try {
    const [bBound] = await b.layer.listen();
    await a.layer.listen();
    const target: SendTarget = { transport: 'udp', address: '127.0.0.1', port: bBound!.port };
    await send(a.layer, Buffer.alloc(101, 0x41), target);
    await send(a.layer, Buffer.alloc(100, 0x42), target);
    await waitFor('the small datagram', () => b.inbox.length === 1);
    assert.equal(b.inbox[0]!.data.length, 100);
    assert.equal(b.layer.stats().dropped['datagram-too-large'], 1);
    assert.equal(b.errors[0]?.code, 'datagram-too-large');
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('an onMessage that throws is counted and reported; later datagrams still arrive', async () => {
  let calls = 0;
  const b = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }], {
    onMessage: () => {
      calls++;
      if (calls === 1) throw new Error('handler bug');
    },
  });
  const a = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  try {
    const [bBound] = await b.layer.listen();
    await a.layer.listen();
    const target: SendTarget = { transport: 'udp', address: '127.0.0.1', port: bBound!.port };
    await send(a.layer, OPTIONS, target);
    await waitFor('first', () => calls === 1);
    await send(a.layer, OPTIONS, target);
    await waitFor('second', () => calls === 2);
    assert.equal(b.layer.stats().handlerErrors, 1);
    assert.equal(b.errors[0]?.code, 'handler-threw');
    assert.match(b.errors[0]!.message, /handler bug/);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('send failures come back through the callback, asynchronously, never as a throw', async () => {
  const a = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  const before = await new Promise<Error | undefined>((resolve) =>
    a.layer.send(Buffer.from('x'), { transport: 'udp', address: '127.0.0.1', port: 9 }, resolve),
  );
  assert.equal((before as TransportError).code, 'not-listening');
  await a.layer.listen();
  try {
    let sync = true;
    let seenSync = false;
    const p = new Promise<Error | undefined>((resolve) =>
      a.layer.send(Buffer.from('x'), { transport: 'udp', address: 'sip.example.com', port: 5060 }, (err) => {
        seenSync = sync;
        resolve(err);
      }),
    );
    sync = false;
    assert.equal(((await p) as TransportError).code, 'bad-target');
    assert.equal(seenSync, false, 'the callback never runs inside send()');
    assert.equal(((await send(a.layer, 'x', { transport: 'udp', address: '::1', port: 5060 })) as TransportError).code, 'no-listener');
    assert.equal(((await send(a.layer, 'x', { transport: 'udp', address: '127.0.0.1', port: 70000 })) as TransportError).code, 'bad-target');
    assert.equal(
      ((await send(a.layer, 'x', { transport: 'sctp' as never, address: '127.0.0.1', port: 5060 })) as TransportError).code,
      'bad-target',
    );
    assert.ok(a.errors.length >= 4, 'failures are reported to onError too');
  } finally {
    await a.layer.close();
  }
  assert.equal(((await send(a.layer, 'x', { transport: 'udp', address: '127.0.0.1', port: 9 })) as TransportError).code, 'not-listening');
});

test('listen() rejects a busy port and a non-IP address, leaving nothing bound', async () => {
  const a = peer([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  const [bound] = await a.layer.listen();
  try {
    const clash = peer([
      { transport: 'udp', address: '::1', port: 0 },
      { transport: 'udp', address: '127.0.0.1', port: bound!.port },
    ]);
    await assert.rejects(clash.layer.listen(), /cannot listen on udp 127\.0\.0\.1/);
    assert.equal(
      ((await send(clash.layer, 'x', { transport: 'udp', address: '::1', port: 9 })) as TransportError).code,
      'not-listening',
      'the ::1 socket bound first was closed again',
    );
    const named = peer([{ transport: 'udp', address: 'localhost', port: 0 }]);
    await assert.rejects(named.layer.listen(), /not an IP address/);
  } finally {
    await a.layer.close();
  }
});
