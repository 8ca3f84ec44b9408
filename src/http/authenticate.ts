import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler, RouteOptions } from 'fastify';
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
 * comes first) and costs no body parsing. On routes whose requests carry a body, they run again
 * once it has arrived (see `recheckAfterBody`).
 */

/** The hooks made by `authenticate` and `requireScopes`, which `recheckAfterBody` runs again. */
const ACCESS_CHECKS = new WeakSet<onRequestHookHandler>();

/** An onRequest hook that admits only requests with a valid bearer token of a live session and enabled user. */
export function authenticate(authenticator: ResourceAuthenticator): onRequestHookHandler {
  // Callback-style: a token seen before, with nothing changed since, is admitted without a promise.
  function authenticateBearer(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
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
  }
  ACCESS_CHECKS.add(authenticateBearer);
  return authenticateBearer;
}

/** An onRequest hook, after `authenticate`, that refuses tokens lacking any of `scopes` (403). */
export function requireScopes(...scopes: string[]): onRequestHookHandler {
  // Callback-style, as it never waits: an async hook costs a promise on every protected request.
  function requireTokenScopes(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    try {
      assertScopes(request.principal!, scopes);
    } catch (err) {
      return done(err as Error);
    }
    done();
  }
  ACCESS_CHECKS.add(requireTokenScopes);
  return requireTokenScopes;
}

/** Methods whose requests never carry a body we read: checked at onRequest, they run at once. */
const BODILESS = new Set(['GET', 'HEAD']);

/**
 * Makes every route registered after this call on `app` (and its children) whose method may carry
 * a body run its `authenticate` and `requireScopes` hooks a second time, once the body has been
 * read and parsed, before the schema validates it. A body may arrive up to the request timeout
 * after the headers: a session ended, a user disabled or a scope removed meanwhile must stop the
 * request as it would have stopped it at onRequest, not let a revoked admin token act by trickling
 * its body. GET and HEAD are left alone: their handler runs right after onRequest.
 */
export function recheckAfterBody(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if ([route.method].flat().every((method) => BODILESS.has(method))) return;
    const checks = [route.onRequest ?? []].flat().filter((hook) => ACCESS_CHECKS.has(hook as onRequestHookHandler));
    if (checks.length === 0) return;
    route.preValidation = [...checks, ...[route.preValidation ?? []].flat()] as RouteOptions['preValidation'];
  });
}
