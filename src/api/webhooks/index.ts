/** Webhooks: signed JSON POSTs of call events to WebhookUrl and per-call statusCallback URLs. */
export { DEFAULT_MAX_CALLBACK_URLS, startWebhooks, type WebhookDeps, type Webhooks } from './webhooks.js';
export { DEFAULT_QUEUE_LIMITS, type AttemptReport, type QueueLimits, type QueueStats } from './delivery-queue.js';
