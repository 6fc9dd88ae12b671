/**
 * The load bench shows the server's garbage-collection pauses beside each run's latency (issue 6):
 * what it reads from /metrics, what one run added, and the line it prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gcBetween, histogramBetween, parseMetrics, quantileBound, shareOver } from '../../bench/c2c/server-metrics.js';
import { gcText, settleGcText } from '../../bench/c2c/c2c-report.js';

/** The GC histogram as the server exposes it (prom-client, GC_PAUSE_BUCKETS), for one kind. */
function gcSeries(kind: string, upTo: Record<string, number>, count: number, sumSeconds: number): string {
  const buckets = Object.entries(upTo).map(([le, n]) => `clicktocall_nodejs_gc_duration_seconds_bucket{le="${le}",kind="${kind}"} ${n}`);
  return [...buckets, `clicktocall_nodejs_gc_duration_seconds_bucket{le="+Inf",kind="${kind}"} ${count}`,
    `clicktocall_nodejs_gc_duration_seconds_sum{kind="${kind}"} ${sumSeconds}`,
    `clicktocall_nodejs_gc_duration_seconds_count{kind="${kind}"} ${count}`].join('\n');
}

test('the bench reads the server\'s GC pauses by kind and what a run added: count, total, over 2 and 10 ms', () => {
  const before = parseMetrics([
    '# HELP clicktocall_nodejs_gc_duration_seconds Garbage collection duration by kind',
    gcSeries('minor', { '0.001': 10, '0.002': 40, '0.005': 48, '0.01': 50 }, 50, 0.09),
  ].join('\n'));
  assert.deepEqual(before.gc['minor'], { count: 50, totalMs: 90, over2ms: 10, over10ms: 0 });
  const after = parseMetrics([
    gcSeries('minor', { '0.001': 20, '0.002': 110, '0.005': 146, '0.01': 150 }, 150, 0.29),
    gcSeries('major', { '0.001': 0, '0.002': 0, '0.005': 1, '0.01': 1 }, 3, 0.05),
  ].join('\n'));
  const run = gcBetween(before, after);
  assert.equal(run['minor']!.count, 100);
  assert.ok(Math.abs(run['minor']!.totalMs - 200) < 1e-6);
  assert.equal(run['minor']!.over2ms, 30);
  assert.equal(run['minor']!.over10ms, 0);
  assert.deepEqual(run['major'], { count: 3, totalMs: 50, over2ms: 3, over10ms: 2 });
  assert.equal(gcText(run, 10_000), 'minor 100 × 2.0 ms (30 over 2 ms), major 3 × 16.7 ms (3 over 2 ms, 2 over 10 ms); 2.5 % of the run');
  assert.equal(gcText({}, 10_000), 'none reported');
});

test('the bench reads the server\'s internal errors by where they were caught, to say so beside the count', () => {
  const m = parseMetrics([
    'clicktocall_internal_errors_total{where="store.checkpoint"} 1',
    'clicktocall_internal_errors_total{where="sip transport"} 0',
    'clicktocall_internal_errors_total{where="xml"} 2',
  ].join('\n'));
  assert.equal(m.internalErrors, 3);
  assert.deepEqual(m.internalErrorsWhere, { 'store.checkpoint': 1, xml: 2 });
});

test('the bench reads the event-loop delay without the 10-ms sampling interval an idle loop already shows', () => {
  const m = parseMetrics([
    'clicktocall_nodejs_eventloop_lag_p99_seconds 0.0152',
    'clicktocall_nodejs_eventloop_lag_max_seconds 0.0091',
  ].join('\n'));
  assert.ok(Math.abs(m.loopDelayP99Ms! - 5.2) < 1e-9);
  assert.equal(m.loopDelayMaxMs, 0, 'a reading under the interval is no delay');
});

test('the hold test says whether its settled memory came after an old-generation collection', () => {
  assert.equal(settleGcText(undefined), '');
  assert.equal(settleGcText(2), '; 2 old-generation collections while settling');
  assert.equal(settleGcText(1), '; 1 old-generation collection while settling');
  assert.match(settleGcText(0), /no old-generation collection while settling: the figures still hold the set-up's garbage/);
});

test('the bench reads the server\'s own request→INVITE histogram, every trigger together, and what a run added', () => {
  const series = (trigger: string, upTo: Record<string, number>, count: number, sum: number) => [
    ...Object.entries(upTo).map(([le, n]) => `clicktocall_setup_invite_seconds_bucket{le="${le}",trigger="${trigger}"} ${n}`),
    `clicktocall_setup_invite_seconds_bucket{le="+Inf",trigger="${trigger}"} ${count}`,
    `clicktocall_setup_invite_seconds_sum{trigger="${trigger}"} ${sum}`,
    `clicktocall_setup_invite_seconds_count{trigger="${trigger}"} ${count}`,
  ].join('\n');
  const before = parseMetrics(series('xml', { '0.00025': 90, '0.002': 99, '0.005': 100 }, 100, 0.02));
  const after = parseMetrics([
    series('xml', { '0.00025': 1080, '0.002': 1097, '0.005': 1099 }, 1100, 0.3),
    series('rest', { '0.00025': 0, '0.002': 0, '0.005': 0 }, 0, 0),
  ].join('\n'));
  assert.equal(after.setupInvite?.count, 1100);
  const run = histogramBetween(before.setupInvite, after.setupInvite)!;
  assert.equal(run.count, 1000);
  assert.ok(Math.abs(run.sumSeconds - 0.28) < 1e-9);
  assert.deepEqual(run.buckets.map((b) => [b.le, b.n]), [[0.00025, 990], [0.002, 998], [0.005, 999], [Infinity, 1000]]);
  assert.equal(shareOver(run, 0.002), 0.002, 'two of the thousand over 2 ms');
  assert.equal(quantileBound(run, 0.99), 0.00025);
  assert.equal(quantileBound(run, 0.999), 0.005);
  assert.equal(quantileBound(run, 1), Infinity);
  assert.equal(parseMetrics('clicktocall_calls_active 0').setupInvite, undefined, 'a server without the histogram');
  assert.equal(histogramBetween(undefined, undefined), undefined);
});
