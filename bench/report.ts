/**
 * Output of a run: the table on stdout, the JSON file under bench/results/ and one row in
 * docs/benchmarks.md (created with its explanatory header on first use).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { C2C_HEADER, c2cRows, HOLD_HEADER, holdRows, renderC2c, sectionText, SOAK_HEADER, soakRow } from './c2c/c2c-report.js';
import { insertTableRows } from './c2c/docs-table.js';
import { formatPercent, formatRate } from './stats.js';
import { parserCase, type BenchResult } from './result.js';

export function renderTable(r: BenchResult): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`clicktocall benchmark · profile ${r.profile} · commit ${m.commit}${m.dirty ? ' (modified tree)' : ''}`);
  lines.push(`machine: ${m.cpuModel} · ${m.cores} cores · Node ${m.node} · ${m.platform} · load ${m.loadAverageAtStart} at start`);
  lines.push('');
  const row = (label: string, median: string, unit: string, rounds: string, note = '') =>
    `  ${label.padEnd(28)} ${median.padStart(8)}  ${unit.padEnd(13)} ${rounds}${note ? `  ${note}` : ''}`;
  const rounds = (xs: number[]) => `[${xs.map(formatRate).join(' ')}]`;

  if (r.parser) {
    lines.push(`Parser — typical INVITE (${r.parser.messageBytes} bytes), one core, median of ${r.parser.cases[0]?.rounds.length ?? 0} rounds`);
    for (const c of r.parser.cases) lines.push(row(c.name, formatRate(c.median), 'msg/s', rounds(c.rounds)));
    lines.push('');
  }
  if (r.udp) {
    const u = r.udp;
    lines.push(`UDP echo — raw Node dgram, window ${u.window} × ${u.datagramBytes} B, echo in a child process`);
    lines.push(row('echo round trips', formatRate(u.medianRoundTripsPerSec), 'rt/s', rounds(u.rounds.map((x) => x.roundTripsPerSec))));
    lines.push(row('echo datagrams', formatRate(u.medianDatagramsPerSec), 'datagrams/s', rounds(u.rounds.map((x) => x.datagramsPerSec)), `lost ${u.lost}`));
    lines.push('');
  }
  if (r.sip) {
    const s = r.sip;
    lines.push(`SIP over UDP loopback — UAC here, UAS in a child process, window ${s.window}`);
    for (const k of [s.invite, s.options]) {
      const name = k.kind === 'invite' ? 'INVITE calls' : 'OPTIONS transactions';
      const unit = k.kind === 'invite' ? 'calls/s' : 'tx/s';
      const completed = k.rounds.reduce((n, x) => n + x.completed, 0);
      const retrans = k.rounds.reduce((n, x) => n + x.retransmissions, 0);
      const wire = k.rounds.reduce((n, x) => n + x.wireMessages, 0);
      const perOp = completed > 0 ? (wire / completed).toFixed(2) : '—';
      lines.push(row(name, formatRate(k.medianPerSec), unit, rounds(k.rounds.map((x) => x.perSec)),
        `completed ${completed} failed ${k.failed} incomplete ${k.incomplete} retransmissions ${retrans} wire msgs/op ${perOp}`));
      lines.push(row(`  SIP messages (${k.messagesPerOperation} per op)`, formatRate(k.medianMessagesPerSec), 'msg/s', rounds(k.rounds.map((x) => x.messagesPerSec))));
    }
    lines.push('');
  }
  lines.push(...renderC2c(r.c2c, r.hold, r.soak));
  if (hasStackSections(r)) {
    lines.push('Ratios');
    const ps = parserCase(r, 'parse+serialize');
    lines.push(row('parse+serialize vs 250k/s', formatPercent(r.ratios.parseSerializeVsTarget), 'of target', '', verdict(ps, r.targets.parseSerializePerSec)));
    lines.push(row('call msgs vs echo dgrams', formatPercent(r.ratios.callMessagesVsEcho), 'of echo', '', share(r.ratios.callMessagesVsEcho, r.targets.stackShareOfEcho)));
    lines.push(row('OPTIONS msgs vs echo dgrams', formatPercent(r.ratios.optionsMessagesVsEcho), 'of echo', '', share(r.ratios.optionsMessagesVsEcho, r.targets.stackShareOfEcho)));
    lines.push('');
  }
  lines.push(r.problems.length === 0 ? `result: all completed (${(r.durationMs / 1000).toFixed(1)} s)` : `result: PROBLEMS — ${r.problems.join('; ')}`);
  return lines.join('\n');
}

function verdict(value: number | undefined, target: number): string {
  if (value === undefined) return '';
  return value >= target ? `target met (≥ ${formatRate(target)}/s)` : `below target (${formatRate(target)}/s)`;
}

function share(ratio: number | undefined, target: number): string {
  if (ratio === undefined) return '';
  return ratio >= target ? `target met (≥ ${target * 100} %)` : `below target (${target * 100} %)`;
}

/** Writes bench/results/<timestamp>.json; returns its path. */
export function writeJson(projectRoot: string, r: BenchResult): string {
  const dir = join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.timestamp.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

const DOCS_HEADER = `# Benchmarks

Throughput of the SIP message layer and of the SIP stack, measured by \`npm run bench\`
(\`node --import tsx bench/run.ts\`). Each run appends one row below and writes its full detail
(every round, machine, counters) to \`bench/results/<timestamp>.json\` (not committed).

    npm run bench                    # full profile: about two minutes, appends a row here
    npm run bench -- --only parser   # one section: parser | udp | sip
    npm run bench -- --quick         # CI profile: ~10 s, tiny counts, checks only that everything completed
    npm run bench -- --no-record     # print the table, write neither the JSON nor a row here

The machine the figures come from is a shared, noisy VM: every figure is the **median** of several
rounds (5 in the full profile) and the ratios matter more than the absolute numbers. Compare rows
from the same machine only.

How it is measured:

- The parser figures run on one core, on \`typicalInvite()\` from \`bench/messages.ts\` (an INVITE
  with SDP, about 800–900 bytes), in the benchmark's own process.
- The UDP echo and the SIP stack each use two processes, as deployed: the load generator in the
  benchmark process, the echo / the responder (the UAS) in a child process with its own event
  loop, over UDP on 127.0.0.1. The child is killed at the end of the run, even on error.
- SIP load is windowed (a fixed number of calls or transactions in flight: each completion starts
  the next), bounded by count and time. The stack runs its default RFC 3261 timers (T1 = 500 ms;
  wait states keep their real lengths). So finished transactions pile up in their wait states
  (Timers J and L: 64×T1 = 32 s on UDP) — a run ends with some 200 000 of them alive in the
  responder, as a loaded server would hold — and later rounds run against that state; this is
  part of the round-to-round spread. Retransmissions and wire messages per operation are printed
  next to each rate (7.00 and 2.00 when nothing was retransmitted).

Columns:

| Column | Meaning |
|---|---|
| Date | UTC time of the run |
| Commit | \`git rev-parse --short HEAD\`; \`+\` when the working tree had uncommitted changes |
| Profile | \`full\` (measuring) or \`quick\` (CI smoke profile: its figures mean little) |
| CPU / Cores / Node | model name from /proc/cpuinfo, cores available to Node, Node version |
| Parse | \`parseMessage\` of the typical INVITE, messages/s |
| Parse+ser | parse then \`serialize()\` of the unmodified message, messages/s — target ≥ 250k/s |
| Parse+mod+ser | parse, \`set('Max-Forwards', …)\`, \`serialize()\` (the message is rebuilt), messages/s |
| Parse+acc | parse, then the lazy accessors a transaction reads: top Via branch, CSeq, Call-ID, From tag, To tag |
| Echo dgrams | raw Node UDP echo, window 256 × 500 bytes: datagrams on the wire per second, both directions (2 per round trip) |
| Calls | complete calls/s: INVITE → 100, 180, 200 → ACK → BYE → 200, window 200 |
| Call msgs | calls/s × 7 (every SIP message of a call on the wire) |
| Calls/echo | Call msgs ÷ Echo dgrams — target ≥ 30 % |
| OPTIONS | OPTIONS → 200 transactions/s, window 200 |
| OPT msgs | OPTIONS/s × 2 |
| OPT/echo | OPT msgs ÷ Echo dgrams |
| Failed | failed + unfinished calls and transactions over all measured rounds (should be 0) |

| Date | Commit | Profile | CPU | Cores | Node | Parse | Parse+ser | Parse+mod+ser | Parse+acc | Echo dgrams | Calls | Call msgs | Calls/echo | OPTIONS | OPT msgs | OPT/echo | Failed |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
`;

/** The parser / UDP / SIP stack sections (the original table) ran. */
function hasStackSections(r: BenchResult): boolean {
  return r.sections.some((s) => s === 'parser' || s === 'udp' || s === 'sip');
}

const STACK_TABLE_HEADER = DOCS_HEADER.split('\n').find((l) => l.startsWith('| Date |'))!;

/**
 * Adds the run's rows to docs/benchmarks.md, each under its own table (created with its header
 * when missing): the stack table, and the click-to-call sessions, held calls and soak tables.
 * Returns the path.
 */
export function appendDocsRow(projectRoot: string, r: BenchResult): string {
  const file = join(projectRoot, 'docs', 'benchmarks.md');
  mkdirSync(join(projectRoot, 'docs'), { recursive: true });
  const m = r.machine;
  const command = r.command ?? 'npm run bench';
  if (hasStackSections(r)) insertTableRows(file, STACK_TABLE_HEADER, DOCS_HEADER, [docsRow(r)]);
  if (r.c2c) {
    insertTableRows(file, C2C_HEADER, sectionText(C2C_HEADER, '## Click-to-call sessions', 'See "Click-to-call load" above for the method.'),
      c2cRows(r.c2c, m, r.timestamp, r.profile, command));
  }
  if (r.hold?.length) {
    insertTableRows(file, HOLD_HEADER, sectionText(HOLD_HEADER, '## Held calls', 'See "Click-to-call load" above for the method.'),
      holdRows(r.hold, m, r.timestamp, r.profile, command));
  }
  if (r.soak) {
    insertTableRows(file, SOAK_HEADER, sectionText(SOAK_HEADER, '## Soak', 'See "Click-to-call load" above for the method.'),
      [soakRow(r.soak, m, r.timestamp, r.profile, command)]);
  }
  return file;
}

function docsRow(r: BenchResult): string {
  const m = r.machine;
  const failed = r.sip ? r.sip.invite.failed + r.sip.invite.incomplete + r.sip.options.failed + r.sip.options.incomplete : undefined;
  const cells = [
    r.timestamp.slice(0, 16).replace('T', ' '),
    `\`${m.commit}${m.dirty ? '+' : ''}\``,
    r.profile,
    m.cpuModel.replace(/\|/g, '/'),
    String(m.cores),
    m.node,
    formatRate(parserCase(r, 'parse')),
    formatRate(parserCase(r, 'parse+serialize')),
    formatRate(parserCase(r, 'parse+modify+serialize')),
    formatRate(parserCase(r, 'parse+accessors')),
    formatRate(r.udp?.medianDatagramsPerSec),
    formatRate(r.sip?.invite.medianPerSec),
    formatRate(r.sip?.invite.medianMessagesPerSec),
    formatPercent(r.ratios.callMessagesVsEcho),
    formatRate(r.sip?.options.medianPerSec),
    formatRate(r.sip?.options.medianMessagesPerSec),
    formatPercent(r.ratios.optionsMessagesVsEcho),
    failed === undefined ? '—' : String(failed),
  ];
  return `| ${cells.join(' | ')} |`;
}
