/**
 * `GET /v1/calls/{id}/trace` (decisions.md §7): the SIP messages of one recent call, as the
 * ladder of the web page draws them — `{callId, entries: [{time, direction, transport, peer,
 * sipCallId, summary, text}]}` in the order seen, credentials already redacted by CallTrace.
 * 404 (problem+json) when the call is not among the last `TraceCalls` calls.
 *
 * A stop-gap until the REST plugin serves this route inside its `/v1` scope: the route is guarded
 * by the `authenticate` hook given (the REST one, restAuthHook), never open by default.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CallTrace } from '../../call/trace.js';
import { problem, sendProblem } from '../rest/problem.js';

export const TRACE_ROUTE = '/v1/calls/:id/trace';

export interface TraceRouteOptions {
  /** `onRequest` hook that refuses unauthorised requests (restAuthHook). */
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export function traceRoutes(trace: CallTrace, opts: TraceRouteOptions): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string } }>(TRACE_ROUTE, {
      onRequest: opts.authenticate,
      schema: { params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['id'] } },
    }, async (request, reply) => {
      const id = request.params.id;
      const entries = trace.get(id);
      if (entries === undefined) {
        return sendProblem(reply, problem('not-found', 404,
          `No SIP trace is held for call ${id}: unknown, older than the last TraceCalls calls, or TraceCalls = 0.`, { callId: id }));
      }
      return reply.header('cache-control', 'no-store').send({ callId: id, entries });
    });
  };
}
