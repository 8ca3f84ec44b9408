import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  GatehouseError,
  InsufficientScope,
  InvalidClient,
  InvalidRequest,
  InvalidToken,
  MethodNotAllowed,
  NotAuthenticated,
  NotFound,
  OAuthError,
  PayloadTooLarge,
} from '../errors.js';

/** Marks a route whose errors use the OAuth body `{error, error_description, detail}`. */
export interface RouteFamilyConfig {
  oauth?: boolean;
}

const OAUTH_CHALLENGE_REALM = 'gatehouse';

/**
 * The one place errors become HTTP responses. Domain errors carry their status and public text;
 * Fastify's own client errors are translated into the catalog; anything else is a logged 500
 * with generic text, never a stack trace.
 */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toCatalogError(error, request);
  if (!known) {
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'Internal Server Error' });
  }
  if (known.logDetail !== undefined) request.log.debug({ code: known.code, reason: known.logDetail }, 'request refused');
  reply.code(known.status);
  if (known instanceof MethodNotAllowed) reply.header('allow', known.allow.join(', '));
  if (known instanceof InvalidClient) reply.header('www-authenticate', `Basic realm="${OAUTH_CHALLENGE_REALM}"`);
  if (known instanceof NotAuthenticated) reply.header('www-authenticate', 'Bearer');
  if (known instanceof InvalidToken) {
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${known.description}"`);
  }
  if (known instanceof InsufficientScope) {
    reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${known.required.join(' ')}"`);
  }
  if (known instanceof OAuthError || isOAuthRoute(request)) {
    const error = known instanceof OAuthError ? known.code : 'invalid_request';
    return reply.send({ error, error_description: known.message, detail: known.message });
  }
  return reply.send({ detail: known.message });
}

/** Fastify's catch-all: unknown paths are 404, known paths with another method 405 with Allow. */
export function notFoundError(allowedMethods: readonly string[]): GatehouseError {
  return allowedMethods.length > 0 ? new MethodNotAllowed(allowedMethods) : new NotFound();
}

function isOAuthRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as RouteFamilyConfig | undefined)?.oauth === true;
}

class ClientError extends GatehouseError {
  readonly code = 'client_error';
  readonly status: number;
  constructor(status: number, text: string) {
    super(text);
    this.status = status;
  }
}

function toCatalogError(error: unknown, request: FastifyRequest): GatehouseError | undefined {
  if (error instanceof GatehouseError) return error;
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLarge(request.routeOptions.bodyLimit ?? 0);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return isOAuthRoute(request)
        ? new InvalidRequest('Content-Type must be application/x-www-form-urlencoded')
        : new ClientError(415, 'Unsupported Media Type');
    default:
      return isOAuthRoute(request) ? new InvalidRequest('The request is malformed') : new ClientError(status, STATUS_CODES[status] ?? 'Bad Request');
  }
}
