/**
 * JSON Schemas of the REST routes. Fastify validates requests with the `body`, `params` and
 * `querystring` ones; the OpenAPI document (openapi.ts) is built from the same objects, so the
 * two cannot drift apart. Response schemas are documentation only (not used to serialise).
 */
import type { CallEventKind } from '../../call/events.js';
import { CALL_STATES } from '../../store/record.js';

const KIND_SET: Record<CallEventKind, true> = {
  initiated: true, referred: true, ringing: true, answered: true, fallback: true, connected: true,
  failed: true, refused: true, 'transfer-requested': true, 'transfer-ringing': true,
  'transfer-connected': true, 'transfer-failed': true, 'transfer-recovered': true, completed: true,
};
/** Every CallEvent kind (decisions.md §3); the compiler checks the list is complete. */
export const EVENT_KINDS = Object.keys(KIND_SET) as CallEventKind[];

export const MAX_ADDRESS_LENGTH = 256;
export const MAX_URL_LENGTH = 2048;

export const createCallBody = {
  type: 'object',
  required: ['initiator', 'destination'],
  additionalProperties: false,
  properties: {
    initiator: {
      type: 'string', minLength: 1, maxLength: MAX_ADDRESS_LENGTH,
      description: 'The phone called first: a SIP URI or anything a TranslationPattern turns into one.',
    },
    destination: {
      type: 'string', minLength: 1, maxLength: MAX_ADDRESS_LENGTH,
      description: 'The party the initiator is connected to.',
    },
    mode: { type: 'string', enum: ['refer', 'anchored', 'ood-refer'], description: 'Default: the rule\'s TranslationMode, else DefaultMode.' },
    ringTimeout: { type: 'integer', minimum: 1, maximum: 3600, description: 'Seconds each leg may ring [RingTimeout].' },
    maxDuration: { type: 'integer', minimum: 1, maximum: 604800, description: 'Seconds before both legs get BYE [MaxCallDuration].' },
    callerId: { type: 'string', minLength: 1, maxLength: 128, description: 'Display name on the initiator leg.' },
    transferPolicy: { type: 'string', enum: ['handle', 'passthrough', 'reject'], description: 'What a REFER during the call does [TransferPolicy].' },
    statusCallback: {
      type: 'string', minLength: 1, maxLength: MAX_URL_LENGTH, pattern: '^[hH][tT][tT][pP][sS]?://',
      description: 'http(s) URL that receives this call\'s events as signed JSON POSTs.',
    },
    statusCallbackEvents: {
      type: 'array', items: { type: 'string', enum: EVENT_KINDS }, uniqueItems: true, maxItems: EVENT_KINDS.length,
      description: 'Event kinds sent to statusCallback (default: all).',
    },
    metadata: {
      type: 'object', maxProperties: 32, additionalProperties: { type: 'string', maxLength: 512 },
      description: 'Your own string values, kept with the call and sent with its webhooks.',
    },
  },
} as const;

export const callIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128, description: 'The call id.' } },
} as const;

export const listCallsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: [...CALL_STATES], description: 'Only calls in this state.' },
    since: {
      type: 'string', minLength: 1, maxLength: 40,
      description: 'Only calls created at or after this time: RFC 3339 date-time or milliseconds since the epoch.',
    },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'Page size.' },
    cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'nextCursor of the previous page.' },
  },
} as const;

export const lastEventIdHeader = {
  type: 'object',
  properties: {
    'last-event-id': { type: 'string', maxLength: 64, description: 'Resume after this event id (sent by EventSource on reconnect).' },
  },
} as const;

// ── documentation-only schemas (components) ─────────────────────────────────────

export const callEventSchema = {
  type: 'object',
  required: ['callId', 'seq', 'time', 'kind', 'code', 'text', 'final'],
  properties: {
    callId: { type: 'string' },
    seq: { type: 'integer', description: '1, 2, 3 … within the call.' },
    time: { type: 'integer', description: 'Milliseconds since the epoch.' },
    kind: { type: 'string', enum: EVENT_KINDS },
    leg: { type: 'string', enum: ['initiator', 'destination'] },
    code: { type: 'integer' },
    text: { type: 'string' },
    translatedInitiator: { type: 'string' },
    translatedDestination: { type: 'string' },
    reason: { type: 'string' },
    final: { type: 'boolean' },
  },
} as const;

const legTimes = {
  type: 'object',
  properties: { ringingAt: { type: 'integer' }, answeredAt: { type: 'integer' }, endedAt: { type: 'integer' } },
} as const;

export const callResourceSchema = {
  type: 'object',
  required: ['id', 'state', 'initiator', 'destination', 'createdAt'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: [...CALL_STATES] },
    phase: {
      type: 'string', enum: ['calling-initiator', 'referring', 'calling-destination', 'connected', 'ended'],
      description: 'What the server is doing now (live calls only).',
    },
    mode: { type: 'string', enum: ['refer', 'anchored', 'ood-refer'] },
    trigger: { type: 'string', enum: ['http', 'xml', 'rest', 'sip'] },
    initiator: { type: 'string', description: 'Translated SIP URI.' },
    destination: { type: 'string', description: 'Translated SIP URI.' },
    rawInitiator: { type: 'string' },
    rawDestination: { type: 'string' },
    createdAt: { type: 'integer', description: 'Milliseconds since the epoch.' },
    endedAt: { type: 'integer' },
    legs: { type: 'object', properties: { initiator: legTimes, destination: legTimes } },
    fallbackAt: { type: 'integer' },
    finalCode: { type: 'integer' },
    finalText: { type: 'string' },
    reason: { type: 'string' },
    transfers: { type: 'array', items: { type: 'object' } },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    statusCallback: { type: 'string' },
    statusCallbackEvents: { type: 'array', items: { type: 'string' } },
    events: { type: 'array', items: { $ref: '#/components/schemas/CallEvent' }, description: 'JSON history, in seq order.' },
  },
} as const;

export const callListSchema = {
  type: 'object',
  required: ['calls'],
  properties: {
    calls: { type: 'array', items: { $ref: '#/components/schemas/Call' }, description: 'Newest first, without events.' },
    nextCursor: { type: 'string', description: 'Present when more calls may follow.' },
  },
} as const;

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  description: 'RFC 9457 problem details (application/problem+json).',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, detail: { type: 'string' } } },
    },
    callId: { type: 'string' },
  },
} as const;
