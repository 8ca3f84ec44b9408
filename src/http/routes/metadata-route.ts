import type { FastifyInstance } from 'fastify';
import { GRANT_TYPES } from '../../auth/clients.js';
import type { ScopeRegistry } from '../../auth/scopes.js';

/**
 * GET /.well-known/oauth-authorization-server (RFC 8414). Every URL derives from the configured
 * issuer, never from the Host header, so a forged Host cannot redirect clients elsewhere.
 */
export async function metadataRoute(app: FastifyInstance, issuer: string, scopes: ScopeRegistry): Promise<void> {
  const base = issuer.replace(/\/+$/, '');
  const clientAuthMethods = ['client_secret_basic', 'client_secret_post', 'none'];
  const metadata = Object.freeze({
    issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    scopes_supported: scopes.list().map((s) => s.name),
    // No authorization endpoint: the password and refresh grants need none (RFC 8414 §2).
    response_types_supported: [],
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'bearer'],
    service_documentation: `${base}/docs`,
  });
  const body = JSON.stringify(metadata);
  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: { summary: 'Authorization server metadata (RFC 8414)', tags: ['keys'] } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300').type('application/json');
      return body;
    },
  );
}
