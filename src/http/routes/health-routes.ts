import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Store } from '../../store/store.js';

const Status = Type.Object({ status: Type.String(), detail: Type.Optional(Type.String()) });

/**
 * GET /healthz (the process answers) and GET /readyz (it can serve: the database answers and its
 * schema is the one this version expects), for load balancers and orchestrators.
 */
export async function healthRoutes(app: FastifyInstance, store: Store): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['ops'], response: { 200: Status } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: database reachable and migrated', tags: ['ops'], response: { 200: Status, 503: Status } } },
    async (request, reply) => {
      try {
        await store.ping();
        const { pending, unknown } = await store.schemaStatus();
        if (pending.length > 0 || unknown.length > 0) {
          return reply.code(503).send({ status: 'unavailable', detail: 'database schema is not current' });
        }
        return { status: 'ready' };
      } catch (err) {
        request.log.warn({ reason: (err as Error).message }, 'readiness check failed');
        return reply.code(503).send({ status: 'unavailable', detail: 'database unreachable' });
      }
    },
  );
}
