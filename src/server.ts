/**
 * The composition root: builds every part from the configuration and wires the subscribers
 * (architecture.md). No module-level state: two servers can run in one process (tests do).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { networkInterfaces } from 'node:os';
import { newCallIdGenerator } from './call/call-id.js';
import type { Config } from './config/index.js';
import { cidrListContains, listenAddressesFor, tlsFilesFor } from './config/index.js';
import { startSipEndpoint, type SipEndpoint } from './sip/stack/index.js';
import { CountingTimers, realTimers, type TimerHost } from './sip/timer.js';
import type { ListenerSpec, TlsSettings } from './sip/transport/index.js';
import { ServerLocator, createDnsResolver } from './sip/resolve/index.js';
import type { Destination } from './sip/transaction/index.js';
import { EventPublisher } from './call/publisher.js';
import { CallEngine } from './call/engine.js';
import type { CallOptions, PrepareContext } from './call/request.js';
import type { CallDeps } from './api/calls.js';
import { XmlServer } from './api/xml/index.js';
import { xmlHandler } from './api/xml/bridge.js';
import { createAuthHook, createHttpServer, HttpAuthenticator, type HttpServer } from './api/http/index.js';
import { legacyHandler } from './api/http/bridge.js';
import { installSipReferTrigger } from './api/sip-refer/trigger.js';
import { transferHook } from './api/hooks/transfer-hook.js';
import { Metrics } from './metrics/metrics.js';
import { CallTrace } from './call/trace.js';
import { redactSipCredentials } from './log/index.js';
import { opsRoutes } from './api/http/ops.js';
import { pagePlugin } from './api/http/page.js';
import { traceRoutes } from './api/http/trace-route.js';
import { ApiKeyRing, restPlugin } from './api/rest/index.js';
import { restAuthHook } from './api/rest/auth.js';
import { startWebhooks, type Webhooks } from './api/webhooks/index.js';
import { SqliteCallStore, attachStore, startRetention, type CallStore } from './store/index.js';

export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

export interface ServerDeps {
  logger: Logger;
  timers?: TimerHost;
  /** Working directory for reSIProcate-style TLS file names. */
  cwd?: string;
  /** The log's dropped-line counts, exported as clicktocall_log_lines_dropped_total. */
  logDropped?: () => { file: number; console: number };
  /** STACK log level: every SIP message in and out. */
  sipTrace?: (direction: 'in' | 'out', data: Buffer, transport: string, remote: { address: string; port: number }) => void;
}

export interface RunningServer {
  readyLine: string;
  sip: SipEndpoint;
  engine: CallEngine;
  publisher: EventPublisher;
  xml: XmlServer | undefined;
  http: HttpServer | undefined;
  store: CallStore;
  trace: CallTrace;
  counters: { internalErrors: number };
  /**
   * SIGHUP: re-reads the TLS certificate, key and client CA files and serves them to connections
   * accepted from now on. A file that cannot be read or used leaves the old ones serving.
   */
  reloadTls(): TlsReload;
  /** Stop taking calls, let active ones end within `drainMs`, hang up the rest, release everything. */
  shutdown(drainMs?: number): Promise<void>;
}

/** What a TLS reload did: `off` when no TLS listener runs. */
export type TlsReload = { outcome: 'reloaded' } | { outcome: 'off' } | { outcome: 'failed'; error: string };

