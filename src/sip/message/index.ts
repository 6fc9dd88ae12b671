export { SipParseError } from './errors.js';
export { headerKey, canonicalName, isListHeader } from './header-names.js';
export { isToken, quote, unquote, splitList, parseParams, formatParams, unescapePercent } from './grammar.js';
export { SipUri, parseUri, uriEquals, isHostname, type UriParams } from './uri.js';
export { NameAddr, parseNameAddr } from './name-addr.js';
export { Via, parseVia, ownVia, BRANCH_COOKIE } from './via.js';
export {
  SipMessage, SipRequest, SipResponse, EMPTY, parseCSeq,
  type Header, type MessageSource, type CSeq, type EventHeader, type SubscriptionState, type ReplacesHeader,
} from './message.js';
export { parseMessage, checkRequestUriScheme, KNOWN_METHODS, type ParseOptions } from './parse.js';
export { createResponse, createNon2xxAck, createCancel, REASON } from './build.js';
