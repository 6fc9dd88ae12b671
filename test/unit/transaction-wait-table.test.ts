// Non-INVITE transactions that wait out Timer J or K as records rather than objects
// (src/sip/transaction/wait-table.ts), alone and inside the transaction layer, on a fake clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NO_RECORD, WaitTable } from '../../src/sip/transaction/wait-table.js';
import { CountingTimers } from '../../src/sip/timer.js';
import type { Destination } from '../../src/sip/transaction/types.js';
import type { ServerTransaction } from '../../src/sip/transaction/server-transaction.js';
import { SipResponse } from '../../src/sip/message/message.js';
import { FakeClock } from '../support/fake-clock.js';
import { harness, request, again, response, UDP, FakeWire } from '../support/transaction-fixtures.js';
import { TransactionLayer } from '../../src/sip/transaction/layer.js';
import { InviteClientTransaction } from '../../src/sip/transaction/invite-client.js';
import type { SipResponse as Response } from '../../src/sip/message/message.js';

const PEER: Destination = Object.freeze({ transport: 'udp', address: '127.0.0.1', port: 5090 });

function table(ms = 1000, segmentBits?: number): { clock: FakeClock; timers: CountingTimers; t: WaitTable } {
  const clock = new FakeClock();
  const timers = new CountingTimers(clock);
  return { clock, timers, t: new WaitTable(timers, ms, segmentBits) };
}

