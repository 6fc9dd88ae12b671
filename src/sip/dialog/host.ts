/**
 * What the dialog usages need from the stack, as an interface so that they can be tested with a
 * fake and so that the dependency points down (usages → host), never back.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { TimerHost } from '../timer.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../transaction/index.js';
import type { Dialog } from './dialog.js';

export interface DialogUsage {
  /** A new request inside this usage's dialog (already passed the transaction layer). */
  handleRequest(req: SipRequest, tx: ServerTransaction): void;
  /** An ACK for a 2xx (not part of any transaction, §17.1.1.3). */
  handleAck?(ack: SipRequest): void;
  /** A 2xx to an INVITE that matched no transaction: a retransmission after the tx ended. */
  handleStray2xx?(res: SipResponse): void;
}

export interface DialogHost {
  readonly timers: TimerHost;
  readonly t1: number;
  readonly t2: number;
  newTag(): string;
  /** Our Contact for requests and responses on the transport this message travels. */
  localContact(transport: string, family: 4 | 6): string;
  /** Sends a request through a client transaction (adds Via, chooses the destination). */
  sendRequest(req: SipRequest, user: ClientTransactionUser): void;
  /** Sends a CANCEL (built with createCancel: same Via branch) to where the INVITE went (§9.1). */
  sendCancel(cancel: SipRequest, invite: ClientTransaction): void;
  /** Sends an ACK for a 2xx (no transaction; new branch each time it is built, §13.2.2.4). */
  sendAck(ack: SipRequest): void;
  /** Sends a response on a server transaction (adds Contact where needed). */
  respond(tx: ServerTransaction, res: SipResponse): void;
  registerDialog(dialog: Dialog, usage: DialogUsage): void;
  unregisterDialog(dialog: Dialog): void;
  /** Reports an exception thrown by application code so that it is counted and logged. */
  reportError(err: unknown, where: string): void;
}
