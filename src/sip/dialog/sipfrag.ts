/**
 * message/sipfrag bodies of REFER NOTIFYs (RFC 3420, RFC 3515 §2.4.5): we need the status line.
 * Lines may end with LF only — baresip 1.0 sends `SIP/2.0 100 Trying\n`; RFC 3261 §7.5
 * tolerance — and headers may follow.
 */
export interface SipfragStatus {
  status: number;
  reason: string;
}

export function parseSipfragStatus(body: Buffer | string): SipfragStatus | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8', 0, Math.min(body.length, 512));
  let start = 0;
  while (start < text.length && (text[start] === '\r' || text[start] === '\n' || text[start] === ' ')) start++;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  const line = text.slice(start, end).replace(/\r$/, '').trim();
  const m = /^SIP\/2\.0\s+([1-6]\d\d)(?:\s+(.*))?$/i.exec(line);
  if (!m) return undefined;
  return { status: Number(m[1]), reason: m[2] ?? '' };
}

export function sipfrag(status: number, reason: string): Buffer {
  return Buffer.from(`SIP/2.0 ${status} ${reason}\r\n`);
}
