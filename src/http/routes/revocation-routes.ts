import type { FastifyInstance } from 'fastify';
import type { AuthServices } from '../../auth/auth-services.js';
import { introspectToken } from '../../auth/introspection.js';
import { assertScopes } from '../../auth/resource-authenticator.js';
import { endSessions, revokeToken } from '../../auth/revocation.js';
import type { TokenTypeHint } from '../../auth/token-lookup.js';
import { InvalidClient } from '../../errors.js';
import { authenticate } from '../authenticate.js';
import { ignoreRequestBodies } from '../ignore-body.js';
import { parseBearer } from '../bearer.js';
import { readClientCredentials } from '../client-credentials.js';
import { limitFailedAttempts } from '../failure-rate-limit.js';
import { acceptFormsOnly, OAUTH_BODY_LIMIT, oauthRoute } from '../oauth-endpoint.js';
import { assertNoCredentialsInQuery, readForm, requireParam } from '../oauth-form.js';
import { CLIENT_BASIC_SCHEME, IntrospectionBody, OAuthErrorBody, OAUTH2_SCHEME, protectedRouteErrors, TokenForm } from '../schemas.js';
import { requestAudit } from '../request-audit.js';

const FIELDS = ['token', 'token_type_hint', 'client_id', 'client_secret'] as const;

function hintOf(value: string | undefined): TokenTypeHint | undefined {
  // RFC 7009 §2.1: an unrecognised hint is ignored, and the token searched for by every type.
  return value === 'access_token' || value === 'refresh_token' ? value : undefined;
}

/** POST /revoke (RFC 7009) and POST /introspect (RFC 7662): form endpoints with OAuth errors. */
export async function revocationRoutes(app: FastifyInstance, services: AuthServices): Promise<void> {
  acceptFormsOnly(app);
  limitFailedAttempts(app);
  const common = {
    bodyLimit: OAUTH_BODY_LIMIT,
    config: oauthRoute,
    validatorCompiler: () => () => true,
  };

  app.post(
    '/revoke',
    {
      ...common,
      schema: {
        summary: 'Revoke a token (RFC 7009)',
        description:
          'Ends the session the access or refresh token belongs to. Always 200 for a token that is not active ' +
          '(unknown, expired, revoked, or of an ended session), whichever client asks; a live token of another client ' +
          'is refused with 400 invalid_request.',
        tags: ['auth'],
        // RFC 7009 §2.1: confidential clients authenticate; public ones, the built-in one included, need not.
        security: [{ [CLIENT_BASIC_SCHEME]: [] }, {}],
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenForm,
        response: { 200: { description: 'Revoked, or nothing to revoke', type: 'null' }, 400: OAuthErrorBody, 401: OAuthErrorBody },
      },
    },
    async (request, reply) => {
      assertNoCredentialsInQuery(request.query);
      const form = readForm(request.body, FIELDS);
      const client = await services.clients.authenticate(readClientCredentials(request.headers.authorization, form));
      await revokeToken(services, client, requireParam(form, 'token'), hintOf(form.token_type_hint), requestAudit(request));
      return reply.code(200).send();
    },
  );

  app.post(
    '/introspect',
    {
      ...common,
      schema: {
        summary: 'Introspect a token (RFC 7662)',
        description:
          'For a confidential client (HTTP Basic, or client_id and client_secret form fields) or a bearer access token ' +
          'with the admin scope. The bearer token is not an RFC 8414 client authentication method, so the server ' +
          'metadata lists only the client ones. Without either: 401 invalid_client.',
        tags: ['auth'],
        // RFC 7662 §2.1: the caller must be authorized; anonymous callers are not.
        security: [{ [OAUTH2_SCHEME]: ['admin'] }, { [CLIENT_BASIC_SCHEME]: [] }],
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenForm,
        response: { 200: IntrospectionBody, 400: OAuthErrorBody, 401: OAuthErrorBody, 403: OAuthErrorBody },
      },
    },
    async (request) => {
      assertNoCredentialsInQuery(request.query);
      const form = readForm(request.body, FIELDS);
      const authorization = request.headers.authorization;
      // RFC 7662 §2.1: the caller must be authorized; here an admin's token or a confidential client.
      if (authorization !== undefined && /^bearer(\s|$)/i.test(authorization.trim())) {
        assertScopes(await services.authenticator.authenticate(parseBearer(authorization)), ['admin']);
      } else {
        const client = await services.clients.authenticate(readClientCredentials(authorization, form));
        if (!client.confidential) throw new InvalidClient('introspection needs a confidential client or an admin token');
      }
      return introspectToken(services, requireParam(form, 'token'), hintOf(form.token_type_hint));
    },
  );

}

/** POST /logout and POST /logout/all: end the caller's session, or all of the caller's sessions. */
export async function logoutRoutes(app: FastifyInstance, services: AuthServices): Promise<void> {
  ignoreRequestBodies(app);
  const bearer = authenticate(services.authenticator);
  for (const [url, all] of [
    ['/logout', false],
    ['/logout/all', true],
  ] as const) {
    app.post(
      url,
      {
        onRequest: bearer,
        schema: {
          summary: all ? 'Log out everywhere' : 'Log out',
          description: all
            ? "Ends every session of the token's user: all their access and refresh tokens stop working."
            : "Ends the token's session: its access and refresh tokens stop working.",
          tags: ['auth'],
          security: [{ [OAUTH2_SCHEME]: [] }],
          response: { 204: { description: 'Logged out', type: 'null' }, 400: protectedRouteErrors[400], 401: protectedRouteErrors[401] },
        },
      },
      async (request, reply) => {
        const { claims, user } = request.principal!;
        await endSessions(
          services,
          { sessionId: claims.sid, userId: user.id, username: user.username, clientId: claims.client_id },
          all,
          requestAudit(request),
        );
        return reply.code(204).send();
      },
    );
  }
}
