/**
 * The load bench's clock (issue 6): request→INVITE subtracts the driver's send time from the time
 * SIPp logged the INVITE on the wall clock, so the driver's clock must sit on the wall clock, and a
 * run during which the wall clock stepped (a virtual machine restored) must say so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWallClock, type ClockSources } from '../../bench/c2c/clock.js';
import { medianByInviteP99 } from '../../bench/c2c/search.js';
import type { StepResult } from '../../bench/c2c/step.js';

/** A monotonic clock that advances 0.01 ms per read, and a whole-ms wall clock `skew` ms ahead of it. */
function fakeSources(start: number): ClockSources & { skew: number } {
  let mono = start;
  const src = {
    skew: 0.37,
    mono: () => (mono += 0.01),
    wall: () => Math.floor(mono + src.skew),
  };
  return src;
}

test('epochMs sits on the wall clock to within a few µs, not to the whole ms Date.now() gives', () => {
  const src = fakeSources(1_800_000_000_123.5);
  const clock = createWallClock(src);
  const wallNow = src.mono() + src.skew;
  assert.ok(Math.abs(clock.epochMs() - wallNow) < 0.05, `${clock.epochMs() - wallNow} ms off`);
  assert.ok(Math.abs(clock.stepMs()) < 0.05, 'no step while the clocks keep together');
});

test('a step of the wall clock shows in stepMs until the next sync', () => {
  const src = fakeSources(1_800_000_000_000);
  const clock = createWallClock(src);
  src.skew += 2563.7; // the VM was paused and restored
  assert.ok(Math.abs(clock.stepMs() - 2563.7) < 0.05, `step read as ${clock.stepMs()}`);
  const before = clock.epochMs();
  clock.sync();
  assert.ok(clock.epochMs() - before > 2563, 'after sync, epochMs is on the new wall time');
  assert.ok(Math.abs(clock.stepMs()) < 0.05);
});

test('a wall clock that does not tick: the spin gives up, and the frozen clock reads as falling behind', () => {
  let mono = 5_000, reads = 0;
  const clock = createWallClock({ mono: () => (reads++, (mono += 0.25)), wall: () => 5_000 });
  reads = 0;
  const step = clock.stepMs();
  assert.ok(reads < 2000, `${reads} reads: the spin is bounded (5 ms of the monotonic clock per tick waited for)`);
  assert.ok(Number.isFinite(step) && step < -10, `step ${step}: the frozen clock fell behind while the spins waited`);
});

const run = (p99: number, clockStepMs?: number) =>
  ({ failed: 0, requestToInvite: { p99 }, ...(clockStepMs !== undefined ? { clockStepMs } : {}) }) as unknown as StepResult;

test('the half-rate median leaves out runs whose wall clock stepped, unless every run did', () => {
  const a = run(3.3), b = run(3.5), stepped = run(2600, 2563), steppedLow = run(0.1, -40);
  assert.equal(medianByInviteP99([a, b, stepped]), a, 'of the two steady runs, the lower');
  assert.equal(medianByInviteP99([steppedLow, b, a]), a, 'a stepped run is not reported for its low p99');
  assert.equal(medianByInviteP99([stepped]), stepped, 'all stepped: the run is still reported (and marked void)');
});

test('a reading preempted between its clock reads is outweighed by a clean one', () => {
  // The monotonic clock jumps 3 ms at one read (the spin preempted) during the first measurement.
  let mono = 1_000_000, reads = 0;
  const skew = 0.5;
  const clock = createWallClock({
    mono: () => { reads++; mono += reads === 40 ? 3 : 0.005; return mono; },
    wall: () => Math.floor(mono + skew),
  });
  const wallNow = mono + skew;
  assert.ok(Math.abs(clock.epochMs() - wallNow) < 0.05, `${(clock.epochMs() - wallNow).toFixed(3)} ms off`);
});
