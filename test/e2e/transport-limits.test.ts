// Limits and timers of stream connections, on real sockets, with an injected clock for the timers
// (and one short real timeout), plus the no-leak check on close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { TransportError } from '../../src/sip/transport/transport-error.js';
import type { ListenerSpec, SendTarget, TransportTimers } from '../../src/sip/transport/types.js';
import { peer, rawClient, send, waitFor } from '../support/transport-peer.js';

/** Timers that run only when the test advances the clock. */
class FakeClock implements TransportTimers {
  now = 0;
  private seq = 0;
  private readonly entries = new Map<number, { at: number; fn: () => void; every?: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    this.entries.set(++this.seq, { at: this.now + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.entries.delete(handle as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    this.entries.set(++this.seq, { at: this.now + ms, fn, every: ms });
    return this.seq;
  }
  clearInterval(handle: unknown): void {
    this.entries.delete(handle as number);
  }
  get pending(): number {
    return this.entries.size;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let nextId = -1;
      let next: { at: number; fn: () => void; every?: number } | undefined;
      for (const [id, e] of this.entries) if (e.at <= end && (!next || e.at < next.at)) [nextId, next] = [id, e];
      if (!next) break;
      this.now = next.at;
      if (next.every) next.at += next.every;
      else this.entries.delete(nextId);
      next.fn();
    }
    this.now = end;
  }
}

const request = (n: number) => `MESSAGE sip:b@127.0.0.1 SIP/2.0\r\nCall-ID: c${n}\r\nContent-Length: 5\r\n\r\nhello`;
const TCP4: ListenerSpec[] = [{ transport: 'tcp', address: '127.0.0.1', port: 0 }];

test('maxConnectionsPerSource: the connection beyond the limit is destroyed at once and counted', async () => {
  const b = peer(TCP4, { maxConnectionsPerSource: 2 });
  try {
    const [bBound] = await b.layer.listen();
    const c1 = await rawClient(bBound!.port);
    const c2 = await rawClient(bBound!.port);
    await waitFor('two connections', () => b.layer.stats().connections === 2);
    const c3 = await rawClient(bBound!.port);
    await c3.closed;
    assert.equal(b.layer.stats().dropped['connection-limit'], 1);
    assert.equal(b.errors[0]?.code, 'connection-limit');
    assert.deepEqual(b.errors[0]?.remote?.address, '127.0.0.1');
    assert.equal(c1.isClosed() || c2.isClosed(), false, 'the first two stay open');
    c1.socket.write(request(1));
    await waitFor('the first still works', () => b.inbox.length === 1);

    // Closing one frees its slot.
    c2.socket.destroy();
    await waitFor('slot freed', () => b.layer.stats().connections === 1);
    const c4 = await rawClient(bBound!.port);
    c4.socket.write(request(4));
    await waitFor('the fourth is served', () => b.inbox.length === 2);
    assert.equal(c4.isClosed(), false);
    c1.socket.destroy();
    c4.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('idle timeout (injected clock): a silent connection is closed; traffic resets the timer', async () => {
  const clock = new FakeClock();
  const b = peer(TCP4, { timers: clock, idleTimeoutMs: 1000 });
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    await waitFor('accepted', () => b.layer.stats().connections === 1);
    clock.advance(600);
    client.socket.write(request(1));
    await waitFor('request', () => b.inbox.length === 1);
    clock.advance(600);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.isClosed(), false, 'traffic at 600 ms restarted the idle timer');
    clock.advance(400);
    await client.closed;
    assert.equal(b.layer.stats().closed['idle-timeout'], 1);
    assert.equal(b.errors[0]?.code, 'idle-timeout');
    await waitFor('gone', () => b.layer.stats().connections === 0);
    assert.equal(clock.pending, 0, 'no timer left behind by the closed connection');
  } finally {
    await b.layer.close();
  }
});

test('idle timeout with a short real timer (150 ms)', async () => {
  const b = peer(TCP4, { idleTimeoutMs: 150 });
  try {
    const [bBound] = await b.layer.listen();
    const started = Date.now();
    const client = await rawClient(bBound!.port);
    await client.closed;
    const took = Date.now() - started;
    assert.ok(took >= 140, `closed after ${took} ms, not before the idle timeout`);
    assert.ok(took < 2000, `closed after ${took} ms`);
    assert.equal(b.layer.stats().closed['idle-timeout'], 1);
  } finally {
    await b.layer.close();
  }
});

test('read timeout (injected clock): a message that does not complete in time closes the connection', async () => {
  const clock = new FakeClock();
  const b = peer(TCP4, { timers: clock, readTimeoutMs: 300, idleTimeoutMs: 100_000 });
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    // Whole messages never start the read deadline.
    client.socket.write(request(1));
    await waitFor('request', () => b.inbox.length === 1);
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.isClosed(), false);
    // A message trickling in byte by byte (slowloris): the deadline runs from its first byte.
    const slow = Buffer.from(request(2));
    client.socket.write(slow.subarray(0, 10));
    await waitFor('first bytes read', () => b.layer.stats().bytesIn > request(1).length);
    clock.advance(200);
    client.socket.write(slow.subarray(10, 20));
    await waitFor('more bytes read', () => b.layer.stats().bytesIn >= request(1).length + 20);
    clock.advance(99);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.isClosed(), false, 'fresh bytes do not extend the deadline, but it has not passed yet');
    clock.advance(1);
    await client.closed;
    assert.equal(b.layer.stats().closed['read-timeout'], 1);
    assert.equal(b.errors[0]?.code, 'read-timeout');
    assert.equal(b.inbox.length, 1);
  } finally {
    await b.layer.close();
  }
});

