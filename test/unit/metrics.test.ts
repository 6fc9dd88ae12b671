import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { Metrics } from '../../src/metrics/metrics.js';
import { recordGcEntries } from '../../src/metrics/gc-pauses.js';

const sources = { activeCalls: () => 0, sip: () => ({ transactions: 0, dialogs: 0 }) };

test('SIP messages are counted by direction, transport, kind and method or status, with label values from the wire bounded', async () => {
  const m = new Metrics(sources, { defaultMetrics: false });
  const msg = (first: string) => Buffer.from(`${first}\r\nContent-Length: 0\r\n\r\n`);
  m.sipMessage('in', msg('INVITE sip:a@127.0.0.1 SIP/2.0'), 'udp');
  m.sipMessage('in', msg('INVITE sip:a@127.0.0.1 SIP/2.0'), 'udp');
  m.sipMessage('out', msg('SIP/2.0 180 Ringing'), 'udp');
  m.sipMessage('out', msg('SIP/2.0 200 OK'), 'tcp');
  for (let i = 0; i < 500; i++) {
    m.sipMessage('in', msg(`XMETHOD${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))} sip:a@127.0.0.1 SIP/2.0`), 'udp');
    m.sipMessage('in', msg(`SIP/2.0 ${i % 10}x${i % 7} Odd`), 'udp');
  }
  m.sipMessage('in', msg('\u0000garbage'), 'udp');
  m.sipMessage('in', Buffer.from('SIP/2.0 20'), 'udp'); // a status line cut short
  m.sipMessage('in', msg('invite sip:a@127.0.0.1 SIP/2.0'), 'udp'); // not a method: capitals only
  const text = await m.registry.metrics();
  const series = text.split('\n').filter((l) => l.startsWith('clicktocall_sip_messages_total{'));
  assert.ok(series.includes('clicktocall_sip_messages_total{direction="in",transport="udp",kind="request",name="INVITE"} 2'), text);
  assert.ok(series.includes('clicktocall_sip_messages_total{direction="out",transport="udp",kind="response",name="180"} 1'));
  assert.ok(series.includes('clicktocall_sip_messages_total{direction="out",transport="tcp",kind="response",name="200"} 1'));
  assert.ok(series.includes('clicktocall_sip_messages_total{direction="in",transport="udp",kind="request",name="other"} 500'));
  assert.ok(series.includes('clicktocall_sip_messages_total{direction="in",transport="udp",kind="response",name="other"} 501'));
  assert.ok(series.includes('clicktocall_sip_messages_total{direction="in",transport="udp",kind="other",name=""} 2'));
  assert.equal(series.length, 6, '1,000 made-up methods and statuses make no new series');
  // A second scrape reports the same totals (collect() replaces, it does not add).
  const again = (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('clicktocall_sip_messages_total{'));
  assert.deepEqual(again, series);
});

test('clicktocall_timers_armed reads the server\'s armed timers at scrape time, and is absent without a source', async () => {
  let armed = 3;
  const m = new Metrics({ ...sources, timers: () => armed }, { defaultMetrics: false });
  assert.match(await m.registry.metrics(), /^clicktocall_timers_armed 3$/m);
  armed = 0;
  assert.match(await m.registry.metrics(), /^clicktocall_timers_armed 0$/m);
  const without = new Metrics(sources, { defaultMetrics: false });
  assert.doesNotMatch(await without.registry.metrics(), /clicktocall_timers_armed/);
});

test('clicktocall_log_lines_dropped_total reads the log\'s dropped lines at scrape time, by destination', async () => {
  const dropped = { file: 0, console: 0 };
  const m = new Metrics({ ...sources, logDropped: () => dropped }, { defaultMetrics: false });
  assert.match(await m.registry.metrics(), /^clicktocall_log_lines_dropped_total\{destination="file"\} 0$/m);
  dropped.file = 7;
  dropped.console = 2;
  const text = await m.registry.metrics();
  assert.match(text, /^clicktocall_log_lines_dropped_total\{destination="file"\} 7$/m);
  assert.match(text, /^clicktocall_log_lines_dropped_total\{destination="console"\} 2$/m);
  assert.doesNotMatch(await new Metrics(sources, { defaultMetrics: false }).registry.metrics(), /log_lines_dropped/);
});

