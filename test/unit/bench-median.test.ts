/**
 * The half-rate latency of the load bench (issue 6) is the run with the median request→INVITE
 * p99: one run's p99 moves by a factor of two on a noisy machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianByInviteP99 } from '../../bench/c2c/search.js';
import type { StepResult } from '../../bench/c2c/step.js';

const run = (p99: number | undefined, failed = 0) => ({ failed, requestToInvite: { p99 } }) as unknown as StepResult;

test('the median run by request→INVITE p99; a run that failed sessions counts as the worst', () => {
  const a = run(10), b = run(5.3), c = run(6.1);
  assert.equal(medianByInviteP99([a, b, c]), c);
  const failed = run(1, 3);
  assert.equal(medianByInviteP99([failed, b, c]), c, 'a failed run is never the one reported for its low p99');
  assert.equal(medianByInviteP99([b]), b);
  assert.equal(medianByInviteP99([b, a]), b, 'of two, the lower');
  assert.equal(medianByInviteP99([run(undefined), b, a]), a, 'a run without latencies counts as the worst');
});