/** A deterministic generator (xorshift32): the same records on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('WaitTable', () => {
  it('finds a record by its key, gives back a copy of its body, its destination and code; expires in order with one host timer', () => {
    const { clock, timers, t } = table();
    const a = t.add('z9hG4bK-a\u0000host:5060\u0000BYE', Buffer.from('SIP/2.0 200 OK\r\n\r\n'), PEER, 200);
    clock.advance(400);
    const b = t.add('z9hG4bK-b\u0000host:5060\u0000NOTIFY', Buffer.from('SIP/2.0 481 Gone\r\n\r\n'), PEER, 481);
    assert.equal(t.size, 2);
    assert.equal(timers.armed, 1, 'one host timer for the table');
    assert.equal(t.find('z9hG4bK-a\u0000host:5060\u0000BYE'), a);
    assert.equal(t.find('z9hG4bK-b\u0000host:5060\u0000NOTIFY'), b);
    assert.equal(t.find('z9hG4bK-b\u0000host:5060\u0000BYE'), NO_RECORD, 'another method is another key');
    assert.equal(t.find('z9hG4bK-a'), NO_RECORD);
    assert.equal(t.bodyOf(b).toString(), 'SIP/2.0 481 Gone\r\n\r\n');
    assert.equal(t.codeOf(b), 481);
    assert.equal(t.destOf(a), PEER);
    const body = t.bodyOf(a);
    body.fill(0);
    assert.equal(t.bodyOf(a).toString(), 'SIP/2.0 200 OK\r\n\r\n', 'bodyOf copies');
    clock.advance(599);
    assert.ok(t.has(a));
    clock.advance(1);
    assert.ok(!t.has(a), 'a waited its 1000 ms');
    assert.equal(t.find('z9hG4bK-a\u0000host:5060\u0000BYE'), NO_RECORD);
    assert.ok(t.has(b));
    clock.advance(400);
    assert.ok(!t.has(b));
    assert.equal(t.size, 0);
    assert.equal(timers.armed, 0, 'an empty table holds no host timer');
  });

  it('a record removed early is found no more; clear() ends all of them and the timer', () => {
    const { timers, t } = table();
    const a = t.add('key-a', undefined, undefined);
    const b = t.add('key-b', undefined, undefined);
    t.remove(a);
    assert.equal(t.find('key-a'), NO_RECORD);
    assert.equal(t.find('key-b'), b);
    assert.equal(t.size, 1);
    t.remove(a); // twice: nothing
    assert.equal(t.size, 1);
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.find('key-b'), NO_RECORD);
    assert.equal(timers.armed, 0);
  });

  it('keeps no key with a character beyond Latin-1 (the caller keeps its object), and none longer than 65535', () => {
    const { t } = table();
    assert.equal(t.add('z9hG4bK-\u20ac', undefined, undefined), NO_RECORD);
    assert.equal(t.add('x'.repeat(65536), undefined, undefined), NO_RECORD);
    assert.equal(t.size, 0);
    const latin = t.add('z9hG4bK-\u00fc\u00ff', undefined, undefined);
    assert.equal(t.find('z9hG4bK-\u00fc\u00ff'), latin);
    assert.equal(t.find('z9hG4bK-\u20ac'), NO_RECORD);
  });

  it('a clock set back does not stretch the wait beyond the table length', () => {
    let now = 1_000_000;
    const clock = new FakeClock();
    const host = { setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock), now: () => now };
    const t = new WaitTable(host, 1000);
    const a = t.add('key-a', undefined, undefined);
    now -= 3_600_000; // the wall clock jumps back an hour
    clock.advance(1000);
    assert.ok(!t.has(a));
    assert.equal(clock.pending(), 0);
  });

  it('keeps no record longer than a byte segment (the caller keeps its object)', () => {
    const { t } = table(1000, 12); // 4-KiB segments
    assert.equal(t.add('key-a', Buffer.alloc(4096 - 5), PEER), 0, 'exactly a segment');
    assert.equal(t.add('key-b', Buffer.alloc(4096 - 4), PEER), NO_RECORD);
    assert.equal(t.size, 1);
    assert.equal(t.find('key-b'), NO_RECORD);
  });

  for (const segmentBits of [undefined, 12]) it(`against a model${segmentBits === undefined ? '' : ` (${2 ** segmentBits}-byte segments)`}: tens of thousands of records in waves that grow and shrink the slots and release byte segments, every key found or not as it should be`, () => {
    const { clock, timers, t } = table(2000, segmentBits);
    let mostHeld = 0;
    const next = random(0x5eed);
    const model = new Map<string, { seq: number; body: string; due: number }>();
    let n = 0;
    for (let round = 0; round < 400; round++) {
      // Bursts of up to 400 records (bodies up to 2 KB), then quiet stretches: the ring and the
      // slots grow past their first sizes, wrap around, and shrink back after the bursts.
      const burst = round % 50 < 10 ? 400 : Math.floor(next() * 40);
      for (let i = 0; i < burst; i++) {
        const key = `z9hG4bK-${(next() * 1e9) | 0}-${n++}\u0000127.0.0.1:5060\u0000NOTIFY`;
        const body = 'SIP/2.0 200 OK\r\n' + 'x'.repeat(Math.floor(next() * 2000));
        const seq = t.add(key, Buffer.from(body, 'latin1'), PEER, 200);
        assert.notEqual(seq, NO_RECORD);
        model.set(key, { seq, body, due: clock.now() + 2000 });
      }
      if (next() < 0.2 && model.size > 0) {
        // Remove one early (a failed send).
        const [key, rec] = model.entries().next().value as [string, { seq: number }];
        t.remove(rec.seq);
        model.delete(key);
      }
      mostHeld = Math.max(mostHeld, t.heldBytes);
      clock.advance(Math.floor(next() * 120));
      for (const [key, rec] of model) if (rec.due <= clock.now()) model.delete(key);
      assert.equal(t.size, model.size, `round ${round}`);
      if (segmentBits !== undefined) {
        // Segments go as the records in them expire: what is held stays near what is live
        // (records average ~1 KB; a 4-KiB segment wastes at most a record's length).
        assert.ok(t.heldBytes <= (model.size + 8) * 2100, `round ${round}: ${t.heldBytes} bytes held for ${model.size} records`);
      }
      if (round % 20 === 0 || round === 399) {
        for (const [key, rec] of model) {
          const seq = t.find(key);
          assert.equal(seq, rec.seq, `round ${round}: ${key}`);
          assert.equal(t.bodyOf(seq).toString('latin1'), rec.body);
        }
        assert.equal(t.find(`z9hG4bK-never\u0000127.0.0.1:5060\u0000NOTIFY`), NO_RECORD);
      }
    }
    assert.ok(n > 30_000, `${n} records`);
    if (segmentBits !== undefined) assert.ok(mostHeld > 100 * 2 ** segmentBits, `${mostHeld} bytes at most: many segments in use at once`);
    clock.advance(2000);
    assert.equal(t.size, 0);
    assert.equal(timers.armed, 0);
    assert.ok(t.heldBytes <= 2 * 2 ** (segmentBits ?? 18), `${t.heldBytes} bytes held when empty: two spare segments at most`);
  });
});

describe('the transaction layer keeps non-INVITE Completed waits as records', () => {
  it('a non-INVITE server transaction with no TU: Completed as a record that re-sends the same bytes; Timer J ends it', () => {
    const h = harness();
    const req = request({ method: 'NOTIFY' });
    const r = h.layer.receiveRequest(req, UDP);
    assert.equal(r.kind, 'new');
    const tx = (r as { tx: ServerTransaction }).tx;
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Completed');
    assert.deepEqual(tx.armedTimers, ['J']);
    assert.equal(tx.isTerminated, false);
    assert.equal(h.layer.serverCount, 1, 'the record counts as a live transaction');
    assert.equal(h.timers.armed, 1, "the table's timer");
    const first = h.wire.sent.at(-1)!.message.serialize().toString('latin1');

    h.at(10_000);
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission' });
    assert.equal(h.wire.sent.length, 2);
    assert.equal(h.wire.sent[1]!.message.serialize().toString('latin1'), first, '§17.2.2: the final response again, the same bytes');
    assert.deepEqual(h.wire.sent[1]!.dest, UDP);
    assert.ok(h.events.some((e) => e.type === 'retransmission' && e.status === 200 && e.method === 'NOTIFY'));
    assert.ok(h.events.some((e) => e.type === 'retransmission-received' && e.method === 'NOTIFY'));
    tx.respond(response(req, 500));
    assert.equal(h.wire.sent.length, 2, 'a later final from the TU is discarded');

    h.at(32_000 - 1);
    assert.equal(tx.state, 'Completed');
    h.at(32_000);
    assert.equal(tx.state, 'Terminated');
    assert.equal(tx.isTerminated, true);
    assert.deepEqual(tx.armedTimers, []);
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
    assert.equal(h.layer.receiveRequest(again(req), UDP).kind, 'new', 'after Timer J the same request is new');
  });

  it('a failed re-send ends the record (§17.2.4) and is reported', () => {
    const h = harness();
    const req = request({ method: 'BYE' });
    const tx = (h.layer.receiveRequest(req, UDP) as { tx: ServerTransaction }).tx;
    tx.respond(response(req, 200));
    h.wire.fail(new Error('EHOSTUNREACH'));
    assert.deepEqual(h.layer.receiveRequest(again(req), UDP), { kind: 'retransmission' });
    assert.ok(h.events.some((e) => e.type === 'transport-error' && e.error.message === 'EHOSTUNREACH'));
    assert.equal(tx.state, 'Terminated');
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('terminate() on a retired transaction ends its record; close() ends every record', () => {
    const h = harness();
    const a = request({ method: 'BYE' });
    const b = request({ method: 'NOTIFY' });
    const txA = (h.layer.receiveRequest(a, UDP) as { tx: ServerTransaction }).tx;
    const txB = (h.layer.receiveRequest(b, UDP) as { tx: ServerTransaction }).tx;
    txA.respond(response(a, 200));
    txB.respond(response(b, 200));
    const plain = { onResponse() {}, onTimeout() {}, onTransportError() {} };
    const out = h.layer.sendRequest(request({ method: 'INFO' }), UDP, plain);
    h.layer.receiveResponse(response(h.wire.requests('INFO')[0]!, 200));
    assert.equal(h.layer.size, 3);
    txA.terminate();
    assert.equal(txA.state, 'Terminated');
    assert.equal(h.layer.serverCount, 1);
    assert.equal(h.layer.receiveRequest(again(a), UDP).kind, 'new');
    h.layer.close();
    assert.equal(txB.state, 'Terminated');
    assert.equal(out.state, 'Terminated');
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
  });

  it('a non-INVITE client transaction whose TU has no onTerminated: Completed as a record that absorbs response copies until Timer K', () => {
    const h = harness();
    let responses = 0;
    const plain = { onResponse() { responses++; }, onTimeout() {}, onTransportError() {} };
    const tx = h.layer.sendRequest(request({ method: 'REFER' }), UDP, plain);
    const sent = h.wire.requests('REFER')[0]!;
    h.layer.receiveResponse(response(sent, 202));
    assert.equal(tx.state, 'Completed');
    assert.deepEqual(tx.armedTimers, ['K']);
    assert.equal(h.layer.clientCount, 1);
    assert.equal(h.layer.receiveResponse(response(sent, 202)), 'absorbed');
    assert.equal(responses, 1, 'the copy is not passed up');
    assert.ok(h.events.some((e) => e.type === 'retransmission-received' && e.status === 202 && e.method === 'REFER'));
    h.at(5000);
    assert.equal(tx.state, 'Terminated');
    assert.equal(h.layer.size, 0);
    assert.equal(h.timers.armed, 0);
    assert.equal(h.layer.receiveResponse(response(sent, 202)), undefined, 'after Timer K a copy is a stray for the core');
  });

  it('over TCP nothing waits, and a TU that listens keeps its object (and hears the end)', () => {
    const h = harness();
    const req = request({ method: 'BYE', transport: 'TCP' });
    const tcp: Destination = { transport: 'tcp', address: '127.0.0.1', port: 5070, connectionId: 3 };
    const tx = (h.layer.receiveRequest(req, tcp) as { tx: ServerTransaction }).tx;
    tx.respond(response(req, 200));
    assert.equal(tx.state, 'Terminated');
    const udp = request({ method: 'BYE' });
    const kept = (h.layer.receiveRequest(udp, UDP) as { tx: ServerTransaction }).tx;
    let ended = 0;
    kept.user = { onTerminated: () => ended++ };
    kept.respond(response(udp, 200));
    assert.deepEqual(h.layer.receiveRequest(again(udp), UDP), { kind: 'retransmission', tx: kept });
    assert.ok(h.wire.sent.at(-1)!.message instanceof SipResponse);
    h.at(32_000);
    assert.equal(ended, 1);
    assert.equal(h.layer.size, 0);
  });
});

describe('an INVITE client transaction in Accepted, retired by its TU (Timer M as a record)', () => {
  function setup() {
    const clock = new FakeClock();
    const timers = new CountingTimers(clock);
    const wire = new FakeWire(() => clock.now());
    const late: { status: number; kept: string }[] = [];
    const layer = new TransactionLayer({
      wire, timers, onAccepted2xx: (res: Response, kept: Buffer) => late.push({ status: res.status, kept: kept.toString() }),
    });
    let terminated = 0;
    const user = { onResponse() {}, onTimeout() {}, onTransportError() {}, onTerminated() { terminated++; } };
    const tx = layer.sendRequest(request(), UDP, user) as InviteClientTransaction;
    const invite = wire.requests('INVITE')[0]!;
    return { clock, timers, wire, late, layer, tx, invite, terminated: () => terminated };
  }

  it('keeps the ACK bytes until Timer M from the 2xx; 2xx copies go to the hook with them, other responses are absorbed', () => {
    const s = setup();
    assert.equal(s.tx.retireAccepted(Buffer.from('ACK bytes')), false, 'not Accepted yet');
    s.layer.receiveResponse(response(s.invite, 200, 'uas'));
    assert.equal(s.tx.state, 'Accepted');
    s.clock.advance(10_000);
    assert.equal(s.tx.retireAccepted(Buffer.from('ACK bytes')), true);
    assert.equal(s.tx.state, 'Accepted');
    assert.deepEqual(s.tx.armedTimers, ['M']);
    assert.equal(s.layer.clientCount, 1);
    assert.equal(s.timers.armed, 1, "only the table's timer");
    assert.equal(s.layer.receiveResponse(response(s.invite, 200, 'uas')), 'absorbed');
    assert.equal(s.layer.receiveResponse(response(s.invite, 200, 'fork')), 'absorbed');
    assert.equal(s.layer.receiveResponse(response(s.invite, 180, 'uas')), 'absorbed');
    assert.deepEqual(s.late, [{ status: 200, kept: 'ACK bytes' }, { status: 200, kept: 'ACK bytes' }]);
    s.clock.advance(22_000 - 1);
    assert.equal(s.tx.state, 'Accepted');
    s.clock.advance(1);
    assert.equal(s.tx.state, 'Terminated', 'Timer M runs from the 2xx (RFC 6026 §8.4), not from the retirement');
    assert.equal(s.layer.size, 0);
    assert.equal(s.timers.armed, 0);
    assert.equal(s.terminated(), 0, 'the TU let go of it: it hears nothing more');
    assert.equal(s.layer.receiveResponse(response(s.invite, 200, 'uas')), undefined, 'after Timer M a 2xx is a stray for the core');
  });

  it('with no ACK kept the record absorbs; a hook that throws is reported, not thrown', () => {
    const s = setup();
    s.layer.receiveResponse(response(s.invite, 200, 'uas'));
    assert.equal(s.tx.retireAccepted(undefined), true);
    assert.equal(s.layer.receiveResponse(response(s.invite, 200, 'uas')), 'absorbed');
    assert.deepEqual(s.late, [{ status: 200, kept: '' }]);
    const events: string[] = [];
    const throwing = new TransactionLayer({
      wire: s.wire, timers: s.timers, onEvent: (e) => events.push(e.type),
      onAccepted2xx: () => { throw new Error('boom'); },
    });
    const tx = throwing.sendRequest(request(), UDP, { onResponse() {}, onTimeout() {}, onTransportError() {} }) as InviteClientTransaction;
    const invite = s.wire.requests('INVITE').at(-1)!;
    throwing.receiveResponse(response(invite, 200, 'uas'));
    assert.equal(tx.retireAccepted(Buffer.from('x')), true);
    assert.equal(throwing.receiveResponse(response(invite, 200, 'uas')), 'absorbed');
    assert.deepEqual(events, ['tu-error']);
    throwing.close();
    s.layer.close();
    assert.equal(s.timers.armed, 0);
  });
});
