/**
 * The legacy HTTP trigger's link to the engine: `GET /clicktocall.html` becomes a CallRequest;
 * the page only says whether the call started (the replaced system gives no progress there).
 */
import { clientKeyFor } from '../../config/cidr.js';
import { submitCall, type CallDeps } from '../calls.js';
import type { LegacyCallHandler } from './types.js';

export function legacyHandler(deps: CallDeps): LegacyCallHandler {
  return {
    submit(request) {
      const submitted = submitCall(deps, {
        initiator: request.initiator,
        destination: request.destination,
        anchor: request.anchor,
        mode: request.mode,
        client: { address: request.client.address, port: request.client.port, trigger: 'http', key: clientKeyFor(request.client.address) },
        receivedAt: request.receivedAt,
      });
      if (!submitted.ok) {
        const status = submitted.status === 403 || submitted.status === 503 ? submitted.status : 400;
        return { ok: false, status, text: submitted.text };
      }
      const r = submitted.request;
      return { ok: true, callId: r.id, translatedInitiator: r.initiator, translatedDestination: r.destination, mode: r.mode };
    },
  };
}