test('clicktocall_webhook_dropped_total reads the webhooks\' drops at scrape time, by reason; no series without webhooks', async () => {
  const dropped = { queueFull: 0, tooManyCallbackUrls: 0 };
  let running = true;
  const m = new Metrics({ ...sources, webhookDropped: () => (running ? dropped : undefined) }, { defaultMetrics: false });
  let text = await m.registry.metrics();
  assert.match(text, /^# TYPE clicktocall_webhook_dropped_total counter$/m);
  assert.match(text, /^clicktocall_webhook_dropped_total\{reason="queue-full"\} 0$/m, 'both reasons from the start: an alert needs no series to appear');
  assert.match(text, /^clicktocall_webhook_dropped_total\{reason="too-many-callback-urls"\} 0$/m);
  dropped.queueFull = 5;
  dropped.tooManyCallbackUrls = 1;
  text = await m.registry.metrics();
  assert.match(text, /^clicktocall_webhook_dropped_total\{reason="queue-full"\} 5$/m);
  assert.match(text, /^clicktocall_webhook_dropped_total\{reason="too-many-callback-urls"\} 1$/m);
  // A second scrape reports the same totals (collect() replaces, it does not add).
  assert.equal(await m.registry.metrics(), text);
  running = false; // webhooks not started (HTTP off)
  assert.doesNotMatch(await m.registry.metrics(), /^clicktocall_webhook_dropped_total\{/m);
  assert.doesNotMatch(await new Metrics(sources, { defaultMetrics: false }).registry.metrics(), /webhook_dropped/);
});

test('garbage-collection pauses are counted in buckets that tell a 2-ms pause from a 9-ms one, every pause of a batch', async () => {
  const m = new Metrics(sources);
  // An independent count of the minor pauses, from an observer of our own.
  let minors = 0;
  const own = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
  });
  own.observe({ entryTypes: ['gc'] });
  try {
    // Enough short-lived garbage for several scavenges in one turn: Node hands them to the
    // observers in one batch (prom-client's own collector counted such a batch as one pause).
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += new Array(200).fill(i).length;
    assert.ok(keep > 0);
    const deadline = Date.now() + 5000;
    let text = '';
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      text = await m.registry.metrics();
      if (minors > 1 && /clicktocall_nodejs_gc_duration_seconds_count\{kind="minor"\} [1-9]/.test(text)) break;
    }
    assert.ok(minors > 1, `several scavenges ran (${minors})`);
    const counted = Number(/clicktocall_nodejs_gc_duration_seconds_count\{kind="minor"\} (\d+)/.exec(text)?.[1]);
    assert.equal(counted, minors, 'every minor pause is counted, not one per batch');
    const les = [...text.matchAll(/clicktocall_nodejs_gc_duration_seconds_bucket\{le="([^"]+)",kind="minor"\}/g)].map((x) => x[1]);
    assert.deepEqual(les, ['0.0005', '0.001', '0.002', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '1', '+Inf']);
  } finally {
    own.disconnect();
    m.close();
  }
});

test('a batch of GC entries is recorded entry by entry, by kind', () => {
  const seen: Array<[string, number]> = [];
  const entry = (kind: number, duration: number) => ({ detail: { kind }, duration }) as unknown as PerformanceEntry;
  const n = recordGcEntries(
    [entry(constants.NODE_PERFORMANCE_GC_MINOR, 2), entry(constants.NODE_PERFORMANCE_GC_MINOR, 3), entry(constants.NODE_PERFORMANCE_GC_MAJOR, 9), entry(99, 1)],
    { observe: (labels: { kind?: string }, v: number) => void seen.push([labels.kind!, v]) } as never,
  );
  assert.equal(n, 4);
  assert.deepEqual(seen, [['minor', 0.002], ['minor', 0.003], ['major', 0.009], ['other', 0.001]]);
});

test('clicktocall_setup_invite_seconds: the time since the request was read, by trigger, with 2 ms as a bucket bound', async () => {
  const m = new Metrics(sources, { defaultMetrics: false });
  m.inviteSent('xml', performance.now() - 3); // read 3 ms ago
  m.inviteSent('xml', performance.now() + 1); // a clock read later than now counts as 0, not negative
  m.inviteSent('rest', performance.now());
  const text = await m.registry.metrics();
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  assert.equal(value('clicktocall_setup_invite_seconds_count{trigger="xml"}'), 2, text);
  assert.equal(value('clicktocall_setup_invite_seconds_bucket{le="0.0001",trigger="xml"}'), 1, 'the 0-ms one');
  assert.equal(value('clicktocall_setup_invite_seconds_bucket{le="0.002",trigger="xml"}'), 1, 'the 3-ms one is over 2 ms');
  assert.equal(value('clicktocall_setup_invite_seconds_bucket{le="+Inf",trigger="xml"}'), 2);
  assert.ok(value('clicktocall_setup_invite_seconds_sum{trigger="xml"}') >= 0.003);
  assert.equal(value('clicktocall_setup_invite_seconds_count{trigger="rest"}'), 1);
});
