// The one table of every setting: name, aliases, type, default, whether it repeats, and the
// description docs/configuration.md is written from. Parsing, the command line and the docs
// test all read this table; nothing else lists settings.
import { TranslationRules } from '../call/translate.js';
import type { Config, ConfigKey } from './config.js';

export type SettingType =
  | { readonly kind: 'string' }
  | { readonly kind: 'path' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly unit?: string; readonly port?: true }
  | { readonly kind: 'bool' }
  /** A SIP URI or name-addr; without a scheme it is retried with `sip:` prefixed. */
  | { readonly kind: 'uri' }
  /** An http: or https: URL. */
  | { readonly kind: 'url' }
  | { readonly kind: 'ip' }
  /** DNS servers: IP addresses, each with an optional port (`1.2.3.4:5353`, `[::1]:5353`), separated by commas, semicolons or blanks. */
  | { readonly kind: 'dns-server-list' }
  /** Addresses or CIDR blocks, separated by commas or blanks; the setting may repeat. */
  | { readonly kind: 'cidr-list' }
  | { readonly kind: 'enum'; readonly values: readonly string[]; readonly aliases?: Readonly<Record<string, string>> }
  /** `|`-separated fields; `required` of them must be present. */
  | { readonly kind: 'fields'; readonly fields: readonly string[]; readonly required: number; readonly record: 'api-key' | 'refer-user' | 'sip-credential' }
  /** A pattern of the translation dialect (decisions.md §5). */
  | { readonly kind: 'regex' }
  /** A translation output template (`$1`–`$9`). */
  | { readonly kind: 'template' };

export type SettingGroup = 'legacy' | 'new' | 'sip';

interface SettingBase {
  /** Canonical spelling (names are case-insensitive). */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly type: SettingType;
  /** The setting may appear many times; each occurrence adds to the list. */
  readonly repeats: boolean;
  readonly description: string;
  readonly group: SettingGroup;
  /** Never echoed in messages; a WARNING when given on the command line. */
  readonly secret?: true;
  /** How the default reads in the docs when it is not a plain value. */
  readonly defaultText?: string;
}

export type SettingDef = {
  [K in ConfigKey]: SettingBase & { readonly key: K; readonly default: Config[K] };
}[ConfigKey];

const port = { kind: 'int', min: 0, max: 65535, port: true } as const;
const seconds = (min: number, max: number) => ({ kind: 'int', min, max, unit: 's' }) as const;
const millis = (min: number, max: number) => ({ kind: 'int', min, max, unit: 'ms' }) as const;
const micros = (min: number, max: number) => ({ kind: 'int', min, max, unit: 'us' }) as const;
const count = (min: number, max: number) => ({ kind: 'int', min, max }) as const;
const bool = { kind: 'bool' } as const;
const text = { kind: 'string' } as const;
const MODES = ['refer', 'anchored', 'ood-refer'] as const;