test('read timeout restarts for the next message once one completes', async () => {
  const clock = new FakeClock();
  const b = peer(TCP4, { timers: clock, readTimeoutMs: 300, idleTimeoutMs: 100_000 });
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    const two = Buffer.from(request(1) + request(2));
    client.socket.write(two.subarray(0, 10));
    await waitFor('bytes', () => b.layer.stats().bytesIn === 10);
    clock.advance(250);
    // Completes message 1 and starts message 2 in one read: message 2 gets a full 300 ms.
    client.socket.write(two.subarray(10, request(1).length + 10));
    await waitFor('message 1', () => b.inbox.length === 1);
    clock.advance(250);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.isClosed(), false);
    client.socket.write(two.subarray(request(1).length + 10));
    await waitFor('message 2', () => b.inbox.length === 2);
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.isClosed(), false, 'no deadline between messages');
    client.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('read timeout with a short real timer (100 ms)', async () => {
  const b = peer(TCP4, { readTimeoutMs: 100 });
  try {
    const [bBound] = await b.layer.listen();
    const client = await rawClient(bBound!.port);
    client.socket.write('MESSAGE sip:b@x SIP/2.0\r\nCall-ID: slow\r\n');
    await client.closed;
    assert.equal(b.layer.stats().closed['read-timeout'], 1);
  } finally {
    await b.layer.close();
  }
});

test('RFC 5626 keep-alive: outbound connections ping every interval and count the pongs; inbound ones never ping', async () => {
  const clockA = new FakeClock();
  const clockB = new FakeClock();
  const a = peer(TCP4, { timers: clockA, keepAliveIntervalMs: 1000 });
  const b = peer(TCP4, { timers: clockB, keepAliveIntervalMs: 1000 });
  try {
    await a.layer.listen();
    const [bBound] = await b.layer.listen();
    assert.equal(await send(a.layer, request(1), { transport: 'tcp', address: '127.0.0.1', port: bBound!.port }), undefined);
    await waitFor('request', () => b.inbox.length === 1);
    clockA.advance(1000);
    await waitFor('pong back at a', () => a.layer.stats().pongsIn === 1);
    assert.equal(a.layer.stats().pingsOut, 1);
    assert.equal(b.layer.stats().pingsIn, 1);
    assert.equal(b.layer.stats().pongsOut, 1);
    clockA.advance(1000);
    await waitFor('second pong', () => a.layer.stats().pongsIn === 2);
    assert.equal(a.layer.stats().pongsMissed, 0);
    clockB.advance(5000);
    assert.equal(b.layer.stats().pingsOut, 0, 'b did not open the connection: it does not ping');
    assert.equal(b.inbox.length, 1, 'pings are not messages');
    assert.equal(a.inbox.length, 0, 'pongs are not messages');
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('keep-alive: a missing pong is counted and the idle timer closes the dead flow', async () => {
  // The peer is a raw server that reads but never answers.
  const { createServer } = await import('node:net');
  const peerSockets: Socket[] = [];
  const silent = createServer((s) => {
    peerSockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const clock = new FakeClock();
  const a = peer(TCP4, { timers: clock, keepAliveIntervalMs: 1000, idleTimeoutMs: 2500 });
  try {
    await a.layer.listen();
    assert.equal(await send(a.layer, request(1), { transport: 'tcp', address: '127.0.0.1', port }), undefined);
    clock.advance(1000);
    clock.advance(1000);
    assert.equal(a.layer.stats().pingsOut, 2);
    assert.equal(a.layer.stats().pongsMissed, 1);
    assert.equal(a.layer.stats().connections, 1, 'pings do not count as activity, but the idle time has not passed');
    clock.advance(500);
    assert.equal(a.layer.stats().connections, 0);
    assert.equal(a.layer.stats().closed['idle-timeout'], 1);
    assert.equal(clock.pending, 0, 'keep-alive interval cleared with the connection');
  } finally {
    await a.layer.close();
    for (const s of peerSockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test('connect timeout (injected clock) fails queued sends', async () => {
  // The clock is advanced in the same tick as the send, before any loopback connect can complete.
  const target = peer(TCP4);
  const clock = new FakeClock();
  const a = peer(TCP4, { timers: clock, connectTimeoutMs: 500 });
  try {
    const [tBound] = await target.layer.listen();
    await a.layer.listen();
    const to: SendTarget = { transport: 'tcp', address: '127.0.0.1', port: tBound!.port };
    const p1 = send(a.layer, request(1), to);
    const p2 = send(a.layer, request(2), to);
    clock.advance(499);
    assert.equal(a.layer.stats().connections, 1);
    clock.advance(1);
    const [e1, e2] = (await Promise.all([p1, p2])) as [TransportError, TransportError];
    assert.equal(e1.code, 'connect-timeout');
    assert.equal(e2.code, 'connect-timeout');
    assert.equal(a.layer.stats().connections, 0);
    assert.equal(a.layer.stats().closed['connect-timeout'], 1);
    assert.equal(clock.pending, 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(target.inbox.length, 0, 'nothing queued was sent after the timeout');
  } finally {
    await a.layer.close();
    await target.layer.close();
  }
});
