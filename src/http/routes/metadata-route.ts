import type { FastifyInstance } from 'fastify';
import { GRANT_TYPES } from '../../auth/clients.js';
import type { ScopeRegistry } from '../../auth/scopes.js';
import type { PasswordGrantPolicy } from '../../config.js';

/**
 * GET /.well-known/oauth-authorization-server (RFC 8414). Every URL derives from the configured
 * issuer, never from the Host header, so a forged Host cannot redirect clients elsewhere.
 */
export async function metadataRoute(app: FastifyInstance, issuer: string, scopes: ScopeRegistry, passwordGrant: PasswordGrantPolicy): Promise<void> {
  const base = issuer.replace(/\/+$/, '');
  // Names from the registry RFC 7591 §4.2 set up, which RFC 8414 §2 points to. "none": a public
  // client, the built-in one included, only names itself.
  const clientAuthMethods = ['client_secret_basic', 'client_secret_post', 'none'];
  const metadata = Object.freeze({
    issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    scopes_supported: scopes.list().map((s) => s.name),
    // Required by RFC 8414 §2, and empty on purpose: response types are values of the
    // authorization endpoint's response_type, and the password and refresh grants need no such
    // endpoint, so there is none and no response type is supported.
    response_types_supported: [],
    // Switched off, the password grant is supported for no client; limited to some, it still is.
    grant_types_supported: GRANT_TYPES.filter((grant) => grant !== 'password' || passwordGrant !== 'off'),
    token_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    // Confidential clients only (RFC 7662 §2.1). An admin's bearer token is also accepted, but it
    // is not a client authentication method, so it is described in the OpenAPI document instead.
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
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
