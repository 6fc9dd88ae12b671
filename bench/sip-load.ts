/**
 * The UAC load generator: a SIP endpoint in this process, the responder in a child process.
 * A call is INVITE (with SDP) → 100, 180, 200 → ACK → BYE → 200: 7 messages on the wire.
 * An OPTIONS transaction is OPTIONS → 200: 2 messages. Both run windowed (a fixed number in
 * flight), bounded by count and time, with the stack's default RFC 3261 timers.
 */
import { startSipEndpoint, type SipEndpoint } from '../src/sip/stack/index.js';
import { offerSdp } from './sip-messages.js';
import { median } from './stats.js';
import { runWindowed, type StartOne, type WindowBudget, type WindowOutcome } from './windowed.js';

/** Messages on the wire per completed operation, retransmissions not counted (RFC 3261 §17 happy path). */
export const MESSAGES_PER_CALL = 7;
export const MESSAGES_PER_OPTIONS = 2;

export interface SipBudget extends WindowBudget {
  rounds: number;
  /** Operations of an unmeasured first round (JIT warm-up). */
  warmupCount: number;
}

export interface SipRound extends WindowOutcome {
  /** Completed operations per second. */
  perSec: number;
  /** Nominal SIP messages per second: completed × messages per operation. */
  messagesPerSec: number;
  /** Datagrams the UAC sent and received during the round (includes retransmissions, if any). */
  wireMessages: number;
  retransmissions: number;
}

export interface SipKindResult {
  kind: 'invite' | 'options';
  messagesPerOperation: number;
  rounds: SipRound[];
  medianPerSec: number;
  medianMessagesPerSec: number;
  failed: number;
  incomplete: number;
}

export interface UacCounters {
  retransmissions: number;
  internalErrors: number;
}

export interface Uac {
  endpoint: SipEndpoint;
  counters: UacCounters;
}

export async function startUac(): Promise<Uac> {
  const counters: UacCounters = { retransmissions: 0, internalErrors: 0 };
  const endpoint = await startSipEndpoint({
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
    userAgent: 'clicktocall-bench-uac',
    onEvent: (e) => {
      if (e.type === 'retransmission') counters.retransmissions++;
      else if (e.type === 'internal-error') counters.internalErrors++;
    },
  });
  return { endpoint, counters };
}

/** One call: INVITE, ACK on the 2xx, then BYE; success when the BYE gets its 200. */
export function callStarter(uac: Uac, targetPort: number): StartOne {
  const stack = uac.endpoint.stack;
  const target = `sip:bench@127.0.0.1:${targetPort}`;
  const sdp = offerSdp();
  return (done) => {
    const req = stack.createRequest('INVITE', target, '<sip:load@127.0.0.1>', `<${target}>`);
    req.setBody(sdp, 'application/sdp');
    stack.invite(req, {
      onAnswer: (_res, session, seq) => {
        session.ack(seq);
        session.bye((status) => done(status === 200 ? undefined : `BYE ${status}`));
      },
      onFailure: (status) => done(`INVITE ${status}`),
    });
  };
}

/** One OPTIONS transaction (answered by the responder's stack itself, §11.2). */
export function optionsStarter(uac: Uac, targetPort: number): StartOne {
  const stack = uac.endpoint.stack;
  const target = `sip:bench@127.0.0.1:${targetPort}`;
  return (done) => {
    const req = stack.createRequest('OPTIONS', target, '<sip:load@127.0.0.1>', `<${target}>`);
    stack.request(req, (status) => done(status === 200 ? undefined : `OPTIONS ${status}`));
  };
}

export async function runSipKind(
  uac: Uac,
  kind: 'invite' | 'options',
  start: StartOne,
  budget: SipBudget,
): Promise<SipKindResult> {
  const perOp = kind === 'invite' ? MESSAGES_PER_CALL : MESSAGES_PER_OPTIONS;
  if (budget.warmupCount > 0) {
    await runWindowed(start, { ...budget, maxCount: budget.warmupCount });
  }
  const rounds: SipRound[] = [];
  for (let r = 0; r < budget.rounds; r++) {
    const before = { ...uac.endpoint.stack.counters };
    const retransBefore = uac.counters.retransmissions;
    const outcome = await runWindowed(start, budget);
    const after = uac.endpoint.stack.counters;
    const perSec = (outcome.completed * 1000) / outcome.elapsedMs;
    rounds.push({
      ...outcome,
      perSec,
      messagesPerSec: perSec * perOp,
      wireMessages: after.sent - before.sent + (after.received - before.received),
      retransmissions: uac.counters.retransmissions - retransBefore,
    });
  }
  return {
    kind,
    messagesPerOperation: perOp,
    rounds,
    medianPerSec: median(rounds.map((r) => r.perSec)),
    medianMessagesPerSec: median(rounds.map((r) => r.messagesPerSec)),
    failed: rounds.reduce((n, r) => n + r.failed, 0),
    incomplete: rounds.reduce((n, r) => n + r.incomplete, 0),
  };
}
