// STACK level: every SIP message in and out, credentials removed (decisions.md §1).
import type { Logger } from 'pino';
import { REDACTED } from './redact.js';

export interface SipTraceOptions {
  /** Bytes of a message shown; the rest is cut (default 16 KiB). */
  maxBytes?: number;
}

export type SipMessageLogFn = (
  direction: 'in' | 'out',
  data: Buffer,
  transport: string,
  remote: { address: string; port: number },
) => void;

const DEFAULT_MAX_BYTES = 16 * 1024;
const CR = 13;
const SP = 32;
const HTAB = 9;
const AUTHORIZATION = 'authorization';
const PROXY_AUTHORIZATION = 'proxy-authorization';

function isCredentialHeader(text: string, start: number, colon: number): boolean {
  // RFC 3261 §7.3.1: whitespace may precede the colon. Neither header has a compact form.
  let end = colon;
  while (end > start && (text.charCodeAt(end - 1) === SP || text.charCodeAt(end - 1) === HTAB)) end--;
  const length = end - start;
  if (length !== AUTHORIZATION.length && length !== PROXY_AUTHORIZATION.length) return false;
  const name = text.slice(start, end).toLowerCase();
  return name === AUTHORIZATION || name === PROXY_AUTHORIZATION;
}

/**
 * The message text with the values of Authorization and Proxy-Authorization headers (and their
 * folded continuation lines) replaced by `[redacted]`. Only the header section is looked at.
 * Also for anything else that keeps SIP messages (the call ladder).
 */
export function redactSipCredentials(text: string): string {
  const pieces: string[] = [];
  let copiedUpTo = 0;
  let inCredential = false;
  let lineStart = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const contentEnd = lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
    if (contentEnd === lineStart && lineStart > 0) break; // the empty line: the body follows
    const first = text.charCodeAt(lineStart);
    if (first === SP || first === HTAB) {
      // RFC 3261 §7.3.1: a folded continuation of the header above.
      if (inCredential) {
        pieces.push(text.slice(copiedUpTo, lineStart));
        copiedUpTo = newline === -1 ? text.length : newline + 1;
      }
    } else {
      inCredential = false;
      const colon = text.indexOf(':', lineStart);
      if (colon !== -1 && colon < contentEnd && isCredentialHeader(text, lineStart, colon)) {
        inCredential = true;
        pieces.push(text.slice(copiedUpTo, colon + 1), ' ', REDACTED);
        copiedUpTo = contentEnd;
      }
    }
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  if (pieces.length === 0) return text;
  pieces.push(text.slice(copiedUpTo));
  return pieces.join('');
}

function hostPort(remote: { address: string; port: number }): string {
  return remote.address.includes(':') ? `[${remote.address}]:${remote.port}` : `${remote.address}:${remote.port}`;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  const line = end === -1 ? text : text.slice(0, end);
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

/**
 * The SIP stack's message observer for STACK logging: costs one level check unless trace is on.
 * Give it a child logger that names the component, e.g. `logger.child({ component: 'sip' })`.
 */
export function sipMessageLogger(logger: Logger, opts: SipTraceOptions = {}): SipMessageLogFn {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  return (direction, data, transport, remote) => {
    if (!logger.isLevelEnabled('trace')) return;
    const cut = data.length > maxBytes;
    const text = redactSipCredentials((cut ? data.subarray(0, maxBytes) : data).toString('utf8'));
    const peer = hostPort(remote);
    logger.trace(
      {
        direction,
        transport,
        remote: peer,
        bytes: data.length,
        ...(cut ? { truncatedTo: maxBytes } : {}),
        sip: text,
      },
      `${direction === 'in' ? 'received from' : 'sent to'} ${transport}:${peer} ${firstLine(text)}`,
    );
  };
}
