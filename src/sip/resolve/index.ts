// RFC 3263 server location: NAPTR → SRV → A/AAAA, failover and the outbound proxy.
export { ServerLocator, srvServiceName, stripBrackets, type ServerLocatorOptions } from './locate.js';
export { createDnsResolver, parseDnsServer, formatDnsServer, type DnsServerAddress } from './dns-resolver.js';
export { DnsCache, type DnsCacheOptions } from './dns-cache.js';
export { realTimer, type SetTimer } from './dns-query.js';
export { orderSrvRecords, type RandomSource } from './srv-order.js';
export { selectNaptrRecords, type NaptrChoice } from './naptr.js';
export { TargetCursor, shouldFailOver, type FailoverReason } from './failover.js';
export { outboundRoute, locateVia, type ProxyAddress, type Locator } from './outbound.js';
export {
  LocateError,
  isLocateError,
  defaultPort,
  type DnsLike,
  type IpFamily,
  type LocateErrorCode,
  type LocateRequest,
  type SipTransport,
  type Target,
} from './types.js';
