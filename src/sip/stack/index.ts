export { SipStack, type SipStackOptions, type StackTransport, type StackEvent, type MessageObserver, type RequestHandler, type InboundBytes } from './stack.js';
export { startSipEndpoint, DEFAULT_LIMITS, type EndpointOptions, type EndpointLimits, type SipEndpoint } from './endpoint.js';
