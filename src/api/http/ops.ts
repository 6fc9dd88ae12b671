/**
 * Operations endpoints (issue 5, decisions.md §1): `GET /metrics` (Prometheus text; anonymous
 * from loopback, else an API key), `GET /readyz` (transports bound and the store writable).
 * `/healthz` is the HTTP server's own.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isLoopbackAddress } from '../../config/cidr.js';

export interface OpsOptions {
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** Each check returns undefined when fine, else what is wrong. */
  readiness: () => Record<string, string | undefined>;
  /** Whether a non-loopback client may read /metrics (an API key). */
  authorizeMetrics?: (req: FastifyRequest) => boolean;
}

export function opsRoutes(opts: OpsOptions): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.get('/metrics', async (req, reply) => {
      const peer = req.socket.remoteAddress ?? '';
      if (!isLoopbackAddress(peer) && !(opts.authorizeMetrics?.(req) ?? false)) {
        return reply.code(401).type('application/problem+json').send({
          type: 'about:blank', title: 'Unauthorized', status: 401, detail: '/metrics needs an API key from beyond loopback',
        });
      }
      const m = await opts.metrics();
      return reply.type(m.contentType).send(m.body);
    });
    app.get('/readyz', async (_req, reply) => {
      const checks = opts.readiness();
      const failed = Object.entries(checks).filter(([, v]) => v !== undefined);
      return reply.code(failed.length ? 503 : 200).send({
        status: failed.length ? 'not ready' : 'ready',
        checks: Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v ?? 'ok'])),
      });
    });
  };
  // Not encapsulated (skip-override): the routes share the server's error and 404 handlers.
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'clicktocall-ops' });
}
