// An outbound proxy (the OutboundProxy setting): requests carry a pre-loaded Route to it and
// are sent to wherever the proxy resolves, not to the Request-URI's host.
import type { LocateRequest, SipTransport, Target } from './types.js';

/** The configured proxy URI, parsed by the caller. */
export interface ProxyAddress {
  host: string;
  port?: number;
  transport?: SipTransport;
  secure: boolean;
  maddr?: string;
}

export interface Locator {
  locate(request: LocateRequest): Promise<Target[]>;
}

/**
 * The Route header value to pre-load for the proxy URI: RFC 3261 §8.1.2 lets a UAC use a
 * pre-existing route set, and the `lr` parameter marks a loose router (§16.12, §19.1.1), so
 * the Request-URI stays the real destination. `sip:p.example.test` → `<sip:p.example.test;lr>`.
 * A text without scheme gets `sip:`; angle brackets around it are accepted. Throws on an
 * empty text (a configuration error found at start-up).
 */
export function outboundRoute(proxyUriText: string): string {
  let uri = proxyUriText.trim();
  if (uri.startsWith('<') && uri.endsWith('>')) uri = uri.slice(1, -1).trim();
  if (uri === '') throw new Error('outbound proxy URI is empty');
  if (!/^sips?:/i.test(uri)) uri = `sip:${uri}`;
  const headersAt = uri.indexOf('?');
  const body = headersAt < 0 ? uri : uri.slice(0, headersAt);
  const headers = headersAt < 0 ? '' : uri.slice(headersAt);
  // Parameters start at the first ";" after the host; a user part may hold ";" of its own.
  const at = body.indexOf('@');
  const paramsAt = body.indexOf(';', at < 0 ? 0 : at);
  const params = paramsAt < 0 ? [] : body.slice(paramsAt + 1).split(';');
  const loose = params.some((p) => {
    const eq = p.indexOf('=');
    return (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase() === 'lr';
  });
  return `<${loose ? body : `${body};lr`}${headers}>`;
}

/**
 * Where to send a request for `target`: with an outbound proxy, the proxy's targets (RFC 3261
 * §8.1.2: the request goes to the first Route entry, located by RFC 3263); without, the
 * target's own. A sips: target keeps TLS to the proxy too (RFC 3261 §26.2.2).
 */
export function locateVia(locator: Locator, proxy: ProxyAddress | undefined, target: LocateRequest): Promise<Target[]> {
  if (proxy === undefined) return locator.locate(target);
  const request: LocateRequest = { host: proxy.host, secure: proxy.secure || target.secure };
  if (proxy.port !== undefined) request.port = proxy.port;
  if (proxy.transport !== undefined) request.transport = proxy.transport;
  if (proxy.maddr !== undefined) request.maddr = proxy.maddr;
  return locator.locate(request);
}
