/**
 * The REST API `/v1` (issue 5) as a Fastify plugin for `createHttpServer(…, {plugins})`:
 * place, read, list and hang up calls, follow their events as Server-Sent Events, and
 * `GET /openapi.json` built from these routes' schemas. Calls go through `submitCall`, the path
 * every trigger shares; webhooks are `startWebhooks` (src/api/webhooks), handed in.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CallDeps } from '../calls.js';
import { submitCall } from '../calls.js';
import type { CallEvent } from '../../call/events.js';
import type { CallOptions } from '../../call/request.js';
import type { ApiKeyEntry } from '../../config/config.js';
import type { HttpAuthenticator } from '../http/auth.js';
import type { HttpLogger } from '../http/types.js';
import { realTimers, type TimerHost } from '../../sip/timer.js';
import { applyRequest, isEnded, recordFromRequest, type CallRecord, type CallState } from '../../store/record.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import { ApiKeyRing } from './api-keys.js';
import { clientKeyOf, peerAddress, restAuthHook, type Principal } from './auth.js';
import { restErrorHandler, restNotFoundHandler, RouteTable } from './errors.js';
import { EventLog, type CallExtras, type LoggedEvent } from './event-log.js';
import { fingerprintOf, IdempotencyCache, MAX_IDEMPOTENCY_KEY_LENGTH } from './idempotency.js';
import { OpenApiCollector, type OpenApiRouteDoc } from './openapi.js';
import { problem, sendProblem, type Problem } from './problem.js';
import { StoreQueryError, type CallRecordReader } from './records.js';
import { callResource, decodeCursor, encodeCursor, parseSince, type CallResource } from './resource.js';
import { callIdParams, createCallBody, lastEventIdHeader, listCallsQuery } from './schemas.js';
import { SseStream } from './sse.js';

export interface RestDeps {
  /** The shared trigger path: engine, publisher, translation. */
  calls: CallDeps;
  /** `ApiKey` settings. */
  apiKeys: readonly ApiKeyEntry[];
  /** The admin user when `HttpAuth` is on (the same authenticator as the legacy page). */
  admin?: HttpAuthenticator;
  /** The record store, when wired; else calls are read from the in-memory history. */
  store?: CallRecordReader;
  /** `startWebhooks(…)`: needed for `statusCallback` (a request with one is refused without it). */
  webhooks?: Webhooks;
  /** The event log; by default the plugin makes one and subscribes it to `calls.publisher`. */
  events?: EventLog;
  /** Heartbeats [real timers]. */
  timers?: TimerHost;
  /** Clock of the rate limits and the idempotency keys [Date.now]. */
  now?: () => number;
  logger?: HttpLogger;
  /** Counts refused credentials on /v1 (a metric). */
  onAuthFailure?: (reason: string) => void;
  /** SSE heartbeat [15000 ms] (`HttpEventHeartbeat`). */
  heartbeatMs?: number;
  /** Open SSE streams at once [100]; beyond: 503 (`HttpMaxEventStreams`). */
  maxStreams?: number;
  /** Bytes one SSE stream may queue for a slow reader before it is closed [1 MiB] (`HttpMaxStreamBuffer`). */
  maxStreamBufferBytes?: number;
  /** Events the plugin's own event log holds for `Last-Event-ID` [10000] (`HttpEventLogSize`). */
  eventLogSize?: number;
  /** Idempotency keys remembered (24 h each) [10000] (`HttpMaxIdempotencyKeys`). */
  maxIdempotencyKeys?: number;
  /** `info.version` of /openapi.json. */
  version?: string;
}

export const OPENAPI_PATH = '/openapi.json';
const DEFAULT_MAX_STREAMS = 100;

interface CreateCallBody {
  initiator: string;
  destination: string;
  mode?: string;
  ringTimeout?: number;
  maxDuration?: number;
  callerId?: string;
  transferPolicy?: CallOptions['transferPolicy'];
  statusCallback?: string;
  statusCallbackEvents?: string[];
  metadata?: Record<string, string>;
}

interface ListQueryString {
  state?: CallState;
  since?: string;
  limit?: number;
  cursor?: string;
}

