/**
 * One CallRequest per click-to-call, whatever the trigger (HTTP GET, XML, REST, SIP REFER):
 * translated addresses, the mode, the options. `prepareCallRequest` is the one place where raw
 * trigger input is translated (decisions.md §5), checked and given its mode (§2).
 */
import { parseUri, SipParseError } from '../sip/message/index.js';
import { detachString } from '../sip/message/detach.js';
import type { CallMode, TranslationRules } from './translate.js';
import type { HoldOffer } from '../sdp/hold.js';

export type { CallMode };
export type TriggerName = 'http' | 'xml' | 'rest' | 'sip';

export interface CallOptions {
  ringTimeoutMs: number;
  maxDurationMs: number;
  holdOffer: HoldOffer;
  /** How long a REFER may go without a (final) NOTIFY before the call fails with 408. */
  referNotifyTimeoutMs: number;
  /** Display name / identity override for the initiator leg's From. */
  callerId?: string;
  /** What a REFER from a phone during the anchored call does (RFC 5589; TransferPolicy). */
  transferPolicy: 'handle' | 'passthrough' | 'reject';
  metadata?: Record<string, string>;
}

export interface CallRequest {
  id: string;
  /** Addresses as given by the trigger. */
  rawInitiator: string;
  rawDestination: string;
  /** After translation: SIP (or tel) URIs. */
  initiator: string;
  destination: string;
  mode: CallMode;
  options: CallOptions;
  client: { address: string; port: number; trigger: TriggerName; key?: string };
  /**
   * When the trigger had the request's bytes (`performance.now()`), for the setup-latency metric
   * (request → the initiator's INVITE on its way); cleared when the first message to the
   * initiator is not that INVITE (out-of-dialog REFER).
   */
  receivedAt?: number;
}

export interface RawCallInput {
  initiator: string;
  destination: string;
  /** `AnchorCall` / `anchor=`: true → anchored; false → "not anchored" (refer unless the rule says ood-refer). */
  anchor?: boolean;
  mode?: string;
  client: { address: string; port: number; trigger: TriggerName; key?: string };
  options?: Partial<CallOptions>;
  /** When the trigger read the request (`performance.now()`); now, when not given. */
  receivedAt?: number;
}

export interface PrepareContext {
  rules: TranslationRules;
  defaultMode: CallMode;
  defaults: CallOptions;
  newId: () => string;
}

export type Prepared = { ok: true; request: CallRequest } | { ok: false; status: number; text: string; reason: string };

const MODES = new Set<string>(['refer', 'anchored', 'ood-refer']);

export function prepareCallRequest(input: RawCallInput, ctx: PrepareContext): Prepared {
  // Held for the call's life (its request, record and events, the REST event ring) and
  // translated into the URIs held as well: copies of their own, not slices of the text they were
  // cut from — an XML request's whole document, kept per call for seconds (issue 6).
  const initiator = detachString(input.initiator.trim());
  const destination = detachString(input.destination.trim());
  if (!initiator || !destination) {
    return { ok: false, status: 400, text: 'Missing initiator and/or destination tags', reason: 'missing-address' };
  }
  if (input.mode !== undefined && !MODES.has(input.mode)) {
    return { ok: false, status: 400, text: `Unknown mode "${input.mode}": use refer, anchored or ood-refer`, reason: 'bad-mode' };
  }
  const ti = ctx.rules.translate(initiator);
  const td = ctx.rules.translate(destination);
  if (!ti || !td) {
    return {
      ok: false, status: 400, reason: 'no-translation',
      text: `No translation rule for either initiator ${initiator} or destination ${destination}`,
    };
  }
  for (const [what, raw, uri] of [['initiator', initiator, ti.uri], ['destination', destination, td.uri]] as const) {
    const problem = checkTarget(uri);
    if (problem) {
      return { ok: false, status: 400, reason: 'bad-uri', text: `Invalid ${what} URI ${uri} (translated from ${raw}): ${problem}` };
    }
  }
  // decisions.md §2: request mode, else AnchorCall true, else the initiator rule's mode, else the default;
  // an explicit "not anchored" means "not anchored", not necessarily "refer".
  let mode: CallMode;
  if (input.mode !== undefined) mode = input.mode as CallMode;
  else if (input.anchor === true) mode = 'anchored';
  else {
    mode = ti.mode ?? ctx.defaultMode;
    if (input.anchor === false && mode === 'anchored') mode = 'refer';
  }
  return {
    ok: true,
    request: {
      id: ctx.newId(),
      rawInitiator: initiator,
      rawDestination: destination,
      initiator: ti.uri,
      destination: td.uri,
      mode,
      options: { ...ctx.defaults, ...stripUndefined(input.options ?? {}) },
      client: input.client,
      receivedAt: input.receivedAt ?? performance.now(),
    },
  };
}

function checkTarget(uri: string): string | undefined {
  try {
    const u = parseUri(uri);
    if (u.scheme !== 'sip' && u.scheme !== 'sips' && u.scheme !== 'tel') return `unsupported scheme ${u.scheme}`;
    if (u.isSip && !u.host) return 'no host';
    return undefined;
  } catch (err) {
    if (err instanceof SipParseError) return err.reason;
    throw err;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The user part of a URI, for the display name `Click-To-Call: <destination user>`. */
export function userOf(uri: string): string {
  try {
    const u = parseUri(uri);
    return u.user ?? u.host;
  } catch {
    return uri;
  }
}
