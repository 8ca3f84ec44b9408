import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { ScopeRegistry } from '../auth/scopes.js';
import { CLIENT_BASIC_SCHEME, OAUTH2_SCHEME } from './schemas.js';

const DOCS_PREFIX = '/docs';

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
          [CLIENT_BASIC_SCHEME]: {
            type: 'http',
            scheme: 'basic',
            description:
              'Client authentication (RFC 6749 §2.3.1): client_id and client_secret, each form-url-encoded. ' +
              'The same credentials may come as form fields instead, never both.',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { docExpansion: 'list', deepLinking: false },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Swagger UI resolves the relative tokenUrl against the page's URL (a `servers` entry does not
  // change that unless absolute), so from /docs/ it would log in at /docs/token. Send the other
  // entrances to the UI (/docs/, and /docs/static/ which serves the bare index) to /docs, as
  // FastAPI does. The Location is relative, so it names no host and no mount point.
  const entrances = new Map([
    [`${DOCS_PREFIX}/`, `../${DOCS_PREFIX.slice(1)}`],
    [`${DOCS_PREFIX}/static/`, `../../${DOCS_PREFIX.slice(1)}`],
  ]);
  // Callback-style: this hook runs on every request, and an async one costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    const queryAt = request.url.indexOf('?');
    const target = entrances.get(queryAt === -1 ? request.url : request.url.slice(0, queryAt));
    if (target === undefined) return done();
    void reply.redirect(target + (queryAt === -1 ? '' : request.url.slice(queryAt)));
  });
}
