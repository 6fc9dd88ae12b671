/**
 * RFC 9457 problem details: every REST error is `application/problem+json` with a `type`, a
 * `title` (the same for every occurrence of the type), the `status`, and a `detail` that says
 * what went wrong this time. Validation problems name the field in `errors[].field`.
 */
import type { FastifyReply } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 §3.1.1: a URI reference; ours resolve against the API documentation. */
export const PROBLEM_BASE = 'https://clicktocall.invalid/docs/api.md#';

export type ProblemKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'idempotency-mismatch'
  | 'rate-limited'
  | 'refused'
  | 'unavailable'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'not-implemented';

const TITLES: Record<ProblemKind, string> = {
  validation: 'Invalid request',
  unauthorized: 'Authentication required',
  forbidden: 'Call refused by policy',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'Conflict with the current state',
  'idempotency-mismatch': 'Idempotency key reused with a different request',
  'rate-limited': 'Too many requests',
  refused: 'Call refused',
  unavailable: 'Service unavailable',
  'payload-too-large': 'Request body too large',
  'unsupported-media-type': 'Unsupported media type',
  'not-implemented': 'Not implemented',
};

export interface FieldError {
  /** The JSON field (dotted for nested ones: `metadata.crmId`), or the query parameter. */
  field: string;
  detail: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problem(kind: ProblemKind, status: number, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: PROBLEM_BASE + `problem-${kind}`, title: TITLES[kind], status, detail, ...extensions };
}

/** Sends the problem; the caller may have set further headers (Retry-After, WWW-Authenticate). */
export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  const instance = reply.request.url;
  const body: Problem = p.instance === undefined ? { ...p, instance: stripQuery(instance) } : p;
  return reply.code(p.status).header('cache-control', 'no-store').type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
