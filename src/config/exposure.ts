// Who can reach the triggers (decisions.md §1): an open legacy trigger listens on loopback only
// unless AllowAnonymous = true; a protected one listens on all addresses.
import { isLoopbackAddress, type CidrBlock } from './cidr.js';
import type { Config } from './config.js';

/** The password the replaced system ships with: HttpAuth with it counts as no protection. */
export const DEFAULT_HTTP_PASSWORD = 'admin';

export const LOOPBACK_ADDRESSES: readonly string[] = ['127.0.0.1', '::1'];
/** All addresses: listen on '::' with `ipv6Only: true` beside '0.0.0.0', so the two do not clash. */
export const ALL_ADDRESSES: readonly string[] = ['0.0.0.0', '::'];

/** The legacy HTTP GET is open with HttpAuth off, or on with the default password `admin`. */
export function isLegacyHttpOpen(config: Config): boolean {
  return !config.httpAuth || config.httpAuthPwd === DEFAULT_HTTP_PASSWORD;
}

/** XML is open with neither XmlSecret nor XmlAllowFrom (an address ACL on TCP counts). */
export function isXmlOpen(config: Config): boolean {
  return config.xmlSecret === undefined && config.xmlAllowFrom.length === 0;
}

/** The addresses the HTTP or XML port listens on; none when its port is 0. */
export function listenAddressesFor(config: Config, service: 'http' | 'xml'): string[] {
  const port = service === 'http' ? config.httpPort : config.xmlRpcPort;
  if (port === 0) return [];
  const open = service === 'http' ? isLegacyHttpOpen(config) : isXmlOpen(config);
  return [...(open && !config.allowAnonymous ? LOOPBACK_ADDRESSES : ALL_ADDRESSES)];
}

/** True when something can start calls from beyond loopback (HTTP, XML or out-of-dialog REFER). */
export function isTriggerReachableBeyondLoopback(config: Config): boolean {
  const beyond = (addresses: string[]) => addresses.some((a) => !isLoopbackAddress(a));
  if (beyond(listenAddressesFor(config, 'http')) || beyond(listenAddressesFor(config, 'xml'))) return true;
  // Out-of-dialog REFER is refused unless ReferUser or ReferAllowFrom allows it (SIP binds beyond loopback).
  const sipOnLoopbackOnly = config.ipAddress !== undefined && isLoopbackAddress(config.ipAddress);
  if (sipOnLoopbackOnly || (config.udpTcpPort === 0 && config.tlsPort === 0)) return false;
  return config.referUser.length > 0 || config.referAllowFrom.some((b) => !isLoopbackOnlyBlock(b));
}

function isLoopbackOnlyBlock(block: CidrBlock): boolean {
  const network = block.text.slice(0, block.text.indexOf('/'));
  return block.prefix >= (block.family === 4 ? 8 : 128) && isLoopbackAddress(network);
}

/**
 * Start-up lines explaining a trigger kept on loopback because it is open, with the one line a
 * migrated config needs (decisions.md §1).
 */
export function exposureNotices(config: Config, configFileName = 'clicktocall.config'): string[] {
  if (config.allowAnonymous) return [];
  const notices: string[] = [];
  const add = 'to accept it from other hosts as before, add the line `AllowAnonymous = true` to ' + configFileName;
  if (config.httpPort !== 0 && isLegacyHttpOpen(config)) {
    const why = config.httpAuth ? 'HttpAuth uses the default password "admin"' : 'HttpAuth is off';
    notices.push(`HTTP port ${config.httpPort} listens on loopback only because ${why}; ${add} (or protect it with HttpAuth and a password of your own).`);
  }
  if (config.xmlRpcPort !== 0 && isXmlOpen(config)) {
    notices.push(`XML port ${config.xmlRpcPort} listens on loopback only because neither XmlSecret nor XmlAllowFrom is set; ${add} (or set XmlSecret / XmlAllowFrom).`);
  }
  return notices;
}
