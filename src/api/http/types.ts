// Types shared by the HTTP server, its plugins and whoever handles the legacy trigger.
import type { CallMode } from '../../call/translate.js';

export type { CallMode };

export interface HttpClient {
  /** Peer address, IPv4-mapped IPv6 normalised (`::ffff:127.0.0.1` → `127.0.0.1`). */
  readonly address: string;
  readonly port: number;
}

/** A click-to-call from `GET /clicktocall.html`, as given (untranslated). */
export interface LegacyCallRequest {
  readonly initiator: string;
  readonly destination: string;
  /** `anchor=true|false`; absent when not given. */
  readonly anchor?: boolean;
  /** `mode=`; absent when not given. */
  readonly mode?: CallMode;
  readonly client: HttpClient;
  readonly via: 'http';
  /** When the server had the request (`performance.now()`). */
  readonly receivedAt?: number;
}

export type LegacySubmitResult =
  | {
      readonly ok: true;
      readonly callId: string;
      readonly translatedInitiator: string;
      readonly translatedDestination: string;
      readonly mode: CallMode;
    }
  | { readonly ok: false; readonly status: 400 | 403 | 503; readonly text: string };

/** The engine side of the legacy trigger: accepts or refuses a call at once (no progress). */
export interface LegacyCallHandler {
  submit(request: LegacyCallRequest): LegacySubmitResult;
}

/** The subset of a pino logger the HTTP server uses. */
export interface HttpLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const noopHttpLogger: HttpLogger = {
  info() {},
  warn() {},
  error() {},
};
