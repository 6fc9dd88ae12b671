// Reading a ClickToCall request out of a framed document, and writing each answer byte for
// byte as the replaced system does (decisions.md §4, compatibility.md "XML interface").
//
// Answer with an echo (the request has a literal `</Request>`):
//   <request text from the root start tag through `</Request>` and the whitespace after it>
//   CRLF "  <Response>" CRLF
//   [100 only: "    <TranslatedInitiator>…</TranslatedInitiator>" CRLF
//              "    <TranslatedDestination>…</TranslatedDestination>" CRLF]
//   "    <Result Code="N" Leg="L">text</Result>" CRLF        (no Leg attribute when none)
//   "  </Response>" CRLF
//   <the rest of the request through the root end tag>
// Without `</Request>`: "<Response>" CRLF <the same inner lines> "</Response>". No separator
// between answers. A prolog or comments before the root are not echoed.
//
// `<Secret>` (decisions §2 `XmlSecret`): never echoed. Every `<Secret>` element (any case, any
// depth) is cut from the echo together with the whitespace right before it, so a secret on a
// line of its own leaves no blank line; the whitespace after `</Request>` is part of the
// echo's frame and is never cut. A refused secret is answered like any other result: the
// echo (still without the secret) and 403 `Refused: bad secret`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretSpan, XmlDocument } from './document-parser.js';
import { isXmlSpace } from './document-parser.js';

export type XmlLeg = 'Initiator' | 'Destination';

/** One answer line: a call event as the XML interface shows it (decisions §3). */
export interface XmlResult {
  readonly code: number;
  readonly leg?: XmlLeg;
  readonly text: string;
  /** Shown on a 100 only. */
  readonly translatedInitiator?: string;
  readonly translatedDestination?: string;
}

/** The parts of a request around which every answer to it is written. */
export interface XmlEcho {
  /** From the root start tag through `</Request>` and the whitespace after it. */
  readonly head: string;
  /** The rest of the request through the root end tag. */
  readonly tail: string;
}

/** What a well-formed ClickToCall request asks for (values trimmed). */
export interface ClickToCallFields {
  readonly initiator: string;
  readonly destination: string;
  /** `<AnchorCall>`: true only for `true` (any case); absent or empty → undefined. */
  readonly anchor?: boolean;
  /** `<Mode>`, absent or empty → undefined; the engine validates the value. */
  readonly mode?: string;
}

export type Extraction =
  | { readonly ok: true; readonly fields: ClickToCallFields }
  | { readonly ok: false; readonly result: XmlResult };

export const XML_TEXT = {
  unknownMethod: 'Unknown method',
  parseError: 'Parse error',
  tooLarge: 'Document too large',
  internalError: 'Internal error',
  missingAddresses: 'Missing initiator and/or destination tags',
  badSecret: 'Refused: bad secret',
  tooManyRequests: 'Refused: too many requests on this connection',
} as const;

const CRLF = '\r\n';

/** The final answer to a request: ≥ 200 on the destination leg, or any code ≥ 300. */
export function isFinalResult(result: Pick<XmlResult, 'code' | 'leg'>): boolean {
  return result.code >= 300 || (result.code >= 200 && result.leg === 'Destination');
}

/** Escapes character data inserted into an answer. */
export function escapeXmlText(text: string): string {
  let out = '';
  let last = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    const entity = c === 0x26 ? '&amp;' : c === 0x3c ? '&lt;' : c === 0x3e ? '&gt;' : null;
    if (entity === null) continue;
    out += text.slice(last, k) + entity;
    last = k + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Renders one answer; `echo` null gives the bare `<Response>` form. */
export function renderResponse(echo: XmlEcho | null, result: XmlResult): string {
  let inner = '';
  if (result.code === 100) {
    if (result.translatedInitiator !== undefined) {
      inner += `    <TranslatedInitiator>${escapeXmlText(result.translatedInitiator)}</TranslatedInitiator>${CRLF}`;
    }
    if (result.translatedDestination !== undefined) {
      inner += `    <TranslatedDestination>${escapeXmlText(result.translatedDestination)}</TranslatedDestination>${CRLF}`;
    }
  }
  const leg = result.leg === undefined ? '' : ` Leg="${result.leg}"`;
  inner += `    <Result Code="${result.code}"${leg}>${escapeXmlText(result.text)}</Result>${CRLF}`;
  if (echo === null) return `<Response>${CRLF}${inner}</Response>`;
  return `${echo.head}${CRLF}  <Response>${CRLF}${inner}  </Response>${CRLF}${echo.tail}`;
}

/** The echo of a document, or null when it has no literal `</Request>` (bare answers). */
export function echoOf(doc: XmlDocument): XmlEcho | null {
  if (doc.requestEnd < 0) return null;
  const { text } = doc;
  let split = doc.requestEnd;
  while (split < text.length && isXmlSpace(text.charCodeAt(split))) split++;
  const cuts = secretCuts(doc.secretSpans, split);
  return {
    head: cutRanges(text, doc.rootStart, split, cuts),
    tail: cutRanges(text, split, text.length, cuts),
  };
}

/** Cut ranges for the secrets; the whitespace after `</Request>` stays in the echo. */
function secretCuts(spans: readonly SecretSpan[], split: number): Array<readonly [number, number]> {
  return spans.map((s) => [s.start >= split ? Math.max(s.cutStart, split) : s.cutStart, s.end] as const);
}

/** `text[from, to)` without the given ranges (sorted, not overlapping). */
function cutRanges(text: string, from: number, to: number, cuts: ReadonlyArray<readonly [number, number]>): string {
  let out = '';
  let k = from;
  for (const [start, end] of cuts) {
    const a = Math.max(start, from);
    const b = Math.min(end, to);
    if (b <= a || b <= k) continue;
    if (a > k) out += text.slice(k, a);
    k = Math.max(k, b);
  }
  return k < to ? out + text.slice(k, to) : out;
}

/** Constant-time comparison of a given secret with the configured one. */
export function secretMatches(given: string | undefined, expected: string): boolean {
  // Hashing first gives equal lengths, so neither the content nor the length leaks.
  const a = createHash('sha256').update(given ?? '', 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

/**
 * Reads the request; the answer on refusal. Order: unknown root, then the secret (before any
 * detail of the request is judged), then the addresses.
 */
export function extractRequest(doc: XmlDocument, expectedSecret?: string): Extraction {
  if (doc.rootName.toLowerCase() !== 'clicktocall') {
    return { ok: false, result: { code: 400, text: XML_TEXT.unknownMethod } };
  }
  const fields = doc.request ?? new Map<string, string>();
  if (expectedSecret !== undefined && expectedSecret !== '') {
    if (!secretMatches(fields.get('secret')?.trim(), expectedSecret)) {
      return { ok: false, result: { code: 403, text: XML_TEXT.badSecret } };
    }
  }
  const initiator = fields.get('initiator')?.trim() ?? '';
  const destination = fields.get('destination')?.trim() ?? '';
  if (initiator === '' || destination === '') {
    return { ok: false, result: { code: 400, text: XML_TEXT.missingAddresses } };
  }
  const anchorText = fields.get('anchorcall')?.trim() ?? '';
  const modeText = fields.get('mode')?.trim() ?? '';
  const request: { -readonly [K in keyof ClickToCallFields]: ClickToCallFields[K] } = { initiator, destination };
  if (anchorText !== '') request.anchor = anchorText.toLowerCase() === 'true';
  if (modeText !== '') request.mode = modeText;
  return { ok: true, fields: request };
}
