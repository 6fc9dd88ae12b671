/**
 * What the REST API reads from the record store: the two queries of `CallStore` it needs, so that
 * the API works with any store (or none: then the in-memory history answers).
 */
import type { CallStore } from '../../store/store.js';

export type CallRecordReader = Pick<CallStore, 'get' | 'list'> & Partial<Pick<CallStore, 'exportCsv'>>;
export type { CallRecord, CallState, ListPage, ListQuery } from '../../store/store.js';
export { StoreQueryError, MAX_LIST_LIMIT } from '../../store/store.js';
