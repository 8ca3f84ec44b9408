import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AuthServices } from '../../auth/auth-services.js';
import { UserNotFound } from '../../errors.js';
import type { UserRecord } from '../../store/store.js';
import { authenticate, requireScopes } from '../authenticate.js';
import { ignoreRequestBodies } from '../ignore-body.js';
import {
  AdminUser,
  CreateUserBody,
  DetailError,
  jsonBodyErrors,
  OAUTH2_SCHEME,
  protectedRouteErrors,
  ResetPasswordBody,
  SetScopesBody,
  UsernameParams,
} from '../schemas.js';
import { requestAudit } from '../request-audit.js';

const userNotFound = { 404: { ...DetailError, description: 'No such user' } } as const;

/** The wire form of a user for admins: an explicit field list, so the hash can never leak. */
function toAdminUser(user: UserRecord): Static<typeof AdminUser> {
  return { username: user.username, email: user.email, full_name: user.fullName, disabled: user.disabled, scopes: [...user.scopes] };
}

/** The admin API under /admin/users: every route needs a token with the privileged `admin` scope. */
export async function adminUsersRoutes(scope: FastifyInstance, services: AuthServices): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { users } = services;
  const common = {
    onRequest: [authenticate(services.authenticator), requireScopes('admin')],
  };
  const doc = { tags: ['admin'], security: [{ [OAUTH2_SCHEME]: ['admin'] }] };

  /** Reads the user back after a change the store reported; `changed` false means no such user. */
  async function afterChange(username: string, changed: boolean) {
    if (!changed) throw new UserNotFound();
    return toAdminUser(await users.get(username));
  }

  app.post(
    '/admin/users',
    {
      ...common,
      schema: {
        ...doc,
        summary: 'Create a user',
        body: CreateUserBody,
        response: {
          201: { ...AdminUser, description: 'The new user' },
          ...protectedRouteErrors,
          409: { ...DetailError, description: 'The username is taken' },
          ...jsonBodyErrors,
        },
      },
    },
    async (request, reply) => {
      const { full_name: fullName, ...input } = request.body;
      return reply.code(201).send(toAdminUser(await users.create({ ...input, fullName }, { audit: requestAudit(request) })));
    },
  );

  app.get(
    '/admin/users',
    {
      ...common,
      schema: { ...doc, summary: 'List users', response: { 200: Type.Array(AdminUser, { description: 'Every user' }), ...protectedRouteErrors } },
    },
    async () => (await users.list()).map(toAdminUser),
  );

  app.get(
    '/admin/users/:username',
    {
      ...common,
      schema: {
        ...doc,
        summary: 'Read a user',
        params: UsernameParams,
        response: { 200: { ...AdminUser, description: 'The user' }, ...protectedRouteErrors, ...userNotFound },
      },
    },
    async (request) => toAdminUser(await users.get(request.params.username)),
  );

  // Disable and enable take no body; their own scope ignores whatever body comes with them.
  await app.register(async (bodyless) => {
    ignoreRequestBodies(bodyless);
    for (const action of ['disable', 'enable'] as const) {
      bodyless.withTypeProvider<TypeBoxTypeProvider>().post(
        `/admin/users/:username/${action}`,
        {
          ...common,
          schema: {
            ...doc,
            summary: action === 'disable' ? 'Disable a user (their tokens stop working at once)' : 'Enable a user',
            params: UsernameParams,
            response: { 200: { ...AdminUser, description: 'The user' }, ...protectedRouteErrors, ...userNotFound },
          },
        },
        async (request) => {
          const { username } = request.params;
          return afterChange(username, await users.setDisabled(username, action === 'disable', requestAudit(request)));
        },
      );
    }
  });

  app.put(
    '/admin/users/:username/scopes',
    {
      ...common,
      schema: {
        ...doc,
        summary: "Replace a user's scopes",
        params: UsernameParams,
        body: SetScopesBody,
        response: { 200: { ...AdminUser, description: 'The user' }, ...protectedRouteErrors, ...userNotFound, ...jsonBodyErrors },
      },
    },
    async (request) => {
      const { username } = request.params;
      return afterChange(username, await users.setScopes(username, request.body.scopes, requestAudit(request)));
    },
  );

  app.put(
    '/admin/users/:username/password',
    {
      ...common,
      schema: {
        ...doc,
        summary: "Reset a user's password",
        description: 'Ends every session of the user.',
        params: UsernameParams,
        body: ResetPasswordBody,
        response: { 204: Type.Null({ description: 'Password reset' }), ...protectedRouteErrors, ...userNotFound, ...jsonBodyErrors },
      },
    },
    async (request, reply) => {
      if (!(await users.setPassword(request.params.username, request.body.password, undefined, requestAudit(request)))) throw new UserNotFound();
      return reply.code(204).send(null);
    },
  );
}
