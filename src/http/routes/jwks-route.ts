import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../../auth/key-ring.js';
import { JwkSet } from '../schemas.js';

/** GET /.well-known/jwks.json: the public verification keys (RFC 7517), never a private or symmetric one. */
export async function jwksRoute(app: FastifyInstance, keys: KeyRing): Promise<void> {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: { summary: 'Public keys that verify access tokens', tags: ['keys'], response: { 200: JwkSet } },
    },
    async (_request, reply) => {
      // Short caching: verifiers refetch on an unknown kid anyway, and rotation stays prompt.
      reply.header('cache-control', 'public, max-age=300');
      return keys.jwks;
    },
  );
}
