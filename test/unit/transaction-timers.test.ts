// The injectable clock (src/sip/timer.ts), the fake clock the tests drive, and the timer values
// derived from T1/T2/T4 (RFC 3261 Table 4, RFC 6026 §8.5).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CountingTimers, realTimers } from '../../src/sip/timer.js';
import { resolveTimers, nextCappedInterval, DEFAULT_TIMER_SETTINGS } from '../../src/sip/transaction/settings.js';
import { FakeClock } from '../support/fake-clock.js';

describe('FakeClock', () => {
  it('fires due timers in time order, ties in arming order, and those armed while advancing', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50); // due at 150, before b
      clock.setTimeout(() => fired.push(`d@${clock.now()}`), 0); // due now
    }, 100);
    clock.setTimeout(() => fired.push(`e@${clock.now()}`), 200);
    assert.equal(clock.pending(), 3);
    clock.advance(199);
    assert.deepEqual(fired, ['a@100', 'd@100', 'c@150']);
    assert.equal(clock.now(), 199);
    clock.advance(1);
    assert.deepEqual(fired, ['a@100', 'd@100', 'c@150', 'b@200', 'e@200']);
    assert.equal(clock.pending(), 0);
  });

  it('clearTimeout removes a timer; advanceToNext jumps to it', () => {
    const clock = new FakeClock(1000);
    let n = 0;
    const h = clock.setTimeout(() => n++, 10);
    clock.setTimeout(() => (n += 10), 20);
    clock.clearTimeout(h);
    assert.equal(clock.pending(), 1);
    assert.equal(clock.nextDue(), 1020);
    assert.equal(clock.advanceToNext(), true);
    assert.equal(n, 10);
    assert.equal(clock.now(), 1020);
    assert.equal(clock.advanceToNext(), false);
    assert.throws(() => clock.advance(-1), RangeError);
  });
});

describe('CountingTimers', () => {
  it('counts armed timers: up on set, down on fire and on clear', () => {
    const clock = new FakeClock();
    const timers = new CountingTimers(clock);
    const a = timers.setTimeout(() => {}, 10);
    timers.setTimeout(() => {}, 20);
    assert.equal(timers.armed, 2);
    timers.clearTimeout(a);
    assert.equal(timers.armed, 1);
    timers.clearTimeout(a); // twice is harmless
    assert.equal(timers.armed, 1);
    clock.advance(20);
    assert.equal(timers.armed, 0);
    assert.equal(timers.totalArmed, 2);
    assert.equal(timers.now(), 20);
  });

  it('wraps the real Node timers (1 ms, no protocol timeout slept through)', async () => {
    const timers = new CountingTimers(realTimers);
    const fired = new Promise<void>((resolve) => timers.setTimeout(resolve, 1));
    const cleared = timers.setTimeout(() => assert.fail('cleared timer fired'), 5);
    assert.equal(timers.armed, 2);
    timers.clearTimeout(cleared);
    await fired;
    assert.equal(timers.armed, 0);
    assert.ok(Math.abs(realTimers.now() - Date.now()) < 1000);
  });
});

describe('timer values', () => {
  it('defaults T1 500, T2 4 s, T4 5 s; 64*T1 = 32 s; D at least 32 s', () => {
    assert.deepEqual(DEFAULT_TIMER_SETTINGS, { t1: 500, t2: 4000, t4: 5000 });
    const v = resolveTimers();
    assert.deepEqual(v, { t1: 500, t2: 4000, t4: 5000, retransmitInitial: 500, transactionTimeout: 32_000, d: 32_000 });
    assert.equal(resolveTimers({ t1: 100 }).d, 32_000, 'D is an absolute minimum of 32 s (§17.1.1.2)');
    assert.equal(resolveTimers({ t1: 1000 }).d, 64_000);
    assert.equal(resolveTimers({ t1: 10, timerD: 640 }).d, 640);
  });

  it('E and G double up to T2', () => {
    const seq = [500];
    while (seq.length < 6) seq.push(nextCappedInterval(seq.at(-1)!, 4000));
    assert.deepEqual(seq, [500, 1000, 2000, 4000, 4000, 4000]);
  });

  it('rejects nonsense settings at construction', () => {
    assert.throws(() => resolveTimers({ t1: 0 }), RangeError);
    assert.throws(() => resolveTimers({ t4: Number.NaN }), RangeError);
    assert.throws(() => resolveTimers({ t1: 5000, t2: 4000 }), RangeError);
    assert.throws(() => resolveTimers({ timerD: -1 }), RangeError);
  });
});
