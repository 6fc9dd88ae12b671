/**
 * Message-layer throughput on one core, on the typical ~900-byte INVITE: parse alone, serialize
 * (unmodified: the raw bytes are handed back; rebuilt: a modified message written out again),
 * parse + serialize (the headline), parse + one header changed + serialize, and parse + the lazy
 * accessors a transaction reads (top Via branch, CSeq, Call-ID, From tag, To tag).
 * Each case runs in batches until its time or count budget is spent; a round gives one rate.
 */
import { parseMessage, type SipMessage } from '../src/sip/message/index.js';
import { typicalInvite } from './messages.js';
import { median, nowMs } from './stats.js';

export interface ParserBudget {
  rounds: number;
  /** Each round measures at least this long … */
  roundMs: number;
  /** … unless it reached this many operations first. */
  maxOpsPerRound: number;
}

export interface ParserCaseResult {
  name: string;
  description: string;
  /** Messages per second, one per round. */
  rounds: number[];
  median: number;
}

export interface ParserResult {
  messageBytes: number;
  cases: ParserCaseResult[];
}

interface Case {
  name: string;
  description: string;
  op: () => number;
}

const BATCH = 500;

export function runParserBench(budget: ParserBudget): ParserResult {
  const bytes = typicalInvite();
  // A message modified once and never re-parsed: serialize() must rebuild the bytes every call.
  const modified = parseMessage(bytes);
  modified.set('Max-Forwards', '69');
  const unmodified = parseMessage(bytes);
  checkRoundTrip(bytes);

  const cases: Case[] = [
    { name: 'parse', description: 'parseMessage(900-byte INVITE)', op: () => parseMessage(bytes).headers.length },
    { name: 'serialize-unmodified', description: 'serialize() of a parsed, unmodified message (raw bytes reused)', op: () => unmodified.serialize().length },
    { name: 'serialize-rebuilt', description: 'serialize() of a modified message (start line, headers, body written out)', op: () => modified.serialize().length },
    { name: 'parse+serialize', description: 'parseMessage + serialize() unmodified', op: () => parseMessage(bytes).serialize().length },
    {
      name: 'parse+modify+serialize',
      description: 'parseMessage + set(Max-Forwards) + serialize()',
      op: () => parseMessage(bytes).set('Max-Forwards', '69').serialize().length,
    },
    { name: 'parse+accessors', description: 'parseMessage + topVia.branch, cseq, callId, from.tag, to.tag', op: () => accessors(parseMessage(bytes)) },
  ];

  // Warm-up: let the JIT settle on every path before the first measured round.
  for (const c of cases) measure(c.op, Math.min(200, budget.roundMs), budget.maxOpsPerRound);

  const results: ParserCaseResult[] = cases.map((c) => ({ name: c.name, description: c.description, rounds: [], median: 0 }));
  // Rounds interleave the cases, so that a slow phase of a noisy machine hits them all alike.
  for (let r = 0; r < budget.rounds; r++) {
    cases.forEach((c, i) => results[i]!.rounds.push(measure(c.op, budget.roundMs, budget.maxOpsPerRound)));
  }
  for (const res of results) res.median = median(res.rounds);
  return { messageBytes: bytes.length, cases: results };
}

function accessors(m: SipMessage): number {
  const branch = m.topVia.branch ?? '';
  const cseq = m.cseq;
  const callId = m.callId;
  const fromTag = m.from.tag ?? '';
  const toTag = m.to.tag ?? '';
  return branch.length + cseq.seq + callId.length + fromTag.length + toTag.length;
}

/** Operations per second: whole batches until `minMs` elapsed or `maxOps` were done. */
function measure(op: () => number, minMs: number, maxOps: number): number {
  let sink = 0;
  let ops = 0;
  const start = nowMs();
  let elapsed = 0;
  do {
    for (let i = 0; i < BATCH; i++) sink += op();
    ops += BATCH;
    elapsed = nowMs() - start;
  } while (elapsed < minMs && ops < maxOps);
  // The sink is used so that no call can be optimised away.
  if (sink === -1) console.log('unreachable');
  return (ops * 1000) / elapsed;
}

/** The benchmark is only meaningful if the message parses and round-trips to the same bytes. */
function checkRoundTrip(bytes: Buffer): void {
  const m = parseMessage(bytes);
  if (!m.serialize().equals(bytes)) throw new Error('typical INVITE does not round-trip byte for byte');
  const again = parseMessage(m.set('Max-Forwards', '69').serialize());
  if (again.get('max-forwards') !== '69' || again.body.length !== m.body.length) throw new Error('modified INVITE does not re-parse');
  if (!m.topVia.branch || !m.from.tag || m.cseq.seq !== 1) throw new Error('accessors of the typical INVITE are wrong');
}
