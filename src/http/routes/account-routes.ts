import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AuthServices } from '../../auth/auth-services.js';
import { authenticate, requireScopes } from '../authenticate.js';
import { ChangePasswordBody, DetailError, jsonBodyErrors, OAUTH2_SCHEME, protectedRouteErrors } from '../schemas.js';
import { requestAudit } from '../request-audit.js';
import { limitFailedAttempts } from '../failure-rate-limit.js';

/** PUT /users/me/password: the signed-in user changes their own password. */
export async function accountRoutes(scope: FastifyInstance, services: AuthServices): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  // A wrong current password is a failed attempt, counted with the address's failed logins.
  limitFailedAttempts(app);

  app.put(
    '/users/me/password',
    {
      onRequest: [authenticate(services.authenticator), requireScopes('me')],
      schema: {
        summary: 'Change the current user\'s password',
        description: 'Needs the current password. Ends every other session of the user; this token keeps working.',
        tags: ['users'],
        security: [{ [OAUTH2_SCHEME]: ['me'] }],
        body: ChangePasswordBody,
        response: {
          204: Type.Null({ description: 'Password changed' }),
          ...protectedRouteErrors,
          400: { ...DetailError, description: 'Incorrect current password, or inactive user' },
          ...jsonBodyErrors,
          429: { ...DetailError, description: 'Too many failed attempts from this address; see Retry-After' },
          503: { ...DetailError, description: 'The server is busy checking passwords; see Retry-After' },
        },
      },
    },
    async (request, reply) => {
      const { user, claims } = request.principal!;
      await services.users.changePassword(user, request.body.current_password, request.body.new_password, claims.sid, requestAudit(request));
      return reply.code(204).send(null);
    },
  );
}
