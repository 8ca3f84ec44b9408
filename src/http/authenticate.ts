import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify';
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
export function requireScopes(...scopes: string[]): preHandlerHookHandler {
  // Callback-style, as it never waits: an async hook costs a promise on every protected request.
  return function requireTokenScopes(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    try {
      assertScopes(request.principal!, scopes);
    } catch (err) {
      return done(err as Error);
    }
    done();
  };
}
