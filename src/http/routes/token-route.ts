import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { AuthServices } from '../../auth/auth-services.js';
import { assertGrantAllowed } from '../../auth/clients.js';
import { passwordGrant } from '../../auth/password-grant.js';
import { refreshGrant } from '../../auth/refresh-grant.js';
import { InvalidRequest, MethodNotAllowed, UnsupportedGrantType } from '../../errors.js';
import { readClientCredentials } from '../client-credentials.js';
import type { RouteFamilyConfig } from '../error-handler.js';
import { OAuthErrorBody, TokenRequestForm, TokenResponseBody } from '../schemas.js';
import { assertNoCredentialsInQuery, readTokenForm, requireParam } from '../token-form.js';

/** DESIGN.md §1: a token request body larger than this is refused with 413. */
export const TOKEN_BODY_LIMIT = 16 * 1024;

const oauthRoute: RouteFamilyConfig = { oauth: true };

/**
 * POST /token: the password grant (RFC 6749 §4.3) and the refresh grant (§6). Other methods
 * answer 405 with `Allow: POST`.
 */
export async function tokenRoute(app: FastifyInstance, deps: AuthServices): Promise<void> {
  // Only form bodies reach this route: every other media type is invalid_request, not 415.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: TOKEN_BODY_LIMIT });
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new InvalidRequest('Content-Type must be application/x-www-form-urlencoded'), undefined);
  });

  app.post(
    '/token',
    {
      bodyLimit: TOKEN_BODY_LIMIT,
      config: oauthRoute,
      // The form rules of RFC 6749 §3.1 (empty means omitted, repeats refused) are checked by
      // readTokenForm with precise errors; the schema documents the form and the response.
      validatorCompiler: () => () => true,
      schema: {
        summary: 'Log in (OAuth2 password grant)',
        description:
          'Exchange a username and password for a bearer access token (RFC 6749 §4.3). ' +
          'Send the fields as application/x-www-form-urlencoded.',
        tags: ['auth'],
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenRequestForm,
        response: {
          200: { ...TokenResponseBody, description: 'An access token' },
          400: { ...OAuthErrorBody, description: 'The request or the credentials are wrong' },
          401: { ...OAuthErrorBody, description: 'Client authentication failed' },
        },
      },
    },
    async (request) => {
      assertNoCredentialsInQuery(request.query);
      if (request.body === undefined) throw new InvalidRequest('The request must have a form body');
      const form = readTokenForm(request.body);
      const grantType = form.grant_type ?? 'password';
      if (grantType !== 'password' && grantType !== 'refresh_token') throw new UnsupportedGrantType(`grant_type ${grantType}`);
      const client = await deps.clients.authenticate(readClientCredentials(request.headers.authorization, form));
      assertGrantAllowed(client, grantType, deps.passwordGrantPolicy);
      if (grantType === 'refresh_token') {
        return refreshGrant(deps, { refreshToken: requireParam(form, 'refresh_token'), scope: form.scope, client });
      }
      return passwordGrant(deps, {
        username: requireParam(form, 'username'),
        password: requireParam(form, 'password'),
        scope: form.scope,
        client,
      });
    },
  );

  // RFC 6749 §3.2: the token endpoint takes POST only; say so with 405 and Allow, in the OAuth body.
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/token',
    config: oauthRoute,
    schema: { hide: true },
    handler: async () => {
      throw new MethodNotAllowed(['POST']);
    },
  });
}
