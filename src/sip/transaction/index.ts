export { TransactionLayer, type TransactionLayerOptions, type ReceiveRequestResult } from './layer.js';
export { ClientTransaction } from './client-transaction.js';
export { ServerTransaction, type AckDisposition } from './server-transaction.js';
export { InviteClientTransaction } from './invite-client.js';
export { NonInviteClientTransaction } from './non-invite-client.js';
export { InviteServerTransaction } from './invite-server.js';
export { NonInviteServerTransaction } from './non-invite-server.js';
export { Transaction, type TimerName } from './transaction.js';
export {
  DEFAULT_TIMER_SETTINGS, resolveTimers, nextCappedInterval, type TimerSettings, type TimerValues,
} from './settings.js';
export { clientKey, serverKey, responseKey, rfc2543Base, hasRfc3261Branch } from './matching.js';
export {
  isReliable,
  type TransportName, type Destination, type TransactionWire, type ClientTransactionUser, type ServerTransactionUser,
  type ClientState, type ServerState, type TransactionEvent, type AnyTransaction,
} from './types.js';
