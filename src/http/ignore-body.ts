import type { FastifyInstance } from 'fastify';

/**
 * Prepares an encapsulated scope for routes that take no body (logout, disable, enable): whatever
 * a client sends with them (a form, `Content-Type: application/json` with nothing after it, an
 * unknown or malformed media type) is read up to the body limit and dropped, so the request is
 * answered on its merits, never 400 or 415 for a body nobody reads. Past the limit it is still 413.
 */
export function ignoreRequestBodies(scope: FastifyInstance): void {
  // Runs after authentication (onRequest) and before Fastify looks at the media type: with no
  // Content-Type, any body goes to the catch-all parser below, whatever type it claimed.
  scope.addHook('preParsing', (request, _reply, payload, done) => {
    delete request.raw.headers['content-type'];
    done(null, payload);
  });
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
}