export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const log = deps.logger;
  // Counted, so that /metrics can show every timer gone once calls have drained (issue 7 soak).
  const timers = new CountingTimers(deps.timers ?? realTimers);
  const counters: { internalErrors: number; metrics?: Metrics } = { internalErrors: 0 };
  const internalError = (err: unknown, where: string) => {
    counters.internalErrors++;
    counters.metrics?.internalError(where);
    log.error({ err, where }, 'internal error');
  };

  // ── metrics: values read from the components at scrape time ──
  let engineRef: CallEngine | undefined;
  let xmlRef: XmlServer | undefined;
  let httpRef: HttpServer | undefined;
  let sipRef: SipEndpoint | undefined;
  let webhooksRef: Webhooks | undefined;
  const metrics = new Metrics({
    activeCalls: () => engineRef?.activeCalls ?? 0,
    sip: () => sipRef?.stack.counts() ?? { transactions: 0, dialogs: 0 },
    xml: () => xmlRef?.counters,
    http: () => httpRef?.counters,
    timers: () => timers.armed,
    logDropped: deps.logDropped,
    // Webhooks run with HTTP, which also serves /metrics: whenever it can be read, both reasons are there (0 at first).
    webhookDropped: () => webhooksRef && { queueFull: webhooksRef.droppedQueueFull, tooManyCallbackUrls: webhooksRef.droppedCallbacks },
  });
  counters.metrics = metrics;

  // ── the ladder: SIP messages of the last TraceCalls calls ──
  const trace = new CallTrace({ maxCalls: config.traceCalls, redact: redactSipCredentials });

  // ── SIP ──
  const bindAll = config.ipAddress === undefined;
  const sipHosts = bindAll ? ['0.0.0.0', '::'] : [config.ipAddress!];
  const listeners: ListenerSpec[] = [];
  for (const address of sipHosts) {
    listeners.push({ transport: 'udp', address, port: config.udpTcpPort }, { transport: 'tcp', address, port: config.udpTcpPort });
  }
  const cwd = deps.cwd ?? process.cwd();
  const tls = loadTls(config, cwd, log);
  if (tls && config.tlsPort !== 0) for (const address of sipHosts) listeners.push({ transport: 'tls', address, port: config.tlsPort });
  const advertised = bindAll ? firstExternalAddress() : config.ipAddress!;
  const locator = new ServerLocator({
    // One wait, DNSTimeout, per question: the resolver's own tries fit inside the locator's deadline.
    resolver: createDnsResolver(config.dnsServers.length ? [...config.dnsServers] : undefined, config.dnsTimeout),
    transports: tls ? ['udp', 'tcp', 'tls'] : ['udp', 'tcp'],
    timeoutMs: config.dnsTimeout,
  });
  const sip = await startSipEndpoint({
    listeners,
    tls: tls ?? undefined,
    timers,
    timerSettings: { t1: config.sipT1, t2: config.sipT2, t4: config.sipT4, timerD: config.sipTimerD },
    limits: {
      maxMessageSize: config.sipMaxMessageSize,
      maxHeaders: config.sipMaxHeaders,
      udpSliceMicros: config.sipUdpSlice,
      udpMaxQueued: config.sipUdpMaxQueued,
      maxConnectionsPerSource: config.sipMaxConnectionsPerSource,
      idleTimeoutMs: config.sipIdleTimeout * 1000,
      readTimeoutMs: config.sipReadTimeout * 1000,
      keepAliveIntervalMs: config.keepAlives ? config.keepAliveInterval * 1000 : 0,
    },
    locate: async (uri) => {
      const targets = await locator.locate({
        host: uri.host, port: uri.port, transport: uri.transport as Destination['transport'] | undefined,
        secure: uri.secure, maddr: uri.params.get('maddr') ?? undefined,
      });
      return targets.map((t) => ({ transport: t.transport, address: t.address, port: t.port, servername: uri.host }));
    },
    outboundProxy: config.outboundProxy,
    // decisions.md §1: a credential answers only its realm, and only for a request that went to
    // the outbound proxy or to the credential's own host. None configured: no lookup at all, so
    // the stack wraps no transaction user in a challenge answerer (one object per INVITE
    // transaction for its 64*T1 in Accepted, issue 6).
    credentialFor: config.sipCredential.length === 0 ? undefined : (realm, dest, req) => {
      for (const c of config.sipCredential) {
        if (c.realm !== realm) continue;
        let host: string | undefined;
        try { host = req.requestUri.host; } catch { host = undefined; }
        const toHost = c.host !== undefined && [host, dest.address, dest.servername].includes(c.host);
        const viaProxy = c.host === undefined && config.outboundProxy !== undefined;
        if (toHost || viaProxy) return { username: c.user, password: c.password };
      }
      return undefined;
    },
    advertisedAddress: advertised,
    contactUser: 'clicktocall',
    userAgent: 'clicktocall',
    observer: (dir, data, transport, remote, message) => {
      counters.metrics?.sipMessage(dir, data, transport);
      if (trace.enabled) trace.observe(dir, data, transport, remote, message);
      deps.sipTrace?.(dir, data, transport, remote);
    },
    onEvent: (e) => {
      if (e.type === 'internal-error') internalError(e.error, `sip ${e.where}`);
      else if (e.type === 'retransmission') counters.metrics?.retransmission();
      else if (e.type === 'parse-error') {
        counters.metrics?.malformed(e.answered);
        log.debug({ reason: e.reason, remote: e.remote, answered: e.answered }, 'malformed SIP message');
      }
    },
    onTransportError: (e) => {
      if (e.code === 'handler-threw' || e.code === 'internal') internalError(e, 'sip transport');
      else log.debug({ code: e.code, remote: e.remote }, e.message);
    },
  });
  sipRef = sip;
  const udp = sip.bound.find((b) => b.transport === 'udp');
  const identity = config.clickToCallIdentity ?? `sip:clicktocall@${hostText(advertised)}:${udp?.port ?? config.udpTcpPort}`;

  // ── call records (decisions.md §7: the store holds a final event before anyone else sees it) ──
  const publisher = new EventPublisher((err) => internalError(err, 'event subscriber'));
  const dbPath = isAbsolute(config.databaseFile) ? config.databaseFile : resolvePath(deps.cwd ?? process.cwd(), config.databaseFile);
  const store = new SqliteCallStore({ path: dbPath, timers, groupCommit: true, reportError: (err) => internalError(err, 'store') });
  store.open();
  const interrupted = store.markInterrupted(Date.now());
  if (interrupted > 0) log.warn({ interrupted }, 'calls in progress at the last stop were marked interrupted');
  const storeAttachment = attachStore(publisher, store);
  const stopRetention = startRetention(store, config.recordRetentionDays, timers, { reportError: (err) => internalError(err, 'retention') });

  // ── engine ──
  // INFO carries how each call ended (and a transfer's outcome): one or two lines per call, not
  // one per step — logging stays off the hot path at INFO (issue 6). The steps are DEBUG.
  publisher.subscribe((e) => {
    const outcome = e.final || e.kind === 'completed' || e.kind === 'transfer-connected' || e.kind === 'transfer-failed' || e.kind === 'transfer-recovered';
    if (!outcome && log.isLevelEnabled?.('debug') === false) return;
    const line = { callId: e.callId, kind: e.kind, leg: e.leg, code: e.code, reason: e.reason };
    if (outcome) log.info(line, e.text);
    else log.debug(line, e.text);
  });
  const engine = new CallEngine({
    stack: sip.stack,
    timers,
    publisher,
    identity,
    ownAddress: advertised,
    policy: config,
    traceLeg: trace.enabled ? (id, sipCallId) => trace.addLeg(id, sipCallId) : undefined,
    onInviteSent: (request) => metrics.inviteSent(request.client.trigger, request.receivedAt!),
    onCallStart: (request) => {
      metrics.callStarted(request.id, request.mode, request.client.trigger);
      storeAttachment.begin(request);
    },
    transferHook: config.transferHookUrl
      ? transferHook({
        url: config.transferHookUrl, secret: config.hookSecret, timeoutMs: config.transferHookTimeout * 1000,
        onError: (err) => log.warn({ err: String(err) }, 'transfer hook failed: using TransferPolicy'),
      })
      : undefined,
    reportError: internalError,
  });
  engineRef = engine;
  publisher.subscribe(metrics.onEvent);
  const defaults: CallOptions = {
    ringTimeoutMs: config.ringTimeout * 1000,
    maxDurationMs: config.maxCallDuration * 1000,
    holdOffer: config.holdOffer,
    referNotifyTimeoutMs: config.referNotifyTimeout * 1000,
    transferPolicy: config.transferPolicy,
  };
  const prepare: PrepareContext = { rules: config.translationRules, defaultMode: config.defaultMode, defaults, newId: newCallIdGenerator() };
  const calls: CallDeps = { engine, publisher, prepare };

  // ── triggers ──
  installSipReferTrigger({
    stack: sip.stack,
    calls,
    allowFrom: config.referAllowFrom,
    users: config.referUser.map((u) => ({ user: u.user, password: u.password })),
    realm: config.tlsDomainName,
    nonceLifetimeMs: config.referNonceLifetime * 1000,
    maxNonces: config.referMaxNonces,
    ownHosts: [...new Set([advertised, ...(config.ipAddress ? [config.ipAddress] : []), hostOf(identity), ...sip.bound.map((b) => b.address)])].map((h) => h.toLowerCase()),
    onRefused: (reason, source) => {
      log.warn({ reason, source }, 'out-of-dialog REFER refused');
      if (reason.startsWith('digest-')) metrics.authFailure('sip-refer', reason);
    },
  });
  let xml: XmlServer | undefined;
  const xmlBound: string[] = [];
  if (config.xmlRpcPort !== 0) {
    xml = new XmlServer({
      hosts: listenAddressesFor(config, 'xml'),
      port: config.xmlRpcPort,
      maxDocumentSize: config.xmlMaxDocumentSize,
      maxOpenRequestsPerConnection: config.xmlMaxRequestsPerConnection,
      maxConnections: config.xmlMaxConnections,
      idleTimeoutMs: config.xmlIdleTimeout * 1000,
      closeGraceMs: config.xmlCloseGrace * 1000,
      maxWriteBufferBytes: config.xmlMaxWriteBuffer,
      allowFrom: config.xmlAllowFrom.length ? (a) => cidrListContains(config.xmlAllowFrom, a) : undefined,
      secret: config.xmlSecret,
      logger: { debug: (o, m) => log.debug(o, m), info: (o, m) => log.info(o, m), warn: (o, m) => log.warn(o, m), error: (o, m) => log.error(o, m) },
      onInternalError: (err) => internalError(err, 'xml'),
    }, xmlHandler(calls));
    for (const a of await xml.listen()) xmlBound.push(hostPort(a.address, a.port));
    xmlRef = xml;
  }

  let http: HttpServer | undefined;
  let webhooks: Webhooks | undefined;
  const httpBound: string[] = [];
  if (config.httpPort !== 0) {
    const httpLog = { info: (o: object, m?: string) => log.info(o, m), warn: (o: object, m?: string) => log.warn(o, m), error: (o: object, m?: string) => log.error(o, m) };
    const admin = config.httpAuth ? new HttpAuthenticator({
      password: config.httpAuthPwd, allowBasic: config.httpAuthBasic,
      nonceTtlMs: config.httpNonceLifetime * 1000, maxTrackedNonces: config.httpMaxNonces,
    }) : undefined;
    const authenticate = admin ? createAuthHook(admin, { logger: httpLog, onFailure: (reason) => metrics.authFailure('http', reason) }) : undefined;
    const onRestAuthFailure = (reason: string) => metrics.authFailure('rest', reason);
    webhooks = startWebhooks({
      publisher, urls: config.webhookUrl, secret: config.hookSecret, timers,
      limits: {
        maxQueued: config.webhookMaxQueued, maxAttempts: config.webhookMaxAttempts, baseDelayMs: config.webhookRetryDelay * 1000,
        maxDelayMs: config.webhookMaxRetryDelay * 1000, attemptTimeoutMs: config.webhookTimeout * 1000,
      },
      maxCallbackUrls: config.webhookMaxCallbackUrls,
      reportError: (err) => internalError(err, 'webhook'),
      onAttempt: (r) => { if (r.outcome !== 'delivered') log.warn({ ...r }, 'webhook delivery'); },
    });
    webhooksRef = webhooks;
    http = createHttpServer(
      {
        hosts: listenAddressesFor(config, 'http'), port: config.httpPort, logger: httpLog, onInternalError: (err) => internalError(err, 'http'),
        maxConnections: config.httpMaxConnections, bodyLimit: config.httpMaxBodySize, maxHeaderSize: config.httpMaxHeaderSize,
        headersTimeoutMs: config.httpHeadersTimeout * 1000, requestTimeoutMs: config.httpRequestTimeout * 1000,
        keepAliveTimeoutMs: config.httpKeepAliveTimeout * 1000, idleTimeoutMs: config.httpIdleTimeout * 1000,
        maxRequestsPerSocket: config.httpMaxRequestsPerSocket, closeGraceMs: config.httpCloseGrace * 1000,
      },
      {
        legacy: { handler: legacyHandler(calls), authenticate, page: false },
        plugins: [restPlugin({ calls, apiKeys: config.apiKey, admin, store, webhooks, timers, logger: httpLog, onAuthFailure: onRestAuthFailure,
          maxStreams: config.httpMaxEventStreams, heartbeatMs: config.httpEventHeartbeat * 1000,
          maxStreamBufferBytes: config.httpMaxStreamBuffer, eventLogSize: config.httpEventLogSize,
          maxIdempotencyKeys: config.httpMaxIdempotencyKeys }), pagePlugin(),
          traceRoutes(trace, { authenticate: restAuthHook({ keys: new ApiKeyRing(config.apiKey), admin, logger: httpLog, onFailure: onRestAuthFailure }) }), opsRoutes({
          metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
          readiness: () => ({
            sip: sip.bound.length > 0 ? undefined : 'no SIP listener',
            store: storeWritable(store),
          }),
        })],
      },
    );
    for (const a of await http.listen()) httpBound.push(hostPort(a.address, a.port));
    httpRef = http;
  }

  const readyLine = [
    'ready',
    `sip=${sip.bound.map((b) => `${b.transport}:${hostPort(b.address, b.port)}`).join(',')}`,
    `http=${httpBound.join(',') || 'off'}`,
    `xml=${xmlBound.join(',') || 'off'}`,
  ].join(' ');
  log.info({ identity, advertised }, 'SIP identity');

  let stopping: Promise<void> | undefined;
  return {
    readyLine, sip, engine, publisher, xml, http, store, trace, counters,
    reloadTls() {
      if (!tls || !sip.bound.some((b) => b.transport === 'tls')) return { outcome: 'off' };
      try {
        sip.transport.reloadTls(readTlsFiles(config, cwd));
        return { outcome: 'reloaded' };
      } catch (err) {
        return { outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
    },
    shutdown(drainMs = config.drainTimeout * 1000) {
      stopping ??= (async () => {
        engine.drain();
        const end = Date.now() + drainMs;
        while (engine.activeCalls > 0 && Date.now() < end) await sleep(50);
        engine.endAll();
        // Let the BYEs and CANCELs go out and be answered (bounded: DrainHangupTimeout). Once
        // answered, their transactions only wait out T4 or 64*T1 (UDP): not worth staying for.
        const byeEnd = Date.now() + config.drainHangupTimeout * 1000;
        while (sip.stack.awaitingAnswers() > 0 && Date.now() < byeEnd) await sleep(20);
        // Only now: a BYE to a Contact given by host name may itself need DNS. What is still
        // asking (a call ended before its INVITE found an address) has no one left to answer.
        locator.cancelQueries();
        await xml?.close();
        await http?.close();
        webhooks?.stop();
        await sip.close();
        stopRetention();
        metrics.close();
        storeAttachment.detach();
        store.close();
      })();
      return stopping;
    },
  };
}

function loadTls(config: Config, cwd: string, log: Logger): TlsSettings | undefined {
  if (config.tlsPort === 0) return undefined;
  const files = tlsFilesFor(config);
  const cert = inDir(cwd, files.certificate);
  const key = inDir(cwd, files.privateKey);
  if (!existsSync(cert) || !existsSync(key)) {
    if (files.explicit) throw new Error(`TLS: certificate ${cert} or key ${key} not found (TLSCertificate/TLSPrivateKey)`);
    log.info({ cert, key }, 'TLS transport off: no certificate/key files for the TLS domain');
    return undefined;
  }
  // Without a CA of our own Node would accept any client certificate from the public roots.
  if (config.tlsRequireClientCert && config.tlsClientCa === undefined) {
    throw new Error('TLS: TLSRequireClientCert = true needs TLSClientCA (the CA file that signs the accepted client certificates)');
  }
  return readTlsFiles(config, cwd);
}

/** Reads the TLS files the configuration names (again, on SIGHUP); throws with the file at fault. */
function readTlsFiles(config: Config, cwd: string): TlsSettings {
  const files = tlsFilesFor(config);
  const read = (setting: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${setting} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const settings: TlsSettings = {
    cert: read('TLSCertificate', inDir(cwd, files.certificate)),
    key: read('TLSPrivateKey', inDir(cwd, files.privateKey)),
    minVersion: 'TLSv1.2',
  };
  if (config.tlsClientCa !== undefined) settings.clientCa = [read('TLSClientCA', inDir(cwd, config.tlsClientCa))];
  if (config.tlsRequireClientCert) settings.requestCert = true;
  return settings;
}

function inDir(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolvePath(cwd, path);
}

function firstExternalAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function storeWritable(store: CallStore): string | undefined {
  try {
    store.flush();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function hostOf(uri: string): string {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)/i.exec(uri);
  return m ? m[1]!.replace(/^\[|\]$/g, '') : uri;
}

function hostText(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function hostPort(address: string, port: number): string {
  return `${hostText(address)}:${port}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
