import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import helmet from 'helmet';
import type { Config } from '../config.js';

/**
 * The one inline style Swagger UI renders: the `<style>` of the logo in its top bar (in
 * swagger-ui-standalone-preset.js; test/security-headers.test.ts checks the package still has it).
 * It is allowed by hash, so no 'unsafe-inline' is needed.
 */
const SWAGGER_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';

/** A CSP source allowing one inline script or style by the SHA-256 of its text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The Content-Security-Policy of every response. Swagger UI at /docs is served from the package
 * (scripts and styles from 'self', no inline script) and calls /token and the API on the same
 * origin; its icons are data: URIs. No CDN or other origin is allowed anywhere, and no page may
 * frame ours (clickjacking of the Authorize dialog).
 */
const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", cspHash(SWAGGER_LOGO_STYLE)],
};

/** Methods a browser may use cross-origin: everything the API routes use. */
const CORS_METHODS = ['GET', 'POST', 'PUT'];
/** Request headers a browser may send cross-origin: bearer tokens, Basic client credentials, bodies. */
const CORS_HEADERS = ['Authorization', 'Content-Type'];

/**
 * Security headers on every response (helmet): nosniff, frame denial (X-Frame-Options DENY and
 * CSP frame-ancestors 'none'), Referrer-Policy no-referrer, the CSP above. CORS stays off (no
 * Access-Control-* header at all) unless GATEHOUSE_CORS_ORIGINS lists origins; then only those
 * exact origins are allowed. Credentials (cookies) are never allowed: tokens travel in headers.
 *
 * Register before any other onRequest hook, so refusals made there carry these headers too and
 * CORS preflights are answered before the 405 of unrouted methods.
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  // helmet itself, built once: @fastify/helmet rebuilds its middleware (and re-parses the CSP) on
  // every request, which cost 8% of the /users/me hot path (docs/performance.md).
  const setHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addHook('onRequest', (request, reply, done) => setHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined)));
  if (config.corsOrigins.length === 0) return;
  const allowed = new Set(config.corsOrigins);
  await app.register(cors, {
    // A function rather than the list, so another origin gets no Access-Control-* header at all
    // (with a list, its preflight would still be answered with the allowed methods and headers).
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: CORS_METHODS,
    allowedHeaders: CORS_HEADERS,
    credentials: false,
  });
}

/**
 * True for a request that only @fastify/cors's catch-all `OPTIONS *` route matched: an OPTIONS
 * that is not an allowed preflight. It is treated as unrouted (405 or 404), as without CORS.
 */
export function isCorsCatchAll(request: FastifyRequest): boolean {
  return request.method === 'OPTIONS' && request.routeOptions.url === '*';
}

/**
 * For the few responses Fastify makes before any hook runs (a URL it cannot decode): the same
 * protections, set by hand since helmet's hook never ran. These bodies are small JSON errors, so
 * their policy allows nothing at all.
 */
export function setFallbackSecurityHeaders(reply: FastifyReply): void {
  if (reply.hasHeader('x-content-type-options')) return;
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
}
