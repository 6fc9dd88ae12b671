/** The shape of one benchmark run, as printed, written to bench/results/<timestamp>.json and summarised in docs/benchmarks.md. */
import type { EchoResult } from './udp-echo-bench.js';
import type { MachineInfo } from './machine.js';
import type { ParserResult } from './parser-bench.js';
import type { SipKindResult } from './sip-load.js';
import type { HoldResult } from './c2c/hold.js';
import type { C2cSection } from './c2c/section.js';
import type { SoakResult } from './c2c/soak.js';

export const TARGETS = {
  /** Issue 2: parse + serialize of the typical INVITE on one core. */
  parseSerializePerSec: 250_000,
  /** Issue 2: the stack's SIP messages/s as a share of the raw UDP echo's datagrams/s. */
  stackShareOfEcho: 0.3,
};

export interface SipSection {
  window: number;
  invite: SipKindResult;
  options: SipKindResult;
  /** The responder's own counters at the end (from its process). */
  responder: Record<string, unknown>;
  uacRetransmissions: number;
  uacInternalErrors: number;
}

export interface BenchResult {
  timestamp: string;
  profile: 'full' | 'quick';
  sections: string[];
  machine: MachineInfo;
  targets: typeof TARGETS;
  parser?: ParserResult;
  udp?: EchoResult;
  sip?: SipSection;
  /** Click-to-call sessions through the real server and SIPp phones (issue 6). */
  c2c?: C2cSection;
  hold?: HoldResult[];
  soak?: SoakResult;
  /** The command line of the run (recorded with the click-to-call rows). */
  command?: string;
  ratios: {
    /** parse+serialize median / target. */
    parseSerializeVsTarget?: number;
    /** Call SIP messages/s ÷ echo datagrams/s (both count every datagram on the wire, both directions). */
    callMessagesVsEcho?: number;
    optionsMessagesVsEcho?: number;
  };
  /** Anything that did not complete: failed or unfinished calls, zero rates, errors. Empty when all went well. */
  problems: string[];
  durationMs: number;
}

export function parserCase(result: BenchResult, name: string): number | undefined {
  return result.parser?.cases.find((c) => c.name === name)?.median;
}
