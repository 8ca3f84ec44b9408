import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { assertScopes, type Principal, type ResourceAuthenticator } from '../auth/resource-authenticator.js';
import { parseBearer } from './bearer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on protected routes. */
    principal: Principal | null;
  }
}

/** A preHandler that admits only requests with a valid bearer token of a live session and enabled user. */
export function authenticate(authenticator: ResourceAuthenticator): preHandlerAsyncHookHandler {
  return async function authenticateBearer(request: FastifyRequest) {
    request.principal = await authenticator.authenticate(parseBearer(request.headers.authorization));
  };
}

/** A preHandler, after `authenticate`, that refuses tokens lacking any of `scopes` (403). */
export function requireScopes(...scopes: string[]): preHandlerAsyncHookHandler {
  return async function requireTokenScopes(request: FastifyRequest) {
    assertScopes(request.principal!, scopes);
  };
}
