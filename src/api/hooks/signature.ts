/**
 * The one signature for the transfer hook and webhooks (decisions.md §7):
 * `Clicktocall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, made
 * afresh for each attempt; receivers reject t older than 5 minutes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Clicktocall-Signature';

export function sign(secret: string, body: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** For receivers (and tests): checks the header against the body, within `toleranceS`. */
export function verify(secret: string, body: string, header: string, nowMs = Date.now(), toleranceS = 300): boolean {
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowMs / 1000 - t) > toleranceS || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
