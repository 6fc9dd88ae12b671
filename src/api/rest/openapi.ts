/**
 * `GET /openapi.json`: an OpenAPI 3.1 document built from the routes as Fastify registered them
 * (their `schema` for parameters and bodies, their `config.openapi` for summaries and answers),
 * so every route with a schema is listed and nothing is written twice.
 */
import type { RouteOptions } from 'fastify';
import { callEventSchema, callListSchema, callResourceSchema, problemSchema } from './schemas.js';

export interface OpenApiResponse {
  description: string;
  /** A `#/components/schemas/…` name, or an inline schema. */
  schema?: string | object;
  contentType?: string;
  headers?: Record<string, { description: string; schema: object }>;
}

/** What a route adds to the document beyond its schema (Fastify route `config.openapi`). */
export interface OpenApiRouteDoc {
  summary: string;
  description?: string;
  /** Status code → answer. Problems (4xx/5xx) default to the Problem schema. */
  responses: Record<string, OpenApiResponse>;
  /** false: no authentication (e.g. /openapi.json). */
  secured?: boolean;
}

interface CollectedRoute {
  method: string;
  url: string;
  schema: { body?: object; params?: object; querystring?: object; headers?: object };
  doc: OpenApiRouteDoc;
}

export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];

  /** For `app.addHook('onRoute', …)`: keeps every route that carries `config.openapi`. */
  onRoute = (route: RouteOptions): void => {
    const doc = (route.config as { openapi?: OpenApiRouteDoc } | undefined)?.openapi;
    if (!doc) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      this.routes.push({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as CollectedRoute['schema'], doc });
    }
  };

  /** Paths as OpenAPI writes them (`/v1/calls/{id}`), for tests. */
  get paths(): string[] {
    return this.routes.map((r) => `${r.method.toUpperCase()} ${openApiPath(r.url)}`);
  }

  document(info: { title: string; version: string }): object {
    const paths: Record<string, Record<string, object>> = {};
    for (const r of this.routes) {
      const path = openApiPath(r.url);
      const operation: Record<string, unknown> = { summary: r.doc.summary, operationId: operationId(r.method, path) };
      if (r.doc.description) operation.description = r.doc.description;
      const parameters = [
        ...parametersOf(r.schema.params, 'path'),
        ...parametersOf(r.schema.querystring, 'query'),
        ...parametersOf(r.schema.headers, 'header'),
      ];
      if (parameters.length > 0) operation.parameters = parameters;
      if (r.schema.body) operation.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
      const responses: Record<string, object> = {};
      for (const [status, res] of Object.entries(r.doc.responses)) responses[status] = responseOf(status, res);
      operation.responses = responses;
      if (r.doc.secured === false) operation.security = [];
      (paths[path] ??= {})[r.method] = operation;
    }
    return {
      openapi: '3.1.0',
      info: { ...info, description: 'Click-to-call REST API. Errors are RFC 9457 problem details.' },
      paths,
      components: {
        schemas: { Call: callResourceSchema, CallList: callListSchema, CallEvent: callEventSchema, Problem: problemSchema },
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An ApiKey from the configuration.' },
          adminBasic: { type: 'http', scheme: 'basic', description: 'The admin user, when HttpAuth is on.' },
          adminDigest: { type: 'http', scheme: 'digest', description: 'The admin user, when HttpAuth is on.' },
        },
      },
      security: [{ apiKey: [] }, { adminBasic: [] }, { adminDigest: [] }],
    };
  }
}

export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationId(method: string, path: string): string {
  const words = path.split('/').filter((p) => p && p !== 'v1').map((p) => (p.startsWith('{') ? 'by-' + p.slice(1, -1) : p));
  return [method, ...words].join('-').replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase());
}

function parametersOf(schema: object | undefined, where: 'path' | 'query' | 'header'): object[] {
  const s = schema as { properties?: Record<string, { description?: string }>; required?: readonly string[] } | undefined;
  if (!s?.properties) return [];
  return Object.entries(s.properties).map(([name, prop]) => {
    const { description, ...rest } = prop;
    const p: Record<string, unknown> = { name, in: where, required: where === 'path' || (s.required?.includes(name) ?? false), schema: rest };
    if (description) p.description = description;
    return p;
  });
}

function responseOf(status: string, res: OpenApiResponse): object {
  const out: Record<string, unknown> = { description: res.description };
  const isProblem = Number(status) >= 400;
  const schema = res.schema ?? (isProblem ? 'Problem' : undefined);
  if (schema !== undefined) {
    const contentType = res.contentType ?? (isProblem ? 'application/problem+json' : 'application/json');
    out.content = { [contentType]: { schema: typeof schema === 'string' ? { $ref: `#/components/schemas/${schema}` } : schema } };
  }
  if (res.headers) out.headers = res.headers;
  return out;
}
