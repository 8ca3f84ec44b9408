import type { FastifyInstance } from 'fastify';
import type { ResourceAuthenticator } from '../../auth/resource-authenticator.js';
import { authenticate, requireScopes } from '../authenticate.js';
import { Item, OAUTH2_SCHEME, protectedRouteErrors, PublicUser } from '../schemas.js';
import { Type } from 'typebox';

/** GET /users/me and GET /users/me/items: the tutorial's protected resources. */
export async function usersRoutes(app: FastifyInstance, authenticator: ResourceAuthenticator): Promise<void> {
  const bearer = authenticate(authenticator);

  app.get(
    '/users/me',
    {
      onRequest: [bearer, requireScopes('me')],
      schema: {
        summary: 'Read the current user',
        tags: ['users'],
        security: [{ [OAUTH2_SCHEME]: ['me'] }],
        response: { 200: { ...PublicUser, description: 'The current user' }, ...protectedRouteErrors },
      },
    },
    async (request) => {
      const { username, email, fullName, disabled } = request.principal!.user;
      return { username, email, full_name: fullName, disabled };
    },
  );

  app.get(
    '/users/me/items',
    {
      onRequest: [bearer, requireScopes('items', 'me')],
      schema: {
        summary: "Read the current user's items",
        tags: ['users'],
        security: [{ [OAUTH2_SCHEME]: ['items', 'me'] }],
        response: { 200: Type.Array(Item, { description: "The current user's items" }), ...protectedRouteErrors },
      },
    },
    async (request) => [{ item_id: 'Foo', owner: request.principal!.user.username }],
  );
}
