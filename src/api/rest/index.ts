/** The REST API `/v1`: the Fastify plugin and what the composition root needs to build it. */
export { restPlugin, OPENAPI_PATH, type RestDeps } from './plugin.js';
export { EventLog, type EventLogOptions, type LoggedEvent } from './event-log.js';
export { ApiKeyRing } from './api-keys.js';
export type { CallRecordReader } from './records.js';
export { PROBLEM_CONTENT_TYPE } from './problem.js';
