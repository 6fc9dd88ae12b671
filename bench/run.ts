/**
 * `npm run bench` — the Issue 2 benchmarks: message parse/serialize rates, the raw Node UDP echo
 * rate and the SIP stack's call and OPTIONS rates over loopback UDP, with their ratios; and, when
 * asked, the Issue 6 click-to-call load (the real server, SIPp phones, a driver over XML/REST/GET).
 *
 *   --quick       CI profile (~10 s, tiny counts; checks only that everything completed)
 *   --only X      sections, comma-separated: parser | udp | sip | c2c | hold | soak
 *                 (default: parser,udp,sip)
 *   --soak        adds the soak section
 *   --no-record   print only: no bench/results/*.json, no row in docs/benchmarks.md
 *
 * Click-to-call options (c2c, hold, soak; see docs/benchmarks.md "Click-to-call load"):
 *   --scenario refer|anchored|fallback|mix[,…]   --via xml|rest|get[,…]   --transport udp|tcp
 *   --duration S (confirmation / fixed-rate run)  --window N (no search)  --rate R (fixed rate, no search)
 *   --hold-calls N[,…]   --soak-rate R   --soak-duration S
 *   --cpu-prof DIR   run the server under `node --cpu-prof` (one .cpuprofile per server process in DIR)
 *
 * Exit code 0 when everything completed, 1 when a call/transaction failed or a rate was zero,
 * 2 on bad arguments. Child processes are killed on every path out.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { ChildRegistry, type BenchChild } from './child.js';
import { PROJECT_ROOT } from './root.js';
import { machineInfo } from './machine.js';
import { runParserBench } from './parser-bench.js';
import { FULL, QUICK, type Profile } from './profiles.js';
import { appendDocsRow, renderTable, writeJson } from './report.js';
import { parserCase, TARGETS, type BenchResult, type SipSection } from './result.js';
import { callStarter, optionsStarter, runSipKind, startUac } from './sip-load.js';
import { nowMs } from './stats.js';
import { runEchoBench } from './udp-echo-bench.js';
import {
  parseScenarios, parseVias, prepareLoadProcess, runC2cSection, runHoldSection, runSoakSection, type C2cOptions,
} from './c2c/section.js';

const SECTIONS = ['parser', 'udp', 'sip', 'c2c', 'hold', 'soak'] as const;
type Section = (typeof SECTIONS)[number];
const DEFAULT_SECTIONS: Section[] = ['parser', 'udp', 'sip'];

const projectRoot = PROJECT_ROOT;

function parseCli(): { profile: Profile; sections: Section[]; record: boolean; c2c: C2cOptions } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      soak: { type: 'boolean', default: false },
      'no-record': { type: 'boolean', default: false },
      scenario: { type: 'string' },
      via: { type: 'string' },
      transport: { type: 'string' },
      duration: { type: 'string' },
      window: { type: 'string' },
      rate: { type: 'string' },
      'hold-calls': { type: 'string' },
      'soak-rate': { type: 'string' },
      'soak-duration': { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
    strict: true,
  });
  let sections: Section[] = [...DEFAULT_SECTIONS];
  if (values.only !== undefined) {
    const asked = values.only.split(',').map((s) => s.trim());
    for (const s of asked) {
      if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only takes ${SECTIONS.join(', ')} (comma-separated), not "${s}"`);
    }
    sections = asked as Section[];
  }
  if (values.soak && !sections.includes('soak')) sections.push('soak');
  const positive = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number, not "${text}"`);
    return n;
  };
  const transport = values.transport;
  if (transport !== undefined && transport !== 'udp' && transport !== 'tcp') throw new Error(`--transport takes udp or tcp, not "${transport}"`);
  const durationS = positive('duration', values.duration);
  const soakS = positive('soak-duration', values['soak-duration']);
  const c2c: C2cOptions = {
    scenarios: values.scenario !== undefined ? parseScenarios(values.scenario) : undefined,
    vias: values.via !== undefined ? parseVias(values.via) : undefined,
    transport,
    durationMs: durationS !== undefined ? durationS * 1000 : undefined,
    window: positive('window', values.window),
    rate: positive('rate', values.rate),
    holdCalls: values['hold-calls']?.split(',').map((s) => positive('hold-calls', s)!),
    soakRate: positive('soak-rate', values['soak-rate']),
    soakDurationMs: soakS !== undefined ? soakS * 1000 : undefined,
    cpuProfDir: values['cpu-prof'] !== undefined ? resolve(values['cpu-prof']) : undefined,
  };
  return { profile: values.quick ? QUICK : FULL, sections, record: !values['no-record'], c2c };
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
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
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
    if (sections.includes('c2c') || sections.includes('hold') || sections.includes('soak')) {
      // From here on this process is the load generator: pinned to the load core.
      const pinning = prepareLoadProcess();
      const cliPath = join(projectRoot, 'dist', 'cli.js');
      if (sections.includes('c2c')) result.c2c = await runC2cSection(profile.c2c, profile.udp, cli.c2c, children, cliPath, pinning, progress);
      if (sections.includes('hold')) result.hold = await runHoldSection(profile.c2c, cli.c2c, cliPath, pinning, progress);
      if (sections.includes('soak')) result.soak = await runSoakSection(profile.c2c, cli.c2c, cliPath, pinning, progress);
    }
  } catch (err) {
    result.problems.push(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    children.killAll();
  }

  result.durationMs = nowMs() - began;
  computeRatios(result);
  checkCompleted(result);
  checkC2c(result);
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

/** Click-to-call: every session succeeded, every step ran, state drained where it was awaited. */
function checkC2c(r: BenchResult): void {
  const p = r.problems;
  if (r.sections.includes('c2c')) {
    if (!r.c2c) p.push('c2c section did not run');
    for (const x of r.c2c?.results ?? []) {
      const s = x.sustained;
      const name = `c2c ${x.scenario}/${x.via}`;
      if (!s) {
        p.push(`${name}: no zero-failure step (${x.steps.map((st) => JSON.stringify(st.failures)).join('; ')})`);
        continue;
      }
      if (s.failed > 0) p.push(`${name}: ${s.failed} of ${s.started} sessions failed (${JSON.stringify(s.failures)})`);
      if (!(s.succeeded > 0)) p.push(`${name}: no session completed`);
      if (s.serverInternalErrors > 0) p.push(`${name}: ${serverErrors(s)}`);
      for (const [i, h] of (x.halfRateRuns ?? (x.halfRate ? [x.halfRate] : [])).entries()) {
        if (h.failed > 0) p.push(`${name} at half rate (run ${i + 1}): ${h.failed} sessions failed (${JSON.stringify(h.failures)})`);
      }
    }
  }
  if (r.sections.includes('hold')) {
    if (!r.hold?.length) p.push('hold section did not run');
    for (const h of r.hold ?? []) {
      for (const q of h.problems) p.push(`hold ${h.calls}: ${q}`);
      const l = h.leftover;
      if (l.callsActive !== 0 || l.transactions !== 0 || l.dialogs !== 0) {
        p.push(`hold ${h.calls}: left after ${(l.waitedMs / 1000).toFixed(0)} s: calls ${l.callsActive} transactions ${l.transactions} dialogs ${l.dialogs}`);
      }
      if (h.serverInternalErrors > 0) p.push(`hold ${h.calls}: ${serverErrors(h)}`);
    }
  }
  if (r.sections.includes('soak')) {
    const s = r.soak;
    if (!s) p.push('soak section did not run');
    else {
      if (s.step.failed > 0) p.push(`soak: ${s.step.failed} of ${s.step.started} sessions failed (${JSON.stringify(s.step.failures)})`);
      if (!(s.step.succeeded > 0)) p.push('soak: no session completed');
      if (!s.drained) {
        const l = s.step.leftover;
        p.push(`soak: left after ${(l.waitedMs / 1000).toFixed(0)} s: calls ${l.callsActive} transactions ${l.transactions} dialogs ${l.dialogs}`);
      }
      if (s.step.serverInternalErrors > 0) p.push(`soak: ${serverErrors(s.step)}`);
    }
  }
}

function describeFailures(perRound: Record<string, number>[]): string {
  const total: Record<string, number> = {};
  for (const f of perRound) for (const [k, v] of Object.entries(f)) total[k] = (total[k] ?? 0) + v;
  return Object.entries(total).map(([k, v]) => `${k} ×${v}`).join(', ');
}

/** `2 internal errors in the server {"store.checkpoint":2}`: how many, and where they were caught. */
function serverErrors(r: { serverInternalErrors: number; serverInternalErrorsWhere: Record<string, number> }): string {
  return `${r.serverInternalErrors} internal errors in the server ${JSON.stringify(r.serverInternalErrorsWhere)}`;
}

process.exitCode = await main();
