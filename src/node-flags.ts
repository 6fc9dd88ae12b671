/**
 * The V8 flags the server runs with. `npm start`, deploy/clicktocall.service, the `clicktocall`
 * command's shebang and the bench's server all pass exactly these (test/unit/node-flags.test.ts
 * keeps them equal); docs/deploy.md says why.
 *
 * `--initial-old-space-size=256`: a busy server's live heap is small (~25 MiB at 1,800 REFER
 * sessions/s: waiting transactions are records, not objects), while each scavenge promotes a
 * few hundred KB of objects that die soon after. With V8's default limit, sized from that small
 * live heap, a mark-compact came every ~2 s (10–14 in 20 s), each a 7–11 ms pause on the event
 * loop plus its marking steps; from 256 MiB they come every 8–15 s and the half-rate
 * request→INVITE p99 halves (docs/benchmarks.md, eleventh round). The cost is memory: up to
 * ~250 MiB of garbage waits for its collection. Held calls need no more than before (their live
 * heap is above the limit anyway). Not settable in NODE_OPTIONS, hence the command lines.
 *
 * `--v8-pool-size=1`: one V8 worker thread (Node's default is four) for the collector's parallel
 * scavenging, concurrent marking and sweeping. On the two-core machine issue 6 is measured on,
 * with the event loop on one core, four workers only took turns on that core and preempted the
 * event loop. In six interleaved pairs of half-rate runs, with one worker the event loop waited
 * for the CPU less (1.1–1.4 against 1.5–2.1 s per 18 s) and scavenges were shorter (2.1–2.6
 * against 2.5–2.9 ms) in every pair, and the request→INVITE p99 median was 5.0 against 6.5 ms
 * (docs/benchmarks.md, twelfth round). A machine with more cores for the server can take more
 * (docs/deploy.md).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=256', '--v8-pool-size=1'];
