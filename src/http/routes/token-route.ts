import type { FastifyInstance } from 'fastify';
import type { AuthServices } from '../../auth/auth-services.js';
import { assertGrantAllowed } from '../../auth/clients.js';
import { passwordGrant } from '../../auth/password-grant.js';
import { refreshGrant } from '../../auth/refresh-grant.js';
import { UnsupportedGrantType } from '../../errors.js';
import { readClientCredentials } from '../client-credentials.js';
import { assertNoCredentialsInQuery, readForm, requireParam } from '../oauth-form.js';
import { limitFailedAttempts } from '../failure-rate-limit.js';
import { acceptFormsOnly, OAUTH_BODY_LIMIT, oauthRoute } from '../oauth-endpoint.js';
import { CLIENT_BASIC_SCHEME, OAuthErrorBody, TokenRequestForm, TokenResponseBody } from '../schemas.js';
import { requestAudit } from '../request-audit.js';

const TOKEN_FIELDS = ['grant_type', 'username', 'password', 'scope', 'refresh_token', 'client_id', 'client_secret'] as const;

/**
 * POST /token: the password grant (RFC 6749 §4.3) and the refresh grant (§6). Other methods
 * answer 405 with `Allow: POST`.
 */
export async function tokenRoute(app: FastifyInstance, deps: AuthServices): Promise<void> {
  acceptFormsOnly(app);
  limitFailedAttempts(app);
  app.post(
    '/token',
    {
      bodyLimit: OAUTH_BODY_LIMIT,
      config: oauthRoute,
      // The form rules of RFC 6749 §3.1 (empty means omitted, repeats refused) are checked by
      // readForm with precise errors; the schema documents the form and the response.
      validatorCompiler: () => () => true,
      schema: {
        summary: 'Log in (OAuth2 password grant) or refresh',
        description:
          'Exchange a username and password (RFC 6749 §4.3), or a refresh token (§6), for a bearer access token ' +
          'and a new single-use refresh token. Send the fields as application/x-www-form-urlencoded.',
        tags: ['auth'],
        // A registered client authenticates (Basic here, or form fields); none means the built-in public client.
        security: [{ [CLIENT_BASIC_SCHEME]: [] }, {}],
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
      const form = readForm(request.body, TOKEN_FIELDS);
      const grantType = form.grant_type ?? 'password';
      if (grantType !== 'password' && grantType !== 'refresh_token') throw new UnsupportedGrantType(`grant_type ${grantType}`);
      const client = await deps.clients.authenticate(readClientCredentials(request.headers.authorization, form));
      assertGrantAllowed(client, grantType, deps.passwordGrantPolicy);
      const audit = requestAudit(request);
      if (grantType === 'refresh_token') {
        return refreshGrant(deps, { refreshToken: requireParam(form, 'refresh_token'), scope: form.scope, client }, audit);
      }
      const credentials = { username: requireParam(form, 'username'), password: requireParam(form, 'password') };
      return passwordGrant(deps, { ...credentials, scope: form.scope, client }, audit);
    },
  );
}
