/**
 * The XML interface's link to the engine: a `<ClickToCall>` becomes a CallRequest, and the
 * call's events become `<Result>`s (decisions.md §3: the first seven kinds only).
 */
import type { CallEvent } from '../../call/events.js';
import { clientKeyFor } from '../../config/cidr.js';
import { submitCall, type CallDeps } from '../calls.js';
import type { XmlResult } from './codec.js';
import type { XmlRequestHandler } from './types.js';

export function xmlResultFor(e: CallEvent): XmlResult | undefined {
  const leg = e.leg === 'initiator' ? 'Initiator' : e.leg === 'destination' ? 'Destination' : undefined;
  switch (e.kind) {
    case 'initiated':
      return { code: 100, text: e.text, translatedInitiator: e.translatedInitiator, translatedDestination: e.translatedDestination };
    case 'ringing':
    case 'answered':
    case 'connected':
    case 'failed':
      return { code: e.code, leg, text: e.text };
    case 'fallback':
    case 'refused':
      return { code: e.code, text: e.text };
    default:
      return undefined;
  }
}

export function xmlHandler(deps: CallDeps): XmlRequestHandler {
  return {
    submit(request, sink) {
      const submitted = submitCall(deps, {
        initiator: request.initiator,
        destination: request.destination,
        anchor: request.anchor,
        mode: request.mode,
        client: { address: request.client.address, port: request.client.port, trigger: 'xml', key: clientKeyFor(request.client.address) },
        receivedAt: request.receivedAt,
      }, (e) => {
        const r = xmlResultFor(e);
        if (r) sink.result(r);
      });
      // A refusal by the engine already arrived as a `refused` event; one before any request
      // existed (bad input, no translation rule) is answered here.
      if (!submitted.ok && !submitted.request) sink.result({ code: submitted.status, text: submitted.text });
    },
  };
}
