// The transport layer's public surface.
export { TransportLayer } from './transport-layer.js';
export { TransportError } from './transport-error.js';
export type { TransportErrorCode } from './transport-error.js';
export { StreamFramer } from './stream-framer.js';
export type { FramerErrorCode, FramerLimits, FramerSink } from './stream-framer.js';
export {
  normaliseAddress,
  familyOf,
  isLoopback,
  formatHostPort,
  sourceKey,
  parseIpBytes,
  parseCidr,
  cidrContains,
} from './address.js';
export type { Cidr } from './address.js';
export type * from './types.js';
