import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createRequire } from 'node:module';
import type { AuthServices } from './auth/auth-services.js';
import type { Config } from './config.js';
import { recheckAfterBody } from './http/authenticate.js';
import { keepClientAddresses } from './http/client-address.js';
import { lazyChildLoggerFactory } from './http/lazy-child-logger.js';
import { registerDocs } from './http/docs.js';
import { answerClientError, pathOf, sendError, unroutedError } from './http/error-handler.js';
import { registerFailureRateLimit } from './http/failure-rate-limit.js';
import { acceptUtf8JsonOnly } from './http/json-body.js';
import { answerHalfClosedClients, deferUnmetExpectations, LENIENT_NODE_OPTIONS, protocolViolation, refuseTunnels } from './http/protocol-rules.js';
import { orderPipelinedRequests } from './http/pipelined-requests.js';
import { logAudit } from './http/request-audit.js';
import { requestIdGenerator } from './http/request-ids.js';
import { accountRoutes } from './http/routes/account-routes.js';
import { adminUsersRoutes } from './http/routes/admin-users-routes.js';
import { healthRoutes } from './http/routes/health-routes.js';
import { jwksRoute } from './http/routes/jwks-route.js';
import { metadataRoute } from './http/routes/metadata-route.js';
import { logoutRoutes, revocationRoutes } from './http/routes/revocation-routes.js';
import { tokenRoute } from './http/routes/token-route.js';
import { usersRoutes } from './http/routes/users-routes.js';
import { isCorsCatchAll, registerSecurityHeaders, setFallbackSecurityHeaders } from './http/security-headers.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const NO_STORE = Object.freeze({ 'cache-control': 'no-store', pragma: 'no-cache' });

/**
 * The methods a route has for the concrete `path` (for a 405's Allow). Looked up as the router
 * routes a request (`findRoute`), not as a route pattern (`hasRoute`), which reads `*`, `:` and
 * parentheses in a client's path as wildcards, parameters and regular expressions: it threw on a
 * `*` inside a path (a 500), and never matched `/admin/users/johndoe/password` to its `:username`
 * route (a 404 instead of 405). The CORS catch-all `OPTIONS *` is no method of a path.
 */
function methodsOf(app: FastifyInstance, path: string): string[] {
  return ALL_METHODS.filter((method) => {
    const found = app.findRoute({ method, url: path });
    return found !== null && !(method === 'OPTIONS' && '*' in found.params);
  });
}

export interface BuildAppOptions {
  /** Overrides Fastify's logger (tests capture logs through it). */
  readonly logger?: FastifyServerOptions['logger'];
}

/**
 * Builds the Gatehouse HTTP application on the given services. Never listens: `main.ts` does,
 * tests use `inject()`.
 */
export async function buildApp(config: Config, services: AuthServices, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      // Only the path is logged: a query string may carry credentials a client misplaced.
      serializers: { req: (req) => ({ method: req.method, path: req.url.split('?')[0], reqId: req.id }) },
    },
    // Per-request access lines would sit on the hot path; audit events are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    genReqId: requestIdGenerator(),
    return503OnClosing: true,
    // Bodies are small everywhere; /token sets its own 16 KiB limit.
    bodyLimit: 16 * 1024,
    // Malformed URLs and framing get the same catalog errors and no-store headers as the rest.
    frameworkErrors: (error, request, reply) => {
      setFallbackSecurityHeaders(reply);
      return sendError(error, request, reply);
    },
    clientErrorHandler: answerClientError,
    // A request must arrive whole within GATEHOUSE_REQUEST_TIMEOUT (else 408 and the connection
    // closes), so a client trickling its body cannot hold a connection for ever. Idle keep-alive
    // connections close after Fastify's 72 s, past the 60 s idle timeout of common load
    // balancers, so the balancer never reuses a connection we are closing. No socket idle timeout
    // (`connectionTimeout`): Node would arm a new timer on every keep-alive request, a cost the
    // /users/me hot path measurably pays, and the two timeouts above bound reading and idling.
    requestTimeout: config.requestTimeout * 1000,
    keepAliveTimeout: 72_000,
    http: {
      // Requests without Host reach the app, which refuses them with its usual headers and body.
      ...LENIENT_NODE_OPTIONS,
      // How often Node looks for requests past their deadline (its default, 30 s, could double it).
      connectionsCheckingInterval: 1000,
      // Node's own default (60 s) must not exceed the request timeout: Node would then take the
      // larger of the two for the whole request.
      headersTimeout: Math.min(60_000, config.requestTimeout * 1000),
    },
    // A JSON body of the wrong type is refused (422), never silently converted ("me" -> ["me"]).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // X-Forwarded-For is believed only from the configured proxies; otherwise request.ip (the key
    // of the failed-login limit) is the socket's address, which a client cannot choose.
    trustProxy: config.trustProxy === undefined ? false : [...config.trustProxy],
  });

  // Before anything reads an address: audit lines carry it even once the connection is gone.
  keepClientAddresses(app.server);
  answerHalfClosedClients(app.server);
  deferUnmetExpectations(app.server);
  refuseTunnels(app.server);
  app.decorateRequest('principal', null);
  // Before any route: every protected route with a body checks its token again once it has arrived.
  recheckAfterBody(app);
  services.audit.attach(logAudit(app.log));
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  acceptUtf8JsonOnly(app);
  // First of the onRequest hooks: a request pipelined behind an unsafe one waits before any of them.
  orderPipelinedRequests(app);
  // Before the hook below: refusals carry the security headers, and CORS preflights are answered.
  await registerSecurityHeaders(app, config);
  await registerFailureRateLimit(app, config);
  // Requests HTTP forbids serving, and unrouted ones, are refused before their body is read: a PUT
  // to /token is 405, not a content-type or size error.
  // Hooks on every request are callback-style: an async hook costs a promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    const violation = protocolViolation(request);
    if (violation !== undefined) return done(violation);
    if (!request.is404 && !isCorsCatchAll(request)) return done();
    done(unroutedError(methodsOf(app, pathOf(request.url))));
  });
  app.setNotFoundHandler((request, reply) => sendError(unroutedError([]), request, reply));
  // RFC 6749 §5.1 asks no-store for token responses; we apply it to every response that does not
  // choose its own caching, since user data and errors must not be cached either.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) reply.headers(NO_STORE);
    done(null, payload);
  });

  await registerDocs(app, services.scopes, version);
  await app.register(async (scope) => tokenRoute(scope, services));
  await app.register(async (scope) => usersRoutes(scope, services.authenticator));
  await app.register(async (scope) => jwksRoute(scope, services.keys));
  await app.register(async (scope) => healthRoutes(scope, services.store));
  await app.register(async (scope) => revocationRoutes(scope, services));
  await app.register(async (scope) => logoutRoutes(scope, services));
  await app.register(async (scope) => metadataRoute(scope, config.issuer, services.scopes, config.passwordGrant));
  await app.register(async (scope) => accountRoutes(scope, services));
  await app.register(async (scope) => adminUsersRoutes(scope, services));
  return app;
}
