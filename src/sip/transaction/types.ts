/** The shapes the transaction layer shares with the transport below it and the TUs above it. */
import type { SipMessage, SipResponse } from '../message/message.js';
import type { TransportName } from '../transport/types.js';
import type { ClientTransaction } from './client-transaction.js';
import type { ServerTransaction } from './server-transaction.js';

export type { TransportName };

/** Where a message goes: the transport decides nothing, it sends exactly here. */
export interface Destination {
  transport: TransportName;
  address: string;
  port: number;
  /** Streams: send on this connection (responses go back on the request's connection, §18.2.2). */
  connectionId?: number;
  /** TLS: the name the server certificate must carry. */
  servername?: string;
}

/** The transport as the transaction layer sees it. `cb(err)` reports a failed send (§18.4). */
export interface TransactionWire {
  send(message: SipMessage, dest: Destination, cb?: (err?: Error) => void): void;
  /** The bytes of a message kept as bytes only (a wait state's last response), sent as they are. */
  sendBytes(bytes: Buffer, dest: Destination, cb?: (err?: Error) => void): void;
}

/** RFC 3261 §17: every transport but UDP is reliable (no retransmissions, zero-length wait timers). */
export function isReliable(dest: Destination): boolean {
  return dest.transport !== 'udp';
}

export interface ClientTransactionUser {
  /** Every 1xx, the final response, and (INVITE, Accepted state) each further 2xx. */
  onResponse(response: SipResponse, tx: ClientTransaction): void;
  /** Timer B (INVITE, still Calling) or Timer F (non-INVITE). */
  onTimeout(tx: ClientTransaction): void;
  /** A send of the request, a retransmission of it, or the ACK failed. */
  onTransportError(err: Error, tx: ClientTransaction): void;
  onTerminated?(tx: ClientTransaction): void;
  /**
   * Told by the stack once the request went to the transport for the first time (its target
   * resolved): the end of a setup-latency measure. Not for retries, failover or credentials.
   */
  onSent?(): void;
}

export interface ServerTransactionUser {
  /** Timer H fired: no ACK came for our non-2xx final response. */
  onTimeout?(tx: ServerTransaction): void;
  onTransportError?(err: Error, tx: ServerTransaction): void;
  onTerminated?(tx: ServerTransaction): void;
}

export type ClientState = 'Calling' | 'Trying' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';
export type ServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

export type AnyTransaction = ClientTransaction | ServerTransaction;

/**
 * What the layer reports for counters, logs and metrics. Never needed for correctness. No `tx`
 * for a transaction that waits as a record (wait-table.ts).
 */
export type TransactionEvent =
  /** A message was sent again: the request (Timer A/E), the ACK (method 'ACK'), or a response (status set). */
  | { type: 'retransmission'; method: string; status?: number; tx?: AnyTransaction }
  /** A retransmitted request or response arrived and was absorbed by its transaction. */
  | { type: 'retransmission-received'; method: string; status?: number; tx?: AnyTransaction }
  | { type: 'timeout'; timer: 'B' | 'F' | 'H'; tx: AnyTransaction }
  | { type: 'transport-error'; error: Error; tx?: AnyTransaction }
  /** A TU callback threw; the transaction carried on (or ended) regardless. */
  | { type: 'tu-error'; error: unknown; tx?: AnyTransaction }
  /** A response the TU passed that the state machine must discard (§17.2.2) or cannot send. */
  | { type: 'response-discarded'; status: number; state: ServerState; tx: ServerTransaction }
  /** A bug: an exception inside the layer's own timer or wire handling. The transaction was ended. */
  | { type: 'internal-error'; error: unknown; tx?: AnyTransaction };