export const SETTINGS: readonly SettingDef[] = [
  // ── Legacy settings: same names, syntax and defaults as reSIProcate's clicktocall ──
  { key: 'ipAddress', name: 'IPAddress', aliases: [], type: { kind: 'ip' }, default: undefined, repeats: false, group: 'legacy',
    defaultText: '(all addresses)', description: 'Local IP address the SIP transports bind to; blank: all addresses.' },
  { key: 'dnsServers', name: 'DNSServers', aliases: [], type: { kind: 'dns-server-list' }, default: [], repeats: false, group: 'legacy',
    defaultText: '(the system\'s)', description: 'DNS servers (comma, semicolon or blank separated) overriding the system\'s list, each an IP address with an optional port (`10.0.0.53:5353`, `[::1]:5353`; port 53 when none); blank: the system\'s.' },
  { key: 'clickToCallIdentity', name: 'ClickToCallIdentity', aliases: [], type: { kind: 'uri' }, default: undefined, repeats: false, group: 'legacy',
    defaultText: '`sip:clicktocall@<SIP address>`', description: 'SIP URI in the From of the INVITE to the initiator (display name `Click-To-Call: <destination user>` is added).' },
  { key: 'udpTcpPort', name: 'UDPTCPPort', aliases: [], type: port, default: 5072, repeats: false, group: 'legacy',
    description: 'SIP port for UDP and TCP; 0 disables both.' },
  { key: 'tlsPort', name: 'TLSPort', aliases: [], type: port, default: 5073, repeats: false, group: 'legacy',
    description: 'SIP port for TLS; 0 disables it. TLS starts only when its certificate and key are present.' },
  { key: 'tlsDomainName', name: 'TLSDomainName', aliases: ['TLSDomain'], type: text, default: '', repeats: false, group: 'legacy',
    defaultText: 'the local host name', description: 'TLS domain of this server; names the certificate files `domain_cert_<domain>.pem` and `domain_key_<domain>.pem`.' },
  { key: 'keepAlives', name: 'KeepAlives', aliases: [], type: bool, default: true, repeats: false, group: 'legacy',
    description: 'Send CRLFCRLF keep-alives to SIP peers (RFC 5626 §4.4.1) every KeepAliveInterval seconds.' },
  { key: 'outboundProxy', name: 'OutboundProxy', aliases: [], type: { kind: 'uri' }, default: undefined, repeats: false, group: 'legacy',
    defaultText: '(none)', description: 'SIP URI of an outbound proxy every request is sent through.' },
  { key: 'logLevel', name: 'LogLevel', aliases: [], type: { kind: 'enum', values: ['NONE', 'CRIT', 'ERR', 'WARNING', 'INFO', 'DEBUG', 'STACK'] }, default: 'INFO', repeats: false, group: 'legacy',
    description: 'How much is logged: NONE, CRIT, ERR, WARNING, INFO, DEBUG or STACK (any case).' },
  { key: 'logFilename', name: 'LogFilename', aliases: [], type: { kind: 'path' }, default: 'clicktocall.log', repeats: false, group: 'legacy',
    description: 'File the log is written to (relative to the working directory).' },
  { key: 'logFileMaxLines', name: 'LogFileMaxLines', aliases: [], type: count(0, 1_000_000_000), default: 50000, repeats: false, group: 'legacy',
    description: 'Lines after which a new log file is started (50000 lines ≈ 5 MB); 0: never.' },
  { key: 'xmlRpcPort', name: 'XmlRpcPort', aliases: [], type: port, default: 5094, repeats: false, group: 'legacy',
    description: 'TCP port of the XML interface; 0 disables it.' },
  { key: 'httpPort', name: 'HttpPort', aliases: [], type: port, default: 5095, repeats: false, group: 'legacy',
    description: 'TCP port of all HTTP (legacy GET, REST, page, health, metrics); 0 disables all HTTP.' },
  { key: 'httpAuth', name: 'HttpAuth', aliases: [], type: bool, default: false, repeats: false, group: 'legacy',
    description: 'Require the admin credentials (user `admin`, password HttpAuthPwd) for the legacy GET and REST.' },
  { key: 'httpAuthPwd', name: 'HttpAuthPwd', aliases: [], type: text, default: 'admin', repeats: false, group: 'legacy', secret: true,
    description: 'Password of the user `admin`. Left at `admin`, the HTTP trigger counts as open.' },
  { key: 'translationRules', name: 'TranslationPattern', aliases: [], type: { kind: 'regex' }, default: TranslationRules.empty, repeats: true, group: 'legacy',
    defaultText: '(none)', description: 'Starts a translation rule: a pattern found anywhere in the address (first rule found wins).' },
  { key: 'translationRules', name: 'TranslationOutput', aliases: [], type: { kind: 'template' }, default: TranslationRules.empty, repeats: true, group: 'legacy',
    defaultText: '(none)', description: 'Completes the rule above: the URI, with `$1`–`$9` replaced by the pattern\'s groups.' },

  // ── New settings (decisions.md §1, §2) ──
  { key: 'translationRules', name: 'TranslationMode', aliases: [], type: { kind: 'enum', values: MODES }, default: TranslationRules.empty, repeats: true, group: 'new',
    defaultText: '(none)', description: 'Optional, right after a TranslationOutput: the mode of calls whose initiator matched that rule.' },
  { key: 'ringTimeout', name: 'RingTimeout', aliases: [], type: seconds(1, 3600), default: 60, repeats: false, group: 'new',
    description: 'Seconds a leg may ring before it is CANCELled and reported as 408.' },
  { key: 'maxCallDuration', name: 'MaxCallDuration', aliases: [], type: seconds(1, 31_536_000), default: 14400, repeats: false, group: 'new',
    description: 'Seconds after which both legs get BYE.' },
  { key: 'holdOffer', name: 'HoldOffer', aliases: [], type: { kind: 'enum', values: ['c0-inactive', 'inactive', 'none'] }, default: 'c0-inactive', repeats: false, group: 'new',
    description: 'Offer sent to the initiator: `c0-inactive` (c=0.0.0.0, a=inactive), `inactive` (own address), `none` (late offer).' },
  { key: 'defaultMode', name: 'DefaultMode', aliases: [], type: { kind: 'enum', values: MODES }, default: 'refer', repeats: false, group: 'new',
    description: 'Mode of a call that names none: `refer`, `anchored` or `ood-refer`.' },
  { key: 'allowAnonymous', name: 'AllowAnonymous', aliases: [], type: bool, default: false, repeats: false, group: 'new',
    description: 'Let the open legacy triggers (HTTP GET, XML) listen on all addresses, as the replaced system did. Never concerns REST.' },
  { key: 'httpAuthBasic', name: 'HttpAuthBasic', aliases: [], type: bool, default: true, repeats: false, group: 'new',
    description: 'With HttpAuth on, also offer and accept HTTP Basic (existing clients send it); false: Digest only.' },
  { key: 'xmlAllowFrom', name: 'XmlAllowFrom', aliases: [], type: { kind: 'cidr-list' }, default: [], repeats: true, group: 'new',
    defaultText: '(none)', description: 'Addresses or CIDR blocks allowed to use the XML interface; any entry protects it.' },
  { key: 'referAllowFrom', name: 'ReferAllowFrom', aliases: [], type: { kind: 'cidr-list' }, default: [], repeats: true, group: 'new',
    defaultText: '(none)', description: 'Addresses or CIDR blocks allowed to send out-of-dialog REFER (TCP/TLS alone; over UDP with digest too).' },
  { key: 'xmlSecret', name: 'XmlSecret', aliases: [], type: text, default: undefined, repeats: false, group: 'new', secret: true,
    defaultText: '(none)', description: 'Required `<Secret>` inside `<Request>`; never echoed or logged.' },
  { key: 'apiKey', name: 'ApiKey', aliases: [], type: { kind: 'fields', fields: ['name', 'sha256hex', 'callsPerSecond'], required: 2, record: 'api-key' }, default: [], repeats: true, group: 'new', secret: true,
    defaultText: '(none)', description: 'REST key `name|sha256hex[|callsPerSecond]`; `clicktocall hash-key` prints a new key and its hash.' },
  { key: 'referUser', name: 'ReferUser', aliases: [], type: { kind: 'fields', fields: ['user', 'password'], required: 2, record: 'refer-user' }, default: [], repeats: true, group: 'new', secret: true,
    defaultText: '(none)', description: 'Digest credentials `user|password` accepted on inbound out-of-dialog REFER.' },
  { key: 'sipCredential', name: 'SipCredential', aliases: [], type: { kind: 'fields', fields: ['realm', 'user', 'password', 'host'], required: 3, record: 'sip-credential' }, default: [], repeats: true, group: 'new', secret: true,
    defaultText: '(none)', description: 'Credentials `realm|user|password[|host]` answering a 401/407 of that realm from the outbound proxy or the host.' },
  { key: 'transferPolicy', name: 'TransferPolicy', aliases: [], type: { kind: 'enum', values: ['handle', 'passthrough', 'reject'], aliases: { 'pass-through': 'passthrough' } }, default: 'handle', repeats: false, group: 'new',
    description: 'REFER from a phone during an anchored call (RFC 5589): `handle` (the server calls the target and moves the other party to it), `passthrough` (a new REFER to the other phone, NOTIFYs relayed back), `reject` (603). With TransferHookUrl set, the hook is asked first and may choose.' },
  { key: 'transferHookUrl', name: 'TransferHookUrl', aliases: [], type: { kind: 'url' }, default: undefined, repeats: false, group: 'new',
    defaultText: '(none)', description: 'URL asked (JSON POST, signed) what to do with each transfer before acting: approve, rewrite the target, choose the policy, or deny.' },
  { key: 'transferHookTimeout', name: 'TransferHookTimeout', aliases: [], type: seconds(1, 30), default: 3, repeats: false, group: 'new',
    description: 'Seconds the transfer hook may take (connect, send, the whole answer) before the transfer goes on as TransferPolicy says; the transferor\'s REFER waits meanwhile, and its transaction gives up after 64×T1 (32 s with the default T1).' },
  { key: 'hookSecret', name: 'HookSecret', aliases: [], type: text, default: undefined, repeats: false, group: 'new', secret: true,
    defaultText: '(none)', description: 'Key of the `Clicktocall-Signature` HMAC on transfer-hook and webhook requests.' },
  { key: 'webhookUrl', name: 'WebhookUrl', aliases: [], type: { kind: 'url' }, default: [], repeats: true, group: 'new',
    defaultText: '(none)', description: 'URL receiving every call event (one line per URL).' },
  { key: 'webhookMaxQueued', name: 'WebhookMaxQueued', aliases: [], type: count(1, 1_000_000), default: 1000, repeats: false, group: 'new',
    description: 'Deliveries waiting per webhook URL while its receiver is slow or down; beyond, the oldest is dropped (and counted).' },
  { key: 'webhookMaxAttempts', name: 'WebhookMaxAttempts', aliases: [], type: count(1, 100), default: 5, repeats: false, group: 'new',
    description: 'Attempts per webhook delivery, the first included, before it is given up.' },
  { key: 'webhookRetryDelay', name: 'WebhookRetryDelay', aliases: [], type: seconds(1, 3600), default: 1, repeats: false, group: 'new',
    description: 'Seconds before the second attempt of a webhook delivery; doubled for each further one (or longer when the receiver asks with Retry-After).' },
  { key: 'webhookMaxRetryDelay', name: 'WebhookMaxRetryDelay', aliases: [], type: seconds(1, 86400), default: 60, repeats: false, group: 'new',
    description: 'Longest wait between two attempts of a webhook delivery.' },
  { key: 'webhookTimeout', name: 'WebhookTimeout', aliases: [], type: seconds(1, 300), default: 5, repeats: false, group: 'new',
    description: 'Seconds one webhook attempt may take (connect, send, answer headers) before it counts as failed.' },
  { key: 'webhookMaxCallbackUrls', name: 'WebhookMaxCallbackUrls', aliases: [], type: count(1, 100_000), default: 1000, repeats: false, group: 'new',
    description: 'Distinct statusCallback URLs (REST) with deliveries pending at once; an event for a further URL is dropped (and counted) until one of them has no work left.' },
  { key: 'destinationAllow', name: 'DestinationAllow', aliases: [], type: { kind: 'regex' }, default: [], repeats: true, group: 'new',
    defaultText: '(all)', description: 'Patterns a translated destination (and every other target the server calls) must match; none: all allowed.' },
  { key: 'destinationDeny', name: 'DestinationDeny', aliases: [], type: { kind: 'regex' }, default: [], repeats: true, group: 'new',
    defaultText: '(none)', description: 'Patterns refused as targets; deny wins over allow.' },
  { key: 'initiatorAllow', name: 'InitiatorAllow', aliases: [], type: { kind: 'regex' }, default: [], repeats: true, group: 'new',
    defaultText: '(all)', description: 'Patterns a translated initiator must match; none: all allowed.' },
  { key: 'initiatorDeny', name: 'InitiatorDeny', aliases: [], type: { kind: 'regex' }, default: [], repeats: true, group: 'new',
    defaultText: '(none)', description: 'Patterns refused as initiators; deny wins over allow.' },
  { key: 'maxCallsPerSecondPerClient', name: 'MaxCallsPerSecondPerClient', aliases: [], type: count(1, 1_000_000), default: 5, repeats: false, group: 'new',
    description: 'New calls per second per client address (IPv6 by /64); loopback exempt unless LimitLoopback.' },
  { key: 'maxConcurrentCallsPerClient', name: 'MaxConcurrentCallsPerClient', aliases: [], type: count(1, 10_000_000), default: 10, repeats: false, group: 'new',
    description: 'Calls in progress per client address (IPv6 by /64); loopback exempt unless LimitLoopback.' },
  { key: 'limitLoopback', name: 'LimitLoopback', aliases: [], type: bool, default: false, repeats: false, group: 'new',
    description: 'Apply the per-client limits to loopback clients too.' },
  { key: 'maxConcurrentCalls', name: 'MaxConcurrentCalls', aliases: [], type: count(1, 10_000_000), default: 10000, repeats: false, group: 'new',
    description: 'Calls in progress in the whole server; beyond it new calls are refused with 503.' },
  { key: 'databaseFile', name: 'DatabaseFile', aliases: [], type: { kind: 'path' }, default: 'data/clicktocall.db', repeats: false, group: 'new',
    description: 'SQLite file of the call records.' },
  { key: 'recordRetentionDays', name: 'RecordRetentionDays', aliases: [], type: count(0, 36500), default: 90, repeats: false, group: 'new',
    description: 'Days call records are kept; 0 keeps them for ever.' },
  { key: 'drainTimeout', name: 'DrainTimeout', aliases: [], type: seconds(0, 86400), default: 30, repeats: false, group: 'new',
    description: 'Seconds a shutdown waits for calls in progress before ending them.' },
  { key: 'drainHangupTimeout', name: 'DrainHangupTimeout', aliases: [], type: seconds(0, 300), default: 2, repeats: false, group: 'new',
    description: 'Seconds a shutdown then waits for the BYEs and CANCELs that end the remaining calls to be answered, less once every one has its answer; 0: they are sent and the server stops at once.' },
  { key: 'traceCalls', name: 'TraceCalls', aliases: [], type: count(0, 1_000_000), default: 1000, repeats: false, group: 'new',
    description: 'Number of recent calls whose SIP messages are kept for the ladder (in a ring of TraceCalls × 16 KiB, at most 256 MiB); 0: none.' },

  // ── SIP stack limits and timers, TLS files, XML and REFER limits ──
  { key: 'sipT1', name: 'SipT1', aliases: [], type: millis(1, 60_000), default: 500, repeats: false, group: 'sip',
    description: 'RFC 3261 §17.1.1.1 T1: round-trip estimate, in milliseconds.' },
  { key: 'sipT2', name: 'SipT2', aliases: [], type: millis(1, 600_000), default: 4000, repeats: false, group: 'sip',
    description: 'RFC 3261 §17.1.2.2 T2: longest retransmit interval of non-INVITE requests and INVITE responses, in milliseconds.' },
  { key: 'sipT4', name: 'SipT4', aliases: [], type: millis(0, 600_000), default: 5000, repeats: false, group: 'sip',
    description: 'RFC 3261 §17.1.2.2 T4: longest time a message stays in the network, in milliseconds.' },
  { key: 'sipTimerD', name: 'SipTimerD', aliases: [], type: millis(0, 600_000), default: 32000, repeats: false, group: 'sip',
    description: 'RFC 3261 §17.1.1.2 Timer D over UDP: how long an INVITE client transaction absorbs retransmitted final responses, in milliseconds (at least 32 s for peers with the default T1).' },
  { key: 'sipMaxMessageSize', name: 'SipMaxMessageSize', aliases: [], type: count(1024, 16_777_216), default: 65535, repeats: false, group: 'sip',
    description: 'Largest SIP message accepted, in bytes; a larger one is dropped (UDP) or answered 513 and the connection closed (stream).' },
  { key: 'sipMaxHeaders', name: 'SipMaxHeaders', aliases: [], type: count(10, 100_000), default: 200, repeats: false, group: 'sip',
    description: 'Most header lines accepted in one SIP message.' },
  { key: 'sipUdpSlice', name: 'SipUdpSlice', aliases: [], type: micros(0, 100_000), default: 250, repeats: false, group: 'sip',
    description: 'Microseconds of received UDP messages handled at a time before the server looks at its other sockets again (a click-to-call request is then not kept waiting behind a burst of SIP traffic); 0: each datagram is handled as soon as it is read.' },
  { key: 'sipUdpMaxQueued', name: 'SipUdpMaxQueued', aliases: [], type: count(1, 1_000_000), default: 4096, repeats: false, group: 'sip',
    description: 'Most received UDP messages waiting to be handled; when this many wait (or 4 MiB of them, the receive buffer asked of the socket), all of them are handled at once (the socket buffer then holds what follows).' },
  { key: 'sipMaxConnectionsPerSource', name: 'SipMaxConnectionsPerSource', aliases: [], type: count(1, 65535), default: 32, repeats: false, group: 'sip',
    description: 'Most inbound TCP/TLS connections from one address.' },
  { key: 'sipIdleTimeout', name: 'SipIdleTimeout', aliases: [], type: seconds(1, 86400), default: 120, repeats: false, group: 'sip',
    description: 'Seconds after which an idle TCP/TLS connection is closed.' },
  { key: 'sipReadTimeout', name: 'SipReadTimeout', aliases: [], type: seconds(1, 3600), default: 10, repeats: false, group: 'sip',
    description: 'Seconds within which a message begun on a stream must be complete.' },
  { key: 'keepAliveInterval', name: 'KeepAliveInterval', aliases: [], type: seconds(1, 3600), default: 30, repeats: false, group: 'sip',
    description: 'Seconds between keep-alives when KeepAlives is on.' },
  { key: 'dnsTimeout', name: 'DNSTimeout', aliases: [], type: millis(100, 60_000), default: 4000, repeats: false, group: 'sip',
    description: 'Milliseconds one DNS question (NAPTR, SRV, A or AAAA) may take before it counts as unanswered; the resolver asks again after half of it. Locating a host name takes up to three rounds of questions (NAPTR, SRV, then A/AAAA; with a port, A/AAAA only), so a DNS server that never answers fails a request after up to three times this.' },
  { key: 'tlsCertificate', name: 'TLSCertificate', aliases: [], type: { kind: 'path' }, default: undefined, repeats: false, group: 'sip',
    defaultText: '`domain_cert_<TLSDomainName>.pem`', description: 'PEM certificate (chain) of the TLS transport; relative to the working directory.' },
  { key: 'tlsPrivateKey', name: 'TLSPrivateKey', aliases: [], type: { kind: 'path' }, default: undefined, repeats: false, group: 'sip',
    defaultText: '`domain_key_<TLSDomainName>.pem`', description: 'PEM private key of the TLS transport; relative to the working directory.' },
  { key: 'tlsRequireClientCert', name: 'TLSRequireClientCert', aliases: [], type: bool, default: false, repeats: false, group: 'sip',
    description: 'Inbound SIP TLS: refuse a peer that presents no certificate signed by TLSClientCA (mutual TLS). Needs TLSClientCA.' },
  { key: 'tlsClientCa', name: 'TLSClientCA', aliases: [], type: { kind: 'path' }, default: undefined, repeats: false, group: 'sip',
    defaultText: '(none)', description: 'PEM file of the CA certificates that sign the client certificates accepted on inbound SIP TLS; outbound TLS still verifies servers against the system\'s roots.' },
  { key: 'xmlMaxDocumentSize', name: 'XmlMaxDocumentSize', aliases: [], type: count(256, 16_777_216), default: 65536, repeats: false, group: 'sip',
    description: 'Largest XML request, in bytes; beyond it the connection is answered 400 and closed.' },
  { key: 'xmlMaxRequestsPerConnection', name: 'XmlMaxRequestsPerConnection', aliases: [], type: count(1, 1_000_000), default: 100, repeats: false, group: 'sip',
    description: 'Most requests on one XML connection.' },
  { key: 'xmlMaxConnections', name: 'XmlMaxConnections', aliases: [], type: count(1, 100_000), default: 60, repeats: false, group: 'sip',
    description: 'Most XML connections at once; a new one beyond closes the oldest.' },
  { key: 'xmlIdleTimeout', name: 'XmlIdleTimeout', aliases: [], type: seconds(0, 86400), default: 600, repeats: false, group: 'sip',
    description: 'Seconds after which an XML connection with no open request and no input is closed; 0: never.' },
  { key: 'xmlCloseGrace', name: 'XmlCloseGrace', aliases: [], type: seconds(0, 60), default: 1, repeats: false, group: 'sip',
    description: 'Seconds an XML connection that the server closes (idle, a fatal error, shutdown) may take to send its last answers before it is destroyed; 0: destroyed at once. A shutdown waits this long at most for a client that does not read.' },
  { key: 'xmlMaxWriteBuffer', name: 'XmlMaxWriteBuffer', aliases: [], type: count(4096, 1_073_741_824), default: 1_048_576, repeats: false, group: 'sip',
    description: 'Bytes of answers and events queued for an XML client that does not read them; beyond, the connection is dropped.' },
  { key: 'httpMaxConnections', name: 'HttpMaxConnections', aliases: [], type: count(1, 1_000_000), default: 1024, repeats: false, group: 'sip',
    description: 'Most HTTP connections per listening address; beyond, new ones are closed at once.' },
  { key: 'httpMaxBodySize', name: 'HttpMaxBodySize', aliases: [], type: count(1024, 16_777_216), default: 65536, repeats: false, group: 'sip',
    description: 'Largest HTTP request body, in bytes; beyond it the answer is 413.' },
  { key: 'httpMaxHeaderSize', name: 'HttpMaxHeaderSize', aliases: [], type: count(1024, 1_048_576), default: 16384, repeats: false, group: 'sip',
    description: 'Largest HTTP request line and header section, in bytes; beyond it the answer is 431.' },
  { key: 'httpHeadersTimeout', name: 'HttpHeadersTimeout', aliases: [], type: seconds(1, 3600), default: 10, repeats: false, group: 'sip',
    description: 'Seconds allowed to receive an HTTP request\'s header section (408 and close beyond); at most HttpRequestTimeout.' },
  { key: 'httpRequestTimeout', name: 'HttpRequestTimeout', aliases: [], type: seconds(1, 3600), default: 30, repeats: false, group: 'sip',
    description: 'Seconds allowed to receive a whole HTTP request (408 and close beyond).' },
  { key: 'httpKeepAliveTimeout', name: 'HttpKeepAliveTimeout', aliases: [], type: seconds(1, 3600), default: 5, repeats: false, group: 'sip',
    description: 'Seconds an idle keep-alive HTTP connection waits for its next request.' },
  { key: 'httpIdleTimeout', name: 'HttpIdleTimeout', aliases: [], type: seconds(16, 86400), default: 60, repeats: false, group: 'sip',
    description: 'Seconds without any traffic after which an HTTP connection is destroyed; more than HttpEventHeartbeat, so that an event stream with no events stays open.' },
  { key: 'httpCloseGrace', name: 'HttpCloseGrace', aliases: [], type: seconds(0, 60), default: 1, repeats: false, group: 'sip',
    description: 'Seconds a stopping server lets HTTP requests in progress finish (a request still arriving, an answer still being sent) before their connections are destroyed; 0: destroyed at once.' },
  { key: 'httpMaxRequestsPerSocket', name: 'HttpMaxRequestsPerSocket', aliases: [], type: count(1, 1_000_000), default: 1000, repeats: false, group: 'sip',
    description: 'Requests on one keep-alive HTTP connection before it is closed.' },
  { key: 'httpMaxEventStreams', name: 'HttpMaxEventStreams', aliases: [], type: count(1, 100_000), default: 100, repeats: false, group: 'sip',
    description: 'Server-sent event streams (REST) open at once; beyond, the answer is 503.' },
  { key: 'httpEventHeartbeat', name: 'HttpEventHeartbeat', aliases: [], type: seconds(1, 3600), default: 15, repeats: false, group: 'sip',
    description: 'Seconds between the `: ping` comments of an event stream (REST), which keep proxies and the idle timeout from closing it; less than HttpIdleTimeout.' },
  { key: 'httpMaxStreamBuffer', name: 'HttpMaxStreamBuffer', aliases: [], type: count(4096, 1_073_741_824), default: 1_048_576, repeats: false, group: 'sip',
    description: 'Bytes an event stream may queue for a client that reads too slowly; beyond, the stream is closed (the client resumes with Last-Event-ID).' },
  { key: 'httpEventLogSize', name: 'HttpEventLogSize', aliases: [], type: count(100, 10_000_000), default: 10000, repeats: false, group: 'sip',
    description: 'Recent events held for event streams that resume with Last-Event-ID; older ones are announced as no longer held.' },
  { key: 'httpMaxIdempotencyKeys', name: 'HttpMaxIdempotencyKeys', aliases: [], type: count(100, 10_000_000), default: 10000, repeats: false, group: 'sip',
    description: 'Idempotency-Key values of POST /v1/calls remembered (each for 24 h); beyond, the oldest are forgotten.' },
  { key: 'httpNonceLifetime', name: 'HttpNonceLifetime', aliases: [], type: seconds(10, 86400), default: 300, repeats: false, group: 'sip',
    description: 'Seconds a digest nonce of the HTTP admin login stays valid (then `stale=true`).' },
  { key: 'httpMaxNonces', name: 'HttpMaxNonces', aliases: [], type: count(16, 1_000_000), default: 4096, repeats: false, group: 'sip',
    description: 'Digest nonces of the HTTP admin login whose use count is remembered (replay protection).' },
  { key: 'referNonceLifetime', name: 'ReferNonceLifetime', aliases: [], type: seconds(10, 86400), default: 300, repeats: false, group: 'sip',
    description: 'Seconds a digest nonce of inbound out-of-dialog REFER (ReferUser) stays valid (then `stale=true`).' },
  { key: 'referMaxNonces', name: 'ReferMaxNonces', aliases: [], type: count(16, 1_000_000), default: 10000, repeats: false, group: 'sip',
    description: 'Digest nonces of inbound out-of-dialog REFER whose use count is remembered (replay protection); beyond, the oldest are forgotten.' },
  { key: 'referNotifyTimeout', name: 'ReferNotifyTimeout', aliases: [], type: seconds(1, 3600), default: 32, repeats: false, group: 'sip',
    description: 'Seconds to wait for the final NOTIFY of a REFER before the call fails with 408.' },
];

const byLowerName = new Map<string, SettingDef>();
for (const def of SETTINGS) {
  for (const n of [def.name, ...def.aliases]) byLowerName.set(n.toLowerCase(), def);
}

/** The setting a name (any case, or an alias) stands for. */
export function findSetting(name: string): SettingDef | undefined {
  return byLowerName.get(name.toLowerCase());
}

/** Every setting's default, as a Config (TLSDomainName filled with the host name given). */
export function defaultConfig(hostName: string): Config {
  const values: Record<string, unknown> = {};
  for (const def of SETTINGS) values[def.key] = def.default;
  values.tlsDomainName = hostName;
  return Object.freeze(values) as unknown as Config;
}

/** How a setting's default reads in the docs. */
export function defaultTextFor(def: SettingDef): string {
  if (def.defaultText !== undefined) return def.defaultText;
  const value: unknown = def.default;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === undefined) return '(none)';
  return '`' + String(value) + '`';
}
