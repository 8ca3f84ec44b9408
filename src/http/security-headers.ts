import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
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
 * The Content-Security-Policy of the docs pages. Swagger UI at /docs is served from the package
 * (scripts and styles from 'self', no inline script) and calls /token and the API on the same
 * origin; its icons are data: URIs. No CDN or other origin is allowed anywhere, and no page may
 * frame ours (clickjacking of the Authorize dialog).
 */
const DOCS_CSP = {
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

/** Everything else is JSON that no browser should render, run or frame (OWASP REST Security). */
const API_CSP = { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] };

/** The paths of Swagger UI's page and assets. */
const DOCS_PATH = /^\/docs(?:[/?]|$)/;

/**
 * helmet's options for the docs pages: its defaults (every header a browser document benefits
 * from) with our CSP, frame denial and no referrer.
 */
const DOCS_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/**
 * For JSON answers, the headers OWASP's REST Security Cheat Sheet lists (CSP, HSTS, nosniff,
 * frame denial) plus no referrer and same-origin resource policy. The rest of helmet's set
 * governs documents (COOP, Origin-Agent-Cluster, DNS prefetch) or retired clients (IE8
 * downloads, Flash policies, the XSS auditor) and would only lengthen every answer.
 */
const API_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * Runs helmet once and keeps the headers it sets. helmet's headers depend only on its options,
 * never on the request, so computing them per request (as @fastify/helmet does, re-parsing the CSP
 * each time) only cost time: 8% of the /users/me hot path (docs/performance.md).
 */
function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return Object.freeze(headers);
}

const DOCS_HEADERS = helmetHeaders(DOCS_OPTIONS);
/** The security headers of every answer but the docs pages'. */
export const API_HEADERS = helmetHeaders(API_OPTIONS);

/** Methods a browser may use cross-origin: everything the API routes use. */
const CORS_METHODS = ['GET', 'POST', 'PUT'];
/** Request headers a browser may send cross-origin: bearer tokens, Basic client credentials, bodies. */
const CORS_HEADERS = ['Authorization', 'Content-Type'];

/**
 * Security headers on every response (helmet): nosniff, frame denial (X-Frame-Options DENY and
 * CSP frame-ancestors 'none'), Referrer-Policy no-referrer, and a CSP: the docs pages' own, and
 * one that allows nothing elsewhere. CORS stays off (no Access-Control-* header at all) unless GATEHOUSE_CORS_ORIGINS lists origins; then only those
 * exact origins are allowed. Credentials (cookies) are never allowed: tokens travel in headers.
 *
 * Register before any other onRequest hook, so refusals made there carry these headers too and
 * CORS preflights are answered before the 405 of unrouted methods.
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(DOCS_PATH.test(request.url) ? DOCS_HEADERS : API_HEADERS);
    done();
  });
  if (config.corsOrigins.length === 0) return;
  const allowed = new Set(config.corsOrigins);
  const { default: cors } = await import('@fastify/cors');
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
 * headers as every other JSON answer, since the hook above never ran.
 */
export function setFallbackSecurityHeaders(reply: FastifyReply): void {
  if (!reply.hasHeader('x-content-type-options')) reply.headers(API_HEADERS);
}
