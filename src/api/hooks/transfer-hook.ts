/**
 * The transfer hook (issue 4 §3, seed 003's Refer URL): before acting on a REFER, POST JSON
 * `{callId, transferor, transferee, referTarget, referredBy}` to TransferHookUrl, signed. The
 * answer may approve, rewrite the target, choose the policy, or deny; a timeout or an error means
 * the configured default.
 *
 * Answer (JSON, any 2xx): `{"action": "approve" | "deny", "target"?: string, "policy"?: "handle" | "passthrough" | "reject"}`.
 * A non-2xx answer or an unreadable body counts as an error.
 */
import type { TransferDecision, TransferHookInfo } from '../../call/transfer.js';
import { SIGNATURE_HEADER, sign } from './signature.js';

export interface TransferHookOptions {
  url: string;
  secret: string | undefined;
  /** The whole exchange (connect, send, read the answer); beyond it: the configured default (`TransferHookTimeout`). */
  timeoutMs: number;
  onError?: (err: unknown) => void;
}

export function transferHook(opts: TransferHookOptions): (info: TransferHookInfo) => Promise<TransferDecision | undefined> {
  return async (info) => {
    const body = JSON.stringify(info);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'clicktocall' };
    if (opts.secret) headers[SIGNATURE_HEADER] = sign(opts.secret, body);
    try {
      const res = await fetch(opts.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'error' });
      if (res.status < 200 || res.status >= 300) throw new Error(`transfer hook answered ${res.status}`);
      const answer = (await res.json()) as Record<string, unknown>;
      const action = answer.action;
      if (action !== 'approve' && action !== 'deny') throw new Error('transfer hook: "action" must be "approve" or "deny"');
      const policy = answer.policy;
      if (policy !== undefined && policy !== 'handle' && policy !== 'passthrough' && policy !== 'reject') {
        throw new Error('transfer hook: bad "policy"');
      }
      const target = answer.target;
      if (target !== undefined && typeof target !== 'string') throw new Error('transfer hook: bad "target"');
      return { action, policy, target };
    } catch (err) {
      opts.onError?.(err);
      return undefined;
    }
  };
}
