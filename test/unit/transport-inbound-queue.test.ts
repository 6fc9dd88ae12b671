// UDP datagrams delivered in slices between polls of the sockets (src/sip/transport/inbound-queue.ts):
// order, the time budget of a slice, the bound on what waits, clear(); on a fake clock with the
// slices run by hand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InboundQueue } from '../../src/sip/transport/inbound-queue.js';
import type { Inbound } from '../../src/sip/transport/types.js';

function datagram(n: number): Inbound {
  return {
    data: Buffer.from(`m${n}`),
    transport: 'udp',
    remote: { address: '127.0.0.1', port: 5060 },
    local: { address: '127.0.0.1', port: 5070 },
  };
}

/** A queue whose deliveries each take `costMs` on a fake clock; slices run when `run()` says. */
function harness(sliceMicros: number, maxQueued = 100, costMs = 0.1, maxQueuedBytes = 1e9) {
  let now = 0;
  const delivered: string[] = [];
  const pending: (() => void)[] = [];
  const q = new InboundQueue({
    sliceMicros,
    maxQueued,
    maxQueuedBytes,
    deliver: (m) => {
      delivered.push(m.data.toString());
      now += costMs;
    },
    now: () => now,
    schedule: (fn) => pending.push(fn),
  });
  return {
    q,
    delivered,
    pending,
    /** Runs the slices scheduled so far (one turn of the event loop's check phase). */
    turn(): number {
      const fns = pending.splice(0);
      for (const fn of fns) fn();
      return fns.length;
    },
  };
}

describe('InboundQueue', () => {
  it('delivers nothing while the poll reads, then in slices of the budget, in order', () => {
    const h = harness(250); // 0.25 ms; each message 0.1 ms
    for (let i = 0; i < 7; i++) h.q.push(datagram(i));
    assert.deepEqual(h.delivered, [], 'pushing only queues');
    assert.equal(h.pending.length, 1, 'one slice scheduled, not one per message');
    assert.equal(h.q.length, 7);
    h.turn();
    assert.deepEqual(h.delivered, ['m0', 'm1', 'm2'], 'a slice stops once 0.25 ms has gone (after the third message)');
    assert.equal(h.pending.length, 1, 'the rest is scheduled for the next turn');
    h.q.push(datagram(7));
    assert.equal(h.pending.length, 1, 'still one slice scheduled');
    h.turn();
    h.turn();
    assert.deepEqual(h.delivered, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    assert.equal(h.q.length, 0);
    assert.equal(h.turn(), 0, 'nothing scheduled once empty');
  });

  it('a message that alone exceeds the budget is still delivered, one per slice', () => {
    const h = harness(250, 100, 5);
    for (let i = 0; i < 3; i++) h.q.push(datagram(i));
    h.turn();
    assert.deepEqual(h.delivered, ['m0']);
    h.turn();
    assert.deepEqual(h.delivered, ['m0', 'm1']);
  });

  it('at maxQueued waiting, delivers all of them before queueing the next one: bounded, order kept', () => {
    const h = harness(250, 4);
    for (let i = 0; i < 4; i++) h.q.push(datagram(i));
    assert.deepEqual(h.delivered, []);
    h.q.push(datagram(4));
    assert.deepEqual(h.delivered, ['m0', 'm1', 'm2', 'm3'], 'the full queue went at once');
    assert.equal(h.q.length, 1);
    h.turn();
    assert.deepEqual(h.delivered, ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('at maxQueuedBytes waiting, delivers all of them before queueing the next one (large datagrams)', () => {
    const h = harness(250, 100, 0.1, 8); // datagram(n) is 2 bytes ("m0"…"m9")
    for (let i = 0; i < 4; i++) h.q.push(datagram(i));
    assert.deepEqual(h.delivered, [], '8 bytes wait: at the limit, not over it');
    h.q.push(datagram(4));
    assert.deepEqual(h.delivered, ['m0', 'm1', 'm2', 'm3'], 'the next 2 bytes would pass 8: the queue went at once');
    assert.equal(h.q.length, 1);
    h.turn();
    for (let i = 5; i < 9; i++) h.q.push(datagram(i));
    assert.deepEqual(h.delivered, ['m0', 'm1', 'm2', 'm3', 'm4'], 'the bytes count down as messages go');
  });

  it('clear() from inside a delivery (the layer closing) ends the slice there, without a throw', () => {
    const delivered: string[] = [];
    const pending: (() => void)[] = [];
    const q: InboundQueue = new InboundQueue({
      sliceMicros: 250, maxQueued: 100, maxQueuedBytes: 1e9,
      deliver: (m) => {
        delivered.push(m.data.toString());
        if (delivered.length === 2) q.clear();
      },
      now: () => 0, // never out of budget: only clear() can stop the slice
      schedule: (fn) => pending.push(fn),
    });
    for (let i = 0; i < 5; i++) q.push(datagram(i));
    assert.doesNotThrow(() => pending.splice(0).forEach((fn) => fn()));
    assert.deepEqual(delivered, ['m0', 'm1']);
    assert.equal(q.length, 0);
    q.push(datagram(9));
    pending.splice(0).forEach((fn) => fn());
    assert.deepEqual(delivered, ['m0', 'm1', 'm9'], 'the queue works on after a clear');
  });

  it('sliceMicros 0 delivers each message as it is pushed', () => {
    const h = harness(0);
    h.q.push(datagram(0));
    assert.deepEqual(h.delivered, ['m0']);
    assert.equal(h.pending.length, 0);
  });

  it('clear() drops what waits; a slice scheduled before delivers nothing', () => {
    const h = harness(250);
    h.q.push(datagram(0));
    h.q.push(datagram(1));
    h.q.clear();
    assert.equal(h.q.length, 0);
    h.turn();
    assert.deepEqual(h.delivered, []);
  });

  it('under a steady backlog the consumed front is dropped now and then (memory stays bounded)', () => {
    const h = harness(250, 1_000_000, 0.1);
    let n = 0;
    for (let i = 0; i < 50; i++) h.q.push(datagram(n++));
    // Then 3 in and 3 out per turn for 2,000 turns: the queue is never empty.
    for (let turn = 0; turn < 2000; turn++) {
      for (let i = 0; i < 3; i++) h.q.push(datagram(n++));
      h.turn();
    }
    assert.equal(h.q.length, 50);
    const items = (h.q as unknown as { items: unknown[] }).items;
    assert.ok(items.length <= 2200, `${items.length} slots for ${h.q.length} waiting (6,050 without dropping)`);
    assert.equal(h.delivered.length + h.q.length, n, 'nothing lost');
    assert.deepEqual(h.delivered.slice(0, 3), ['m0', 'm1', 'm2']);
    assert.equal(h.delivered.at(-1), `m${h.delivered.length - 1}`, 'in order');
  });
});
