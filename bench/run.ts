/**
 * `npm run bench` — the Issue 2 benchmarks: message parse/serialize rates, the raw Node UDP echo
 * rate and the SIP stack's call and OPTIONS rates over loopback UDP, with their ratios.
 *
 *   --quick       CI profile (~10 s, tiny counts; checks only that everything completed)
 *   --only X      one section: parser | udp | sip
 *   --no-record   print only: no bench/results/*.json, no row in docs/benchmarks.md
 *
 * Exit code 0 when everything completed, 1 when a call/transaction failed or a rate was zero,
 * 2 on bad arguments. Child processes are killed on every path out.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ChildRegistry, type BenchChild } from './child.js';
import { machineInfo } from './machine.js';
import { runParserBench } from './parser-bench.js';
import { FULL, QUICK, type Profile } from './profiles.js';
import { appendDocsRow, renderTable, writeJson } from './report.js';
import { parserCase, TARGETS, type BenchResult, type SipSection } from './result.js';
import { callStarter, optionsStarter, runSipKind, startUac } from './sip-load.js';
import { nowMs } from './stats.js';
import { runEchoBench } from './udp-echo-bench.js';

const SECTIONS = ['parser', 'udp', 'sip'] as const;
type Section = (typeof SECTIONS)[number];

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

function parseCli(): { profile: Profile; sections: Section[]; record: boolean } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-record': { type: 'boolean', default: false },
    },
    strict: true,
  });
  let sections: Section[] = [...SECTIONS];
  if (values.only !== undefined) {
    if (!(SECTIONS as readonly string[]).includes(values.only)) {
      throw new Error(`--only takes one of ${SECTIONS.join(', ')}, not "${values.only}"`);
    }
    sections = [values.only as Section];
  }
  return { profile: values.quick ? QUICK : FULL, sections, record: !values['no-record'] };
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli();
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const { profile, sections } = cli;
  const began = nowMs();
  const children = new ChildRegistry();
  const result: BenchResult = {
    timestamp: new Date().toISOString(),
    profile: profile.name,
    sections,
    machine: machineInfo(projectRoot),
    targets: TARGETS,
    ratios: {},
    problems: [],
    durationMs: 0,
  };
  const progress = (text: string) => console.error(`bench: ${text}`);

  try {
    if (sections.includes('parser')) {
      progress('parser …');
      result.parser = runParserBench(profile.parser);
    }
    if (sections.includes('udp')) {
      progress('udp echo …');
      const echo = await children.start('./udp-echo-server.ts');
      try {
        result.udp = await runEchoBench(portOf(echo), profile.udp);
      } finally {
        await echo.stop();
      }
    }
    if (sections.includes('sip')) {
      progress('sip calls and OPTIONS …');
      result.sip = await runSip(children, profile);
    }
  } catch (err) {
    result.problems.push(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    children.killAll();
  }

  result.durationMs = nowMs() - began;
  computeRatios(result);
  checkCompleted(result);
  console.log(renderTable(result));
  if (cli.record) {
    console.log(`\nwrote ${writeJson(projectRoot, result)}`);
    console.log(`appended a row to ${appendDocsRow(projectRoot, result)}`);
  }
  return result.problems.length === 0 ? 0 : 1;
}

async function runSip(children: ChildRegistry, profile: Profile): Promise<SipSection> {
  const responder = await children.start('./sip-responder.ts');
  const uac = await startUac();
  try {
    const port = portOf(responder);
    const invite = await runSipKind(uac, 'invite', callStarter(uac, port), profile.sip);
    const options = await runSipKind(uac, 'options', optionsStarter(uac, port), profile.sip);
    const { type: _type, ...responderStats } = await responder.ask({ type: 'stats' });
    return {
      window: profile.sip.window,
      invite,
      options,
      responder: responderStats,
      uacRetransmissions: uac.counters.retransmissions,
      uacInternalErrors: uac.counters.internalErrors,
    };
  } finally {
    await uac.endpoint.close();
    await responder.stop();
  }
}

function portOf(child: BenchChild): number {
  const port = child.ready.port;
  if (typeof port !== 'number') throw new Error('benchmark child announced no port');
  return port;
}

function computeRatios(r: BenchResult): void {
  const ps = parserCase(r, 'parse+serialize');
  if (ps !== undefined) r.ratios.parseSerializeVsTarget = ps / TARGETS.parseSerializePerSec;
  const echo = r.udp?.medianDatagramsPerSec;
  if (r.sip && echo) {
    r.ratios.callMessagesVsEcho = r.sip.invite.medianMessagesPerSec / echo;
    r.ratios.optionsMessagesVsEcho = r.sip.options.medianMessagesPerSec / echo;
  }
}

/** The only assertions of a run: every section asked for produced non-zero rates, nothing failed. */
function checkCompleted(r: BenchResult): void {
  const p = r.problems;
  if (r.sections.includes('parser')) {
    for (const c of r.parser?.cases ?? []) if (!(c.median > 0)) p.push(`parser case ${c.name} measured no rate`);
    if (!r.parser) p.push('parser section did not run');
  }
  if (r.sections.includes('udp')) {
    if (!r.udp) p.push('udp section did not run');
    else if (!(r.udp.medianDatagramsPerSec > 0)) p.push('udp echo measured no rate');
  }
  if (r.sections.includes('sip')) {
    if (!r.sip) p.push('sip section did not run');
    else {
      for (const k of [r.sip.invite, r.sip.options]) {
        if (!(k.medianPerSec > 0)) p.push(`${k.kind} measured no rate`);
        if (k.failed > 0) p.push(`${k.failed} ${k.kind} failed (${describeFailures(k.rounds.map((x) => x.failures))})`);
        if (k.incomplete > 0) p.push(`${k.incomplete} ${k.kind} never finished`);
      }
      if (r.sip.uacInternalErrors > 0) p.push(`${r.sip.uacInternalErrors} internal errors in the UAC stack`);
      const uasErrors = Number(r.sip.responder.internalErrors ?? 0);
      if (uasErrors > 0) p.push(`${uasErrors} internal errors in the responder stack`);
    }
  }
}

function describeFailures(perRound: Record<string, number>[]): string {
  const total: Record<string, number> = {};
  for (const f of perRound) for (const [k, v] of Object.entries(f)) total[k] = (total[k] ?? 0) + v;
  return Object.entries(total).map(([k, v]) => `${k} ×${v}`).join(', ');
}

process.exitCode = await main();
