/**
 * The one event model every interface renders (decisions.md §3). The engine emits CallEvents;
 * the XML stream, REST/SSE, webhooks, the record store, metrics and logs subscribe to them.
 */
export type CallEventKind =
  | 'initiated'
  | 'referred'
  | 'ringing'
  | 'answered'
  | 'fallback'
  | 'connected'
  | 'failed'
  | 'refused'
  | 'transfer-requested'
  | 'transfer-ringing'
  | 'transfer-connected'
  | 'transfer-failed'
  | 'transfer-recovered'
  | 'completed';

export type LegName = 'initiator' | 'destination';

export interface CallEvent {
  callId: string;
  /** 1, 2, 3 … within the call. */
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  kind: CallEventKind;
  leg: LegName | undefined;
  code: number;
  text: string;
  /** On the first event only. */
  translatedInitiator?: string;
  translatedDestination?: string;
  /** On refusals and failures: a short machine-readable cause. */
  reason?: string;
  /** The last event of the click-to-call request (connected, failed, refused); anchored calls
   *  go on after `connected` and end with `completed`. */
  final: boolean;
}

/** The texts of the replaced system's XML results (compatibility.md), shared by every interface. */
export const TEXT = {
  inProgress: 'In progress',
  ringingInitiator: 'Ringing initiator',
  ringingDestination: 'Ringing destination',
  connectedInitiator: 'Connected to initiator',
  connectedDestination: 'Connected to destination',
  failedInitiator: 'Failed to connect to initiator',
  failedDestination: 'Failed to connect to destination',
} as const;

export function isTerminalKind(kind: CallEventKind): boolean {
  return kind === 'connected' || kind === 'failed' || kind === 'refused';
}
