// The FIFO queue that holds every fixed-length transaction timer (src/sip/fixed-timers.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FixedTimerQueue, type FixedTimerOwner } from '../../src/sip/fixed-timers.js';
import { CountingTimers } from '../../src/sip/timer.js';
import { FakeClock } from '../support/fake-clock.js';

function owner(log: string[], label: string, react?: (name: string) => void): FixedTimerOwner {
  return {
    fixedTimerFired(name) {
      log.push(`${label}.${name}`);
      react?.(name);
    },
  };
}

describe('FixedTimerQueue', () => {
  it('fires each timer its length after it was armed, in arming order, with one host timer at a time', () => {
    const clock = new FakeClock();
    const timers = new CountingTimers(clock);
    const queue = new FixedTimerQueue(timers, 1000);
    const log: string[] = [];
    queue.add(owner(log, 'a'), 'J');
    clock.advance(300);
    queue.add(owner(log, 'b'), 'J');
    queue.add(owner(log, 'c'), 'L');
    assert.equal(timers.armed, 1, 'one host timer for the whole queue');
    assert.equal(queue.size, 3);
    clock.advance(699);
    assert.deepEqual(log, []);
    clock.advance(1);
    assert.deepEqual(log, ['a.J']);
    clock.advance(299);
    assert.deepEqual(log, ['a.J']);
    clock.advance(1);
    assert.deepEqual(log, ['a.J', 'b.J', 'c.L']);
    assert.equal(queue.size, 0);
    assert.equal(timers.armed, 0, 'an empty queue holds no host timer');
  });

  it('a cancelled timer never fires; cancelling the last live one releases the host timer', () => {
    const clock = new FakeClock();
    const timers = new CountingTimers(clock);
    const queue = new FixedTimerQueue(timers, 500);
    const log: string[] = [];
    const a = queue.add(owner(log, 'a'), 'K');
    clock.advance(100);
    const b = queue.add(owner(log, 'b'), 'K');
    queue.cancel(a);
    queue.cancel(a); // twice is harmless
    assert.equal(queue.size, 1);
    clock.advance(400);
    assert.deepEqual(log, [], 'a was cancelled; b is due at 600');
    clock.advance(100);
    assert.deepEqual(log, ['b.K']);
    queue.cancel(b); // after it fired: harmless
    const c = queue.add(owner(log, 'c'), 'K');
    assert.equal(timers.armed, 1);
    queue.cancel(c);
    assert.equal(timers.armed, 0);
    clock.advance(10_000);
    assert.deepEqual(log, ['b.K']);
  });

  it('an owner may arm and cancel in the same queue while it fires', () => {
    const clock = new FakeClock();
    const queue = new FixedTimerQueue(clock, 100);
    const log: string[] = [];
    let later = -1;
    queue.add(owner(log, 'a', () => queue.add(owner(log, 'again'), 'B')), 'B');
    queue.add(owner(log, 'b', () => queue.cancel(later)), 'B');
    later = queue.add(owner(log, 'c'), 'B');
    clock.advance(100);
    assert.deepEqual(log, ['a.B', 'b.B'], 'c was cancelled by b before its turn');
    clock.advance(100);
    assert.deepEqual(log, ['a.B', 'b.B', 'again.B']);
    assert.equal(clock.pending(), 0);
  });

  it('an owner that throws does not stop the others', () => {
    const clock = new FakeClock();
    const queue = new FixedTimerQueue(clock, 50);
    const log: string[] = [];
    queue.add(owner(log, 'a', () => { throw new Error('boom'); }), 'F');
    queue.add(owner(log, 'b'), 'F');
    clock.advance(50);
    assert.deepEqual(log, ['a.F', 'b.F']);
  });

  it('a clock set back does not stretch a wait beyond the queue length', () => {
    let now = 1_000_000;
    const clock = new FakeClock();
    const host = { setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock), now: () => now };
    const queue = new FixedTimerQueue(host, 1000);
    const log: string[] = [];
    queue.add(owner(log, 'a'), 'M');
    now -= 3_600_000; // the wall clock jumps back an hour
    clock.advance(1000);
    assert.deepEqual(log, ['a.M']);
  });

  it('keeps handles valid while the array is trimmed under a steady stream', () => {
    const clock = new FakeClock();
    const queue = new FixedTimerQueue(clock, 10);
    let fired = 0;
    const counter: FixedTimerOwner = { fixedTimerFired: () => void fired++ };
    let cancelled = 0;
    for (let i = 0; i < 20_000; i++) {
      const h = queue.add(counter, 'J');
      if (i % 3 === 0) {
        queue.cancel(h);
        cancelled++;
      }
      if (i % 100 === 99) clock.advance(1);
    }
    clock.advance(100);
    assert.equal(fired, 20_000 - cancelled);
    assert.equal(queue.size, 0);
    assert.equal(clock.pending(), 0);
  });

  it('a handle from before the queue emptied, or from a chunk already passed, cancels nothing armed since', () => {
    const clock = new FakeClock();
    const queue = new FixedTimerQueue(clock, 10);
    const log: string[] = [];
    const stale = queue.add(owner(log, 'old'), 'K');
    clock.advance(10); // fired: the queue is empty and starts its sequence again
    assert.deepEqual(log, ['old.K']);
    const fresh = queue.add(owner(log, 'new'), 'K');
    queue.cancel(stale);
    assert.equal(queue.size, 1, 'the old handle did not cancel the new timer');
    // Thousands of timers spread over several chunks, every other one cancelled; names kept apart.
    const handles: number[] = [];
    for (let i = 0; i < 5000; i++) handles.push(queue.add(owner(log, `t${i}`), i % 2 === 0 ? 'J' : 'K'));
    for (let i = 1; i < 5000; i += 2) queue.cancel(handles[i]!);
    clock.advance(10);
    assert.equal(queue.size, 0);
    assert.equal(log.length, 2 + 2500);
    assert.equal(log[1], 'new.K');
    assert.deepEqual(log.slice(2, 5), ['t0.J', 't2.J', 't4.J']);
    for (const h of [fresh, ...handles]) queue.cancel(h); // all gone: no effect, no throw
    assert.equal(queue.size, 0);
  });

  it('a timer an owner arms while the queue fires does not delay the older ones still waiting', () => {
    const clock = new FakeClock();
    const queue = new FixedTimerQueue(clock, 1000);
    const log: string[] = [];
    queue.add(owner(log, 'a', () => queue.add(owner(log, 'c'), 'J')), 'J');
    clock.advance(500);
    queue.add(owner(log, 'b'), 'J');
    clock.advance(500);
    assert.deepEqual(log, ['a.J']);
    clock.advance(500); // b is due now, not when c is (a whole length after a fired)
    assert.deepEqual(log, ['a.J', 'b.J']);
    clock.advance(500);
    assert.deepEqual(log, ['a.J', 'b.J', 'c.J']);
    assert.equal(clock.pending(), 0);
  });
});


describe('FixedTimerQueue on a clock that moves while it fires', () => {
  it('a timer its owner re-arms in the same queue while it fires waits a whole length', () => {
    // Retransmission timers at T2 re-arm themselves in the T2 queue (E in Proceeding, G). With
    // the wall clock a millisecond further on than when the firing began, the new deadline once
    // looked like a clock set back, and the timer fired again at once, forever.
    const clock = new FakeClock();
    let drift = 0;
    const moving = {
      setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clock.clearTimeout(h),
      now: () => clock.now() + drift,
    };
    const queue = new FixedTimerQueue(moving, 100);
    const fired: number[] = [];
    const self: FixedTimerOwner = {
      fixedTimerFired() {
        fired.push(clock.now());
        drift++; // the wall clock moves while the owner works
        if (fired.length < 50) queue.add(self, 'E');
      },
    };
    queue.add(self, 'E');
    clock.advance(100);
    assert.deepEqual(fired, [100], 'fired once, re-armed for a length later');
    clock.advance(101);
    assert.equal(fired.length, 2);
    assert.ok(fired[1]! >= 200, `the second firing at ${fired[1]}`);
  });
});
