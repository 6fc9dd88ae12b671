/**
 * Out-of-dialog REFER as a trigger (issue 4 §2, "the server as the SRST"): a REFER to the server
 * whose Request-URI names the referee (the initiator) and whose Refer-To names the target starts
 * a click-to-call between them; progress goes back to the requester in NOTIFYs (100 Trying, 180
 * Ringing, 200 OK or the failure code, the last with Subscription-State terminated).
 *
 * Closed by default (decisions.md §1): only sources in ReferAllowFrom — over TCP/TLS, since a UDP
 * source address can be forged — or requests passing digest authentication (ReferUser) may
 * trigger calls; anything else gets 403 (or a 401 challenge) and places no call.
 */
import { createResponse, type SipRequest } from '../../sip/message/index.js';
import type { SipStack } from '../../sip/stack/index.js';
import type { ServerTransaction } from '../../sip/transaction/index.js';
import { DigestServer } from '../../sip/digest/index.js';
import type { CallEvent } from '../../call/events.js';
import { referTarget } from '../../call/transfer.js';
import { cidrListContains, clientKeyFor, type CidrBlock } from '../../config/cidr.js';
import { submitCall, type CallDeps } from '../calls.js';

export interface SipReferTriggerOptions {
  stack: SipStack;
  calls: CallDeps;
  allowFrom: readonly CidrBlock[];
  users: readonly { user: string; password: string }[];
  realm: string;
  /** Host names/addresses that are "us": a Request-URI or Refer-To there is named by its user part. */
  ownHosts: readonly string[];
  /** How long a digest nonce stays valid (ms; default 5 min), then `stale=true`. */
  nonceLifetimeMs?: number;
  /** Nonces whose use count is remembered against replays (default 10,000; the oldest go first). */
  maxNonces?: number;
  now?: () => number;
  onRefused?: (reason: string, source: string) => void;
}

export function installSipReferTrigger(opts: SipReferTriggerOptions): void {
  const digest = opts.users.length > 0
    ? new DigestServer({
      realm: opts.realm, nonceTtlMs: opts.nonceLifetimeMs ?? 300_000, algorithms: ['SHA-256', 'MD5'], now: opts.now ?? Date.now,
      maxTrackedNonces: opts.maxNonces ?? 10_000,
    })
    : undefined;
  const passwords = new Map(opts.users.map((u) => [u.user, u.password]));
  const { stack } = opts;

  const reply = (req: SipRequest, tx: ServerTransaction, status: number, reason?: string, headers: [string, string][] = []) => {
    const res = createResponse(req, status, reason, stack.newTag());
    for (const [k, v] of headers) res.add(k, v);
    stack.respond(tx, res);
  };

  stack.onRequest('REFER', (req, tx) => {
    const source = req.source!;
    const reliable = source.transport !== 'udp';
    const aclOk = reliable && opts.allowFrom.length > 0 && cidrListContains(opts.allowFrom, source.address);
    let authOk = false;
    if (!aclOk) {
      if (!digest) {
        opts.onRefused?.('not-allowed', source.address);
        reply(req, tx, 403, 'Forbidden (out-of-dialog REFER not allowed from here)');
        return;
      }
      const verdict = digest.verify(req.getAll('authorization'), {
        method: 'REFER', uri: req.uri, lookupPassword: (u) => passwords.get(u),
      });
      if (!verdict.ok) {
        if (verdict.reason !== 'missing') opts.onRefused?.(`digest-${verdict.reason}`, source.address);
        reply(req, tx, 401, undefined, digest.challenge({ stale: verdict.reason === 'stale' }).map((c) => ['WWW-Authenticate', c] as [string, string]));
        return;
      }
      authOk = true;
    }
    void authOk;
    const target = referTarget(req);
    if (!target.ok) {
      reply(req, tx, target.status, target.reason);
      return;
    }
    const initiator = addressFor(req.uri, opts.ownHosts);
    const destination = addressFor(target.uri, opts.ownHosts);
    const notifier = stack.referNotifier(req, tx);
    let accepted = false;
    const submitted = submitCall(opts.calls, {
      initiator,
      destination,
      client: { address: source.address, port: source.port, trigger: 'sip', key: clientKeyFor(source.address) },
    }, (e: CallEvent) => {
      if (!accepted) return;
      notifyFor(e, (status, reason) => notifier.notify(status, reason));
    });
    if (!submitted.ok) {
      // Nothing was placed: refuse the REFER itself with the reason (no subscription).
      const status = submitted.status === 503 ? 503 : submitted.status === 403 ? 403 : submitted.status === 501 ? 501 : 400;
      notifier.reject(status, submitted.text.slice(0, 120));
      return;
    }
    notifier.accept();
    accepted = true;
  });
}

/** The event → sipfrag status the requester sees (RFC 3515 §2.4.5). */
function notifyFor(e: CallEvent, notify: (status: number, reason: string) => void): void {
  switch (e.kind) {
    case 'ringing':
      if (e.leg === 'destination') notify(180, 'Ringing');
      return;
    case 'connected':
      notify(200, 'OK');
      return;
    case 'failed':
    case 'refused':
      notify(e.code >= 300 ? e.code : 500, e.text);
      return;
    default:
  }
}

/** A URI at one of our own hosts is named by its user part (so translation rules apply as to a number). */
function addressFor(uri: string, ownHosts: readonly string[]): string {
  const m = /^sips?:([^@;?]+)@([^;?>]+)/i.exec(uri);
  if (!m) return uri;
  const host = m[2]!.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  return ownHosts.includes(host) ? decodeURIComponent(m[1]!) : uri;
}