/** The last event a call will publish (what submitCall also waits for). */
function isLastEvent(e: CallEvent): boolean {
  return e.kind === 'completed' || e.kind === 'failed' || e.kind === 'refused';
}

export function restPlugin(deps: RestDeps): FastifyPluginAsync {
  return async (app) => {
    const now = deps.now ?? Date.now;
    const timers = deps.timers ?? realTimers;
    const ownLog = deps.events === undefined;
    // With a store, calls not created here are read from it: no history entry for each of them.
    const events = deps.events ?? new EventLog({ now, historyForAll: deps.store === undefined, ringSize: deps.eventLogSize });
    events.attach(deps.calls.publisher);
    const keys = new ApiKeyRing(deps.apiKeys, now);
    const idempotency = new IdempotencyCache(deps.maxIdempotencyKeys, undefined, now);
    const collector = new OpenApiCollector();
    const streams = new Set<SseStream>();
    const maxStreams = deps.maxStreams ?? DEFAULT_MAX_STREAMS;

    app.addHook('onRoute', collector.onRoute);
    app.addHook('preClose', async () => {
      // Open streams would hold the server's close until its grace time runs out.
      for (const s of [...streams]) s.close();
    });
    app.addHook('onClose', async () => {
      if (ownLog) events.detach();
    });

    // ── reading calls ──────────────────────────────────────────────────────────────

    /** Live session first, then the store, then the in-memory history. */
    const lookup = (id: string): { record: CallRecord; phase?: string; extras?: CallExtras } | undefined => {
      const entry = events.call(id);
      const session = deps.calls.engine.get(id);
      if (session) {
        const record = entry?.record ?? deps.store?.get(id) ?? recordFromRequest(session.request, now());
        applyRequest(record, session.request);
        return { record, phase: session.state, extras: entry?.extras };
      }
      const stored = deps.store?.get(id);
      if (stored) return { record: stored, extras: entry?.extras };
      return entry ? { record: entry.record, extras: entry.extras } : undefined;
    };

    const resourceOf = (id: string, withEvents: boolean): CallResource | undefined => {
      const found = lookup(id);
      return found ? callResource(found.record, { phase: found.phase, extras: found.extras, withEvents }) : undefined;
    };

    const openStream = (reply: FastifyReply, onClose: () => void): SseStream | undefined => {
      if (streams.size >= maxStreams) {
        reply.header('retry-after', '5');
        sendProblem(reply, problem('unavailable', 503, `Too many event streams are open (${maxStreams}); try again later.`));
        return undefined;
      }
      const stream: SseStream = new SseStream(reply, {
        timers, heartbeatMs: deps.heartbeatMs, maxBufferedBytes: deps.maxStreamBufferBytes,
        onClose: () => {
          streams.delete(stream);
          onClose();
        },
      });
      streams.add(stream);
      return stream;
    };

    // ── /openapi.json ──────────────────────────────────────────────────────────────

    app.get(OPENAPI_PATH, {
      config: { openapi: doc('This document (OpenAPI 3.1).', { 200: { description: 'The OpenAPI document.', schema: { type: 'object' } } }, false) },
    }, async (_request, reply) =>
      reply.header('cache-control', 'no-cache').send(collector.document({ title: 'clicktocall REST API', version: deps.version ?? '1' })),
    );

    // ── /v1 ────────────────────────────────────────────────────────────────────────

    await app.register(async (v1: FastifyInstance) => {
      const table = new RouteTable();
      v1.addHook('onRoute', (route) => {
        for (const m of Array.isArray(route.method) ? route.method : [route.method]) table.add(route.url, m);
      });
      v1.decorateRequest('principal', undefined);
      v1.addHook('onRequest', restAuthHook({ keys, admin: deps.admin, logger: deps.logger, onFailure: deps.onAuthFailure }));
      v1.setErrorHandler(restErrorHandler);
      v1.setNotFoundHandler(restNotFoundHandler(table));

      v1.post<{ Body: CreateCallBody }>('/calls', {
        schema: { body: createCallBody, headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', description: 'Retry-safe key: the same key and body give the same call.' } } } },
        // additionalProperties is removed silently by Fastify's validator: refuse unknown fields first.
        preValidation: async (request, reply) => {
          // Fastify also parses text/plain; this API takes JSON only.
          const type = request.headers['content-type'];
          if (type !== undefined && !/^application\/json\b/i.test(type)) {
            return sendProblem(reply, problem('unsupported-media-type', 415, 'Send the request body as application/json.'));
          }
          const body = request.body as unknown;
          if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
          const unknown = Object.keys(body as object).filter((k) => !Object.hasOwn(createCallBody.properties, k));
          if (unknown.length > 0) {
            const errors = unknown.map((field) => ({ field, detail: `field ${field} is not a known field` }));
            return sendProblem(reply, problem('validation', 400, errors.map((e) => e.detail).join('; '), { errors }));
          }
        },
        config: {
          openapi: doc('Place a call: the initiator is called first, then connected to the destination.', {
            201: {
              description: 'The call was accepted and is starting.', schema: 'Call',
              headers: { Location: { description: 'The call resource.', schema: { type: 'string' } } },
            },
            400: { description: 'A field is missing or invalid (errors[].field names it).' },
            401: { description: 'No or wrong credentials.' },
            403: { description: 'Refused by policy (DestinationAllow/Deny, InitiatorAllow/Deny).' },
            422: { description: 'The Idempotency-Key was used before with another body.' },
            429: { description: 'The API key\'s callsPerSecond is exceeded (Retry-After).' },
            503: { description: 'Refused: call limits or the server is shutting down (Retry-After).' },
          }),
        },
      }, async (request, reply) => createCall(request, reply));

      v1.get<{ Querystring: ListQueryString }>('/calls', {
        schema: { querystring: listCallsQuery },
        config: {
          openapi: doc('List calls, newest first, one page at a time.', {
            200: { description: 'One page; nextCursor when more may follow.', schema: 'CallList' },
            400: { description: 'A query parameter is invalid.' },
            401: { description: 'No or wrong credentials.' },
          }),
        },
      }, async (request, reply) => listCalls(request, reply));

      v1.get<{ Params: { id: string } }>('/calls/:id', {
        schema: { params: callIdParams },
        config: {
          openapi: doc('One call, with its events (JSON history).', {
            200: { description: 'The call.', schema: 'Call' },
            401: { description: 'No or wrong credentials.' },
            404: { description: 'No such call.' },
          }),
        },
      }, async (request, reply) => {
        const resource = resourceOf(request.params.id, true);
        if (!resource) return sendProblem(reply, notFound(request.params.id));
        return reply.header('cache-control', 'no-store').send(resource);
      });

      v1.delete<{ Params: { id: string } }>('/calls/:id', {
        schema: { params: callIdParams },
        config: {
          openapi: doc('Hang up: cancel or end both legs.', {
            200: { description: 'The call is ending; its state after the hang-up.', schema: 'Call' },
            401: { description: 'No or wrong credentials.' },
            404: { description: 'No such call.' },
            409: { description: 'The call has already ended.' },
          }),
        },
      }, async (request, reply) => {
        const id = request.params.id;
        const result = deps.calls.engine.hangup(id);
        if (result === 'ok') return reply.header('cache-control', 'no-store').send(resourceOf(id, true) ?? { id, state: 'completed' });
        if (result === 'ended' || lookup(id)) {
          return sendProblem(reply, problem('conflict', 409, `Call ${id} has already ended.`, { callId: id }));
        }
        return sendProblem(reply, notFound(id));
      });

      v1.get<{ Params: { id: string } }>('/calls/:id/events', {
        exposeHeadRoute: false,
        schema: { params: callIdParams, headers: lastEventIdHeader },
        config: {
          openapi: doc('The call\'s events as Server-Sent Events; the stream ends after the call\'s last event.', {
            200: { description: 'text/event-stream: `id: <event id>`, `data: <CallEvent JSON>`.', contentType: 'text/event-stream', schema: { type: 'string' } },
            401: { description: 'No or wrong credentials.' },
            404: { description: 'No such call.' },
          }),
        },
      }, async (request, reply) => streamCall(request, reply));

      v1.get('/events', {
        exposeHeadRoute: false,
        schema: { headers: lastEventIdHeader },
        config: {
          openapi: doc('Every call\'s events as Server-Sent Events; Last-Event-ID resumes.', {
            200: { description: 'text/event-stream: `id: <event id>`, `data: <CallEvent JSON>`.', contentType: 'text/event-stream', schema: { type: 'string' } },
            401: { description: 'No or wrong credentials.' },
            503: { description: 'Too many streams are open.' },
          }),
        },
      }, async (request, reply) => streamAll(request, reply));

      v1.get<{ Querystring: { since?: string; until?: string } }>('/records.csv', {
        schema: {
          querystring: {
            type: 'object',
            properties: {
              since: { type: 'string', format: 'date-time', description: 'First creation time included (ISO 8601); default: 24 hours ago.' },
              until: { type: 'string', format: 'date-time', description: 'Creation times before this (ISO 8601); default: now.' },
            },
            additionalProperties: false,
          },
        },
        config: {
          openapi: doc('Call records created in a date range, as CSV (RFC 4180), oldest first.', {
            200: { description: 'text/csv with a header line.', contentType: 'text/csv', schema: { type: 'string' } },
            400: { description: 'A bad date or an empty range.' },
            401: { description: 'No or wrong credentials.' },
            501: { description: 'No record store is configured.' },
          }),
        },
      }, async (request, reply) => {
        const store = deps.store;
        if (!store?.exportCsv) return sendProblem(reply, problem('not-implemented', 501, 'No record store: CSV export needs DatabaseFile.'));
        const until = request.query.until ? Date.parse(request.query.until) : now();
        const since = request.query.since ? Date.parse(request.query.since) : until - 86_400_000;
        if (!(since < until)) {
          const errors = [{ field: 'since', detail: 'since must be before until' }];
          return sendProblem(reply, problem('validation', 400, errors[0]!.detail, { errors }));
        }
        const lines: string[] = [];
        store.exportCsv({ since, until }, (line) => lines.push(line));
        return reply
          .header('cache-control', 'no-store')
          .header('content-disposition', 'attachment; filename="clicktocall-records.csv"')
          .type('text/csv; charset=utf-8')
          .send(lines.join(''));
      });
    }, { prefix: '/v1' });

    // ── handlers ───────────────────────────────────────────────────────────────────

    function createCall(request: FastifyRequest<{ Body: CreateCallBody }>, reply: FastifyReply): FastifyReply {
      const principal = request.principal as Principal;
      const body = request.body;
      const scope = principal.kind === 'key' ? `key:${principal.key.name}` : principal.kind;
      const rawKey = request.headers['idempotency-key'];
      let idemKey: string | undefined;
      if (rawKey !== undefined) {
        idemKey = String(rawKey).trim().replace(/^"(.*)"$/, '$1');
        if (idemKey === '' || idemKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
          return sendProblem(reply, problem('validation', 400, `header Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, {
            errors: [{ field: 'Idempotency-Key', detail: `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` }],
          }));
        }
      }
      const fingerprint = idemKey === undefined ? '' : fingerprintOf(body);
      if (idemKey !== undefined) {
        const seen = idempotency.lookup(scope, idemKey, fingerprint);
        if (seen.kind === 'mismatch') {
          return sendProblem(reply, problem('idempotency-mismatch', 422,
            `Idempotency-Key "${idemKey}" was used for call ${seen.outcome.callId} with a different request body.`, { callId: seen.outcome.callId }));
        }
        if (seen.kind === 'replay') {
          reply.header('idempotent-replayed', 'true');
          if (seen.outcome.problem) return sendProblem(reply, seen.outcome.problem as Problem);
          const id = seen.outcome.callId;
          return reply.code(201).header('location', `/v1/calls/${encodeURIComponent(id)}`).header('cache-control', 'no-store')
            .send(resourceOf(id, true) ?? { id, state: 'in-progress' });
        }
      }
      if (principal.kind === 'key') {
        const rate = keys.take(principal.key);
        if (!rate.ok) {
          reply.header('retry-after', String(rate.retryAfterS));
          return sendProblem(reply, problem('rate-limited', 429,
            `API key "${principal.key.name}" may place ${principal.key.callsPerSecond} calls a second; retry in ${rate.retryAfterS} s.`));
        }
      }
      if (body.statusCallback !== undefined && !deps.webhooks) {
        return sendProblem(reply, problem('validation', 400, 'field statusCallback cannot be used: webhooks are not enabled on this server', {
          errors: [{ field: 'statusCallback', detail: 'webhooks are not enabled on this server' }],
        }));
      }
      const options: Partial<CallOptions> = {};
      if (body.ringTimeout !== undefined) options.ringTimeoutMs = body.ringTimeout * 1000;
      if (body.maxDuration !== undefined) options.maxDurationMs = body.maxDuration * 1000;
      if (body.callerId !== undefined) options.callerId = body.callerId;
      if (body.transferPolicy !== undefined) options.transferPolicy = body.transferPolicy;
      if (body.metadata !== undefined) options.metadata = { ...body.metadata };
      const onEvent = body.statusCallback !== undefined
        ? deps.webhooks!.forCall(body.statusCallback, body.statusCallbackEvents, body.metadata)
        : undefined;
      const submitted = submitCall(deps.calls, {
        initiator: body.initiator,
        destination: body.destination,
        mode: body.mode,
        client: { address: peerAddress(request), port: request.raw.socket?.remotePort ?? 0, trigger: 'rest', key: clientKeyOf(principal) },
        options,
        // Fastify's clock (performance.now) started when it routed the request.
        receivedAt: performance.now() - reply.elapsedTime,
      }, onEvent);
      const extras: CallExtras = {};
      if (body.statusCallback !== undefined) extras.statusCallback = body.statusCallback;
      if (body.statusCallbackEvents !== undefined) extras.statusCallbackEvents = [...body.statusCallbackEvents];
      if (!submitted.ok) {
        if (!submitted.request) return sendProblem(reply, inputProblem(submitted.reason, submitted.text, body, deps.calls));
        // Refused by the engine: a call id exists (its `refused` event was published).
        const id = submitted.request.id;
        events.describe(submitted.request, extras);
        const status = submitted.status === 403 ? 403 : 503;
        const p = problem(status === 403 ? 'forbidden' : 'refused', status, submitted.text, { callId: id, reason: submitted.reason });
        if (idemKey !== undefined) idempotency.remember(scope, idemKey, { fingerprint, callId: id, status, problem: p });
        if (status === 503) reply.header('retry-after', '1');
        return sendProblem(reply, p);
      }
      const id = submitted.request.id;
      events.describe(submitted.request, extras);
      if (idemKey !== undefined) idempotency.remember(scope, idemKey, { fingerprint, callId: id, status: 201 });
      return reply.code(201).header('location', `/v1/calls/${encodeURIComponent(id)}`).header('cache-control', 'no-store')
        .send(resourceOf(id, true) ?? { id, state: 'in-progress' });
    }

    function listCalls(request: FastifyRequest<{ Querystring: ListQueryString }>, reply: FastifyReply): FastifyReply {
      const q = request.query;
      const limit = q.limit ?? 50;
      let since: number | undefined;
      if (q.since !== undefined) {
        since = parseSince(q.since);
        if (since === undefined) {
          return sendProblem(reply, problem('validation', 400, 'query parameter since must be an RFC 3339 date-time or milliseconds since the epoch', {
            errors: [{ field: 'since', detail: 'must be an RFC 3339 date-time or milliseconds since the epoch' }],
          }));
        }
      }
      const badCursor = () => sendProblem(reply, problem('validation', 400, 'query parameter cursor is not a cursor this server gave', {
        errors: [{ field: 'cursor', detail: 'is not a cursor this server gave' }],
      }));
      let records: CallRecord[];
      let nextCursor: string | undefined;
      if (deps.store) {
        try {
          const page = deps.store.list({ state: q.state, since, limit, cursor: q.cursor });
          records = page.records;
          nextCursor = page.nextCursor;
        } catch (err) {
          if (err instanceof StoreQueryError) return badCursor();
          throw err;
        }
      } else {
        let after: { createdAt: number; id: string } | undefined;
        if (q.cursor !== undefined) {
          after = decodeCursor(q.cursor);
          if (!after) return badCursor();
        }
        const all = events.calls().filter((r) =>
          (q.state === undefined || r.state === q.state) &&
          (since === undefined || r.createdAt >= since) &&
          (after === undefined || r.createdAt < after.createdAt || (r.createdAt === after.createdAt && r.id < after.id)));
        records = all.slice(0, limit);
        if (all.length > limit) nextCursor = encodeCursor(records[records.length - 1]!);
      }
      const calls = records.map((r) => {
        const session = deps.calls.engine.get(r.id);
        return callResource(r, { phase: session?.state, extras: events.call(r.id)?.extras, withEvents: false });
      });
      return reply.header('cache-control', 'no-store').send(nextCursor === undefined ? { calls } : { calls, nextCursor });
    }

    function streamAll(request: FastifyRequest, reply: FastifyReply): void {
      const after = lastEventId(request);
      let stop: (() => void) | undefined;
      const stream = openStream(reply, () => stop?.());
      if (!stream) return;
      if (after !== undefined) {
        const missed = events.since(after);
        if (!missed.complete) stream.comment('some events after the Last-Event-ID are no longer held');
        for (const e of missed.events) stream.send(e.id, e.event);
      }
      stop = events.listen((e) => stream.send(e.id, e.event));
      if (stream.isClosed) stop();
    }

    function streamCall(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): void {
      const id = request.params.id;
      const found = lookup(id);
      if (!found) {
        sendProblem(reply, notFound(id));
        return;
      }
      const after = lastEventId(request) ?? 0;
      const entry = events.call(id);
      let stop: (() => void) | undefined;
      const stream = openStream(reply, () => stop?.());
      if (!stream) return;
      // Replay what is held: with global ids from the in-memory history, else the store's events.
      const held: LoggedEvent[] = [];
      if (entry) {
        entry.record.events.forEach((e, i) => {
          const gid = entry.ids[i];
          if (gid !== undefined && gid > after) held.push({ id: gid, event: e });
        });
      }
      if (entry) for (const e of held) stream.send(e.id, e.event);
      else {
        // No history entry (not created over REST, or gone from it): the store's events, with the
        // ids the ring still holds, so that a reconnect with Last-Event-ID gets no repeats.
        const ids = events.idsOf(id);
        let afterSeq = 0;
        for (const [seq, gid] of ids) if (gid === after) afterSeq = seq;
        for (const e of found.record.events) {
          const gid = ids.get(e.seq);
          if (gid !== undefined ? gid > after : e.seq > afterSeq) stream.send(gid, e);
        }
      }
      const replayed = entry ? entry.record.events : found.record.events;
      const ended = replayed.some(isLastEvent) || (!deps.calls.engine.get(id) && isEnded(found.record));
      if (ended) {
        stream.close();
        return;
      }
      stop = events.listen((e) => {
        if (e.event.callId !== id) return;
        stream.send(e.id, e.event);
        if (isLastEvent(e.event)) stream.close();
      });
      if (stream.isClosed) stop();
    }
  };
}

function doc(summary: string, responses: OpenApiRouteDoc['responses'], secured = true): OpenApiRouteDoc {
  return secured ? { summary, responses } : { summary, responses, secured };
}

function notFound(id: string): Problem {
  return problem('not-found', 404, `There is no call ${id}.`, { callId: id });
}

/** `Last-Event-ID` (an integer this server gave); anything else is ignored (a fresh start). */
function lastEventId(request: FastifyRequest): number | undefined {
  const v = request.headers['last-event-id'];
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/** A refusal by `prepareCallRequest` (translation, URI, mode) as a 400 that names the field. */
function inputProblem(reason: string, text: string, body: CreateCallBody, calls: CallDeps): Problem {
  let field: string;
  switch (reason) {
    case 'bad-mode':
      field = 'mode';
      break;
    case 'missing-address':
      field = body.initiator.trim() === '' ? 'initiator' : 'destination';
      break;
    case 'bad-uri':
      field = text.startsWith('Invalid initiator') ? 'initiator' : 'destination';
      break;
    case 'no-translation':
      field = calls.prepare.rules.translate(body.initiator.trim()) ? 'destination' : 'initiator';
      break;
    default:
      field = 'initiator';
  }
  return problem('validation', 400, `field ${field}: ${text}`, { errors: [{ field, detail: text }], reason });
}
