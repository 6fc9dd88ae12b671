/**
 * The `/v1` error handler and not-found handler: every client error becomes an RFC 9457 problem.
 * Validation errors name the field (`errors[].field` and the `detail`). Server errors go on to
 * the HTTP server's own handler, which counts and logs them (decisions.md §7).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem, type FieldError } from './problem.js';

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const PARAMETER_PLACES: Record<string, string> = { body: 'field', querystring: 'query parameter', params: 'path parameter', headers: 'header' };

/** `{keyword: 'required', params: {missingProperty: 'initiator'}}` → `initiator`; `/metadata/crm` → `metadata.crm`. */
export function fieldOfAjvError(e: AjvError): string {
  const base = e.instancePath.split('/').filter(Boolean).join('.');
  const child =
    e.keyword === 'required' ? e.params.missingProperty : e.keyword === 'additionalProperties' ? e.params.additionalProperty : undefined;
  if (typeof child === 'string') return base ? `${base}.${child}` : child;
  return base || '(body)';
}

export function describeAjvError(e: AjvError, place: string): FieldError {
  const field = fieldOfAjvError(e);
  let what: string;
  switch (e.keyword) {
    case 'required':
      what = 'is required';
      break;
    case 'additionalProperties':
      what = 'is not a known field';
      break;
    case 'enum':
      what = `must be one of ${(e.params.allowedValues as unknown[] | undefined)?.map((v) => JSON.stringify(v)).join(', ') ?? 'the allowed values'}`;
      break;
    default:
      what = e.message ?? 'is not valid';
  }
  if (field === '(body)') return { field, detail: `the request body ${what}` };
  return { field, detail: `${PARAMETER_PLACES[place] ?? 'field'} ${field} ${what}` };
}

export function restErrorHandler(err: FastifyError & { validation?: AjvError[]; validationContext?: string }, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (Array.isArray(err.validation) && err.validation.length > 0) {
    const place = err.validationContext ?? 'body';
    const errors = err.validation.map((e) => describeAjvError(e, place));
    return sendProblem(reply, problem('validation', 400, errors.map((e) => e.detail).join('; '), { errors }));
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status === 413) return sendProblem(reply, problem('payload-too-large', 413, 'The request body is larger than the server accepts.'));
  if (status === 415) {
    return sendProblem(reply, problem('unsupported-media-type', 415, 'Send the request body as application/json.'));
  }
  if (status >= 400 && status < 500) {
    // Unreadable JSON, an empty body, a bad header: Fastify's message says which.
    return sendProblem(reply, problem('validation', 400, `The request could not be read: ${err.message}`));
  }
  throw err;
}

/** Route patterns of `/v1` with their methods, for 405 answers on a known path. */
export class RouteTable {
  private readonly routes: { source: string; pattern: RegExp; methods: Set<string> }[] = [];

  add(url: string, method: string): void {
    const source = '^' + url.split('/').map((p) => (p.startsWith(':') ? '[^/]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '/?$';
    let route = this.routes.find((r) => r.source === source);
    if (!route) {
      route = { source, pattern: new RegExp(source), methods: new Set() };
      this.routes.push(route);
    }
    route.methods.add(method);
    if (method === 'GET') route.methods.add('HEAD');
  }

  methodsFor(path: string): string[] | undefined {
    const route = this.routes.find((r) => r.pattern.test(path));
    return route ? [...route.methods].sort() : undefined;
  }
}

export function restNotFoundHandler(table: RouteTable) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const methods = table.methodsFor(path);
    if (methods) {
      reply.header('allow', methods.join(', '));
      return sendProblem(reply, problem('method-not-allowed', 405, `${request.method} is not allowed on ${path}: use ${methods.join(', ')}.`));
    }
    return sendProblem(reply, problem('not-found', 404, `There is no ${path} in this API; see /openapi.json.`));
  };
}
