import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { ScopeRegistry } from '../auth/scopes.js';
import { OAUTH2_SCHEME } from './schemas.js';

/**
 * The OpenAPI 3.1 document (at /openapi.json) and Swagger UI (at /docs), served from the package.
 * The oauth2 password flow's relative `tokenUrl` makes the Authorize button log in against /token.
 */
export async function registerDocs(app: FastifyInstance, scopes: ScopeRegistry, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version,
        description: 'OAuth2 password-flow authentication server. Use Authorize to log in.',
      },
      components: {
        securitySchemes: {
          [OAUTH2_SCHEME]: {
            type: 'oauth2',
            flows: {
              password: {
                tokenUrl: 'token',
                scopes: Object.fromEntries(scopes.list().map((s) => [s.name, s.description])),
              },
            },
          },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: false },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
