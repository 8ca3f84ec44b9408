import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '../errors.js';
import type { RouteFamilyConfig } from './error-handler.js';
import { parseForm } from './form-body.js';
import { notUtf8Text } from './media-type.js';

/** DESIGN.md §1: an OAuth endpoint's body larger than this is refused with 413. */
export const OAUTH_BODY_LIMIT = 16 * 1024;

/** Route config for endpoints whose errors use the OAuth body `{error, error_description, detail}`. */
export const oauthRoute: RouteFamilyConfig = { oauth: true };

/** The OAuth endpoints' paths: errors raised before routing (405, bad URL) still get the OAuth body. */
export const OAUTH_PATHS: ReadonlySet<string> = new Set(['/token', '/revoke', '/introspect']);

/**
 * Prepares an encapsulated scope for OAuth endpoints (token, revocation, introspection): only
 * form bodies are parsed, and any other media type is invalid_request rather than 415.
 */
export function acceptFormsOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  // Form bodies are UTF-8 (RFC 6749 Appendix B); a body in another charset or compressed would be
  // misread, so it is refused rather than guessed at.
  app.addHook('onRequest', async (request) => {
    const refused = notUtf8Text(request.headers);
    if (refused === 'encoding') throw new InvalidRequest('Content-Encoding is not supported');
    if (refused === 'charset') throw new InvalidRequest('The form must be UTF-8');
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: OAUTH_BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, parseForm(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new InvalidRequest('Content-Type must be application/x-www-form-urlencoded'), undefined);
  });
}
