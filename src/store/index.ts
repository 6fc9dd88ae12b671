/** The record store (issue 5): the interface, its SQLite implementation, and the wiring helpers. */
export type { CallStore, ListQuery, ListPage, DateRange } from './store.js';
export { MAX_LIST_LIMIT, StoreQueryError } from './store.js';
export type { CallRecord, CallState, LegTimes, TransferRecord, TransferOutcome } from './record.js';
export { CALL_STATES } from './record.js';
export { SqliteCallStore, SCHEMA_VERSION, type SqliteStoreOptions } from './sqlite-store.js';
export { CSV_HEADER } from './csv.js';
export { attachStore, type StoreAttachment } from './subscriber.js';
export { startRetention, DAY_MS, type RetentionOptions } from './retention.js';
