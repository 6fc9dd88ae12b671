/**
 * The issue 6 scenarios: which phones answer, in which mode the server is asked to work, and
 * which final event each session must end with. Session n's initiator user is `i<n>` and its
 * destination user `d<n>`, so that the driver and every phone's log can be joined.
 */
import type { CallMode, SessionPlan } from './driver.js';
import type { PhoneRole } from './sipp-farm.js';

export const SCENARIOS = ['refer', 'anchored', 'fallback', 'mix'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface DestinationKind {
  role: PhoneRole;
  /** The final event this destination must produce: 200 (Connected to destination), 486, 408 (RingTimeout). */
  expectCode: number;
}

export interface ScenarioSpec {
  name: ScenarioName;
  initiatorRole: PhoneRole;
  mode: CallMode;
  /** The destination of session n. */
  destinationOf(n: number): DestinationKind;
  destinationRoles: PhoneRole[];
  describe: string;
}

const ANSWER: DestinationKind = { role: 'destination-answer', expectCode: 200 };
const BUSY: DestinationKind = { role: 'destination-busy', expectCode: 486 };
const NO_ANSWER: DestinationKind = { role: 'destination-noanswer', expectCode: 408 };

export function scenario(name: ScenarioName): ScenarioSpec {
  switch (name) {
    case 'refer':
      return { name, initiatorRole: 'initiator-refer', mode: 'refer', destinationOf: () => ANSWER, destinationRoles: ['destination-answer'],
        describe: 'REFER mode: the initiator phone executes the REFER (NOTIFY 100, INVITE, NOTIFY 200), the server leaves' };
    case 'anchored':
      return { name, initiatorRole: 'initiator-anchored', mode: 'anchored', destinationOf: () => ANSWER, destinationRoles: ['destination-answer'],
        describe: 'anchored (RFC 3725 flow I): offerless INVITE to the destination, its offer to the initiator in a re-INVITE' };
    case 'fallback':
      return { name, initiatorRole: 'initiator-refuse', mode: 'refer', destinationOf: () => ANSWER, destinationRoles: ['destination-answer'],
        describe: 'REFER refused (501) by the initiator phone: the server falls back to anchoring' };
    case 'mix':
      // 5 % busy, 5 % no answer (RingTimeout → CANCEL → 487, reported 408), 90 % answer; anchored.
      return { name, initiatorRole: 'initiator-anchored', mode: 'anchored',
        destinationOf: (n) => (n % 20 === 0 ? BUSY : n % 20 === 1 ? NO_ANSWER : ANSWER),
        destinationRoles: ['destination-answer', 'destination-busy', 'destination-noanswer'],
        describe: 'anchored with 5 % busy (486) and 5 % no-answer (CANCEL at RingTimeout, 408) destinations' };
  }
}

/** Builds session n's request from the phones' ports (several initiator phones share the load by n). */
export function planner(spec: ScenarioSpec, initiatorPorts: number[], destinationPort: (role: PhoneRole) => number, transport: 'udp' | 'tcp'): (n: number) => SessionPlan {
  const param = transport === 'tcp' ? ';transport=tcp' : '';
  return (n) => ({
    initiator: `sip:i${n}@127.0.0.1:${initiatorPorts[n % initiatorPorts.length]}${param}`,
    destination: `sip:d${n}@127.0.0.1:${destinationPort(spec.destinationOf(n).role)}${param}`,
    mode: spec.mode,
  });
}
