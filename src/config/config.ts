// The typed configuration every part of the server receives. Field names are the camel-case
// forms of the setting names in settings.ts (the one table that documents them).
import type { CallMode, CompiledPattern, TranslationRules } from '../call/translate.js';
import type { CidrBlock } from './cidr.js';

export type { CallMode } from '../call/translate.js';

export type LogLevel = 'NONE' | 'CRIT' | 'ERR' | 'WARNING' | 'INFO' | 'DEBUG' | 'STACK';
export type HoldOffer = 'c0-inactive' | 'inactive' | 'none';
export type TransferPolicy = 'handle' | 'passthrough' | 'reject';

export interface ApiKeyEntry {
  readonly name: string;
  /** Lower-case hex SHA-256 of the key. */
  readonly sha256: string;
  readonly callsPerSecond?: number;
}

export interface ReferUserEntry {
  readonly user: string;
  readonly password: string;
}

export interface SipCredentialEntry {
  readonly realm: string;
  readonly user: string;
  readonly password: string;
  readonly host?: string;
}

export interface Config {
  // Legacy settings (reSIProcate clicktocall).
  readonly ipAddress: string | undefined;
  readonly dnsServers: readonly string[];
  readonly clickToCallIdentity: string | undefined;
  readonly udpTcpPort: number;
  readonly tlsPort: number;
  readonly tlsDomainName: string;
  readonly keepAlives: boolean;
  readonly outboundProxy: string | undefined;
  readonly logLevel: LogLevel;
  readonly logFilename: string;
  readonly logFileMaxLines: number;
  readonly xmlRpcPort: number;
  readonly httpPort: number;
  readonly httpAuth: boolean;
  readonly httpAuthPwd: string;
  /** TranslationPattern / TranslationOutput / TranslationMode groups, compiled. */
  readonly translationRules: TranslationRules;

  // New settings (decisions.md §2).
  readonly ringTimeout: number;
  readonly maxCallDuration: number;
  readonly holdOffer: HoldOffer;
  readonly defaultMode: CallMode;
  readonly allowAnonymous: boolean;
  readonly httpAuthBasic: boolean;
  readonly xmlAllowFrom: readonly CidrBlock[];
  readonly referAllowFrom: readonly CidrBlock[];
  readonly xmlSecret: string | undefined;
  readonly apiKey: readonly ApiKeyEntry[];
  readonly referUser: readonly ReferUserEntry[];
  readonly sipCredential: readonly SipCredentialEntry[];
  readonly transferPolicy: TransferPolicy;
  readonly transferHookUrl: string | undefined;
  /** Seconds. */
  readonly transferHookTimeout: number;
  readonly hookSecret: string | undefined;
  readonly webhookUrl: readonly string[];
  readonly webhookMaxQueued: number;
  readonly webhookMaxAttempts: number;
  readonly webhookRetryDelay: number;
  readonly webhookMaxRetryDelay: number;
  readonly webhookTimeout: number;
  readonly webhookMaxCallbackUrls: number;
  readonly destinationAllow: readonly CompiledPattern[];
  readonly destinationDeny: readonly CompiledPattern[];
  readonly initiatorAllow: readonly CompiledPattern[];
  readonly initiatorDeny: readonly CompiledPattern[];
  readonly maxCallsPerSecondPerClient: number;
  readonly maxConcurrentCallsPerClient: number;
  readonly limitLoopback: boolean;
  readonly maxConcurrentCalls: number;
  readonly databaseFile: string;
  readonly recordRetentionDays: number;
  readonly drainTimeout: number;
  /** Seconds; 0: no wait. */
  readonly drainHangupTimeout: number;
  readonly traceCalls: number;

  // SIP stack limits and timers, TLS files, XML and REFER limits.
  readonly sipT1: number;
  readonly sipT2: number;
  readonly sipT4: number;
  readonly sipTimerD: number;
  readonly sipMaxMessageSize: number;
  readonly sipMaxHeaders: number;
  readonly sipUdpSlice: number;
  readonly sipUdpMaxQueued: number;
  readonly sipMaxConnectionsPerSource: number;
  readonly sipIdleTimeout: number;
  readonly sipReadTimeout: number;
  readonly keepAliveInterval: number;
  /** Milliseconds, per DNS question. */
  readonly dnsTimeout: number;
  /** Explicit path; undefined: `domain_cert_<TLSDomainName>.pem` (see tlsFilesFor). */
  readonly tlsCertificate: string | undefined;
  readonly tlsPrivateKey: string | undefined;
  /** Inbound SIP TLS asks for a client certificate and refuses peers without a valid one. */
  readonly tlsRequireClientCert: boolean;
  /** PEM file of the CAs that sign accepted client certificates (inbound SIP TLS only). */
  readonly tlsClientCa: string | undefined;
  readonly xmlMaxDocumentSize: number;
  readonly xmlMaxRequestsPerConnection: number;
  readonly xmlMaxConnections: number;
  /** Seconds; 0: never. */
  readonly xmlIdleTimeout: number;
  /** Seconds; 0: destroyed at once. */
  readonly xmlCloseGrace: number;
  readonly xmlMaxWriteBuffer: number;
  readonly httpMaxConnections: number;
  readonly httpMaxBodySize: number;
  readonly httpMaxHeaderSize: number;
  /** Seconds (HttpHeadersTimeout ≤ HttpRequestTimeout). */
  readonly httpHeadersTimeout: number;
  readonly httpRequestTimeout: number;
  readonly httpKeepAliveTimeout: number;
  readonly httpIdleTimeout: number;
  /** Seconds; 0: destroyed at once. */
  readonly httpCloseGrace: number;
  readonly httpMaxRequestsPerSocket: number;
  readonly httpMaxEventStreams: number;
  /** Seconds (HttpEventHeartbeat < HttpIdleTimeout). */
  readonly httpEventHeartbeat: number;
  readonly httpMaxStreamBuffer: number;
  readonly httpEventLogSize: number;
  readonly httpMaxIdempotencyKeys: number;
  /** Seconds. */
  readonly httpNonceLifetime: number;
  readonly httpMaxNonces: number;
  readonly referNonceLifetime: number;
  readonly referMaxNonces: number;
  readonly referNotifyTimeout: number;
}

export type ConfigKey = keyof Config;

/** Which TLS files to use: the explicit settings, or reSIProcate's names in the working directory. */
export function tlsFilesFor(config: Config): { certificate: string; privateKey: string; explicit: boolean } {
  const explicit = config.tlsCertificate !== undefined || config.tlsPrivateKey !== undefined;
  return {
    certificate: config.tlsCertificate ?? `domain_cert_${config.tlsDomainName}.pem`,
    privateKey: config.tlsPrivateKey ?? `domain_key_${config.tlsDomainName}.pem`,
    explicit,
  };
}
