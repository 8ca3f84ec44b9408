import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { assertScopes, type Principal, type ResourceAuthenticator } from '../auth/resource-authenticator.js';
import { parseBearer } from './bearer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on protected routes. */
    principal: Principal | null;
  }
}

/*
 * Both hooks run at onRequest, before the body is read: a caller without a valid token, or without
 * the route's scopes, learns nothing from the body's parser or schema (RFC 6750 §3: the challenge
 * comes first) and costs no body parsing.
 */

/** An onRequest hook that admits only requests with a valid bearer token of a live session and enabled user. */
export function authenticate(authenticator: ResourceAuthenticator): onRequestHookHandler {
  // Callback-style: a token seen before, with nothing changed since, is admitted without a promise.
  return function authenticateBearer(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    let token: string;
    try {
      token = parseBearer(request.headers.authorization);
    } catch (err) {
      return done(err as Error);
    }
    const known = authenticator.cached(token);
    if (known !== undefined) {
      request.principal = known;
      return done();
    }
    authenticator.authenticate(token).then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (err: Error) => done(err),
    );
  };
}

/** An onRequest hook, after `authenticate`, that refuses tokens lacking any of `scopes` (403). */
export function requireScopes(...scopes: string[]): onRequestHookHandler {
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
