// The XML-over-TCP trigger: framing, request/answer codec and the server.
export { XmlFramer, DEFAULT_MAX_DOCUMENT_SIZE } from './framer.js';
export type { FramedItem, XmlFramerOptions } from './framer.js';
export type { XmlDocument, SecretSpan } from './document-parser.js';
export {
  XML_TEXT,
  echoOf,
  escapeXmlText,
  extractRequest,
  isFinalResult,
  renderResponse,
  secretMatches,
} from './codec.js';
export type { ClickToCallFields, Extraction, XmlEcho, XmlLeg, XmlResult } from './codec.js';
export {
  XmlServer,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_OPEN_REQUESTS_PER_CONNECTION,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_WRITE_BUFFER_BYTES,
  DEFAULT_CLOSE_GRACE_MS,
} from './server.js';
export type { XmlListenAddress, XmlServerOptions } from './server.js';
export type {
  XmlCallRequest,
  XmlClient,
  XmlLogger,
  XmlRequestHandler,
  XmlResultSink,
  XmlServerCounters,
  XmlTimers,
} from './types.js';
