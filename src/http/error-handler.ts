import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Duplex } from 'node:stream';
import { OAUTH_PATHS } from './oauth-endpoint.js';
import { API_HEADERS } from './security-headers.js';
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
  ServerBusy,
  StoreUnavailable,
  TooManyRequests,
} from '../errors.js';
import { isStoreUnavailable } from '../store/store-unavailable.js';

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
  if (known instanceof StoreUnavailable) request.log.warn({ reason: known.logDetail }, 'database unavailable');
  else if (known.logDetail !== undefined) request.log.debug({ code: known.code, reason: known.logDetail }, 'request refused');
  reply.code(known.status);
  // Errors are never cached, including those raised outside the usual request lifecycle.
  reply.header('cache-control', 'no-store');
  reply.header('pragma', 'no-cache');
  if (known instanceof MethodNotAllowed) reply.header('allow', known.allow.join(', '));
  if (known instanceof ServerBusy || known instanceof TooManyRequests || known instanceof StoreUnavailable) {
    reply.header('retry-after', String(known.retryAfter));
  }
  if (known instanceof InvalidClient) reply.header('www-authenticate', `Basic realm="${OAUTH_CHALLENGE_REALM}"`);
  if (known instanceof NotAuthenticated) reply.header('www-authenticate', 'Bearer');
  if (known instanceof InvalidToken) {
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${known.description}"`);
  }
  if (known instanceof InsufficientScope) {
    reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${known.required.join(' ')}"`);
  }
  if (known instanceof OAuthError || isOAuthRoute(request)) {
    // A bearer error on an OAuth endpoint (an admin token at /introspect) keeps its RFC 6750 code.
    const coded = known instanceof OAuthError || known instanceof InvalidToken || known instanceof InsufficientScope || known instanceof StoreUnavailable;
    const error = coded ? known.code : 'invalid_request';
    return reply.send({ error, error_description: known.message, detail: known.message });
  }
  return reply.send({ detail: known.message });
}

/**
 * The error for a request no route matched: 405 with Allow when the path exists under other
 * methods, else 404. Decided in onRequest, before any body is read.
 */
export function unroutedError(allowedMethods: readonly string[]): GatehouseError {
  return allowedMethods.length > 0 ? new MethodNotAllowed(allowedMethods) : new NotFound();
}

/** What Node's HTTP parser reports, as our answer: status and public text. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Chunk extensions too large'],
  // Set by `requestTimeout`: the request did not arrive whole in time.
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request took too long to arrive'],
};
const MALFORMED: readonly [number, string] = [400, 'Malformed HTTP request'];

/**
 * A whole raw response, built once per kind: the body fits both error families (the path may be
 * unknown), it is never cached, and it carries the security headers of every other JSON answer.
 */
function rawClientErrorResponse([status, text]: readonly [number, string], extraHeaders: readonly string[] = []): string {
  const body = JSON.stringify({ error: 'invalid_request', error_description: text, detail: text });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Pragma: no-cache',
    ...Object.entries(API_HEADERS).map(([name, value]) => `${name}: ${value}`),
    ...extraHeaders,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const RAW_CLIENT_ERRORS = new Map(Object.entries(CLIENT_ERRORS).map(([code, kind]) => [code, rawClientErrorResponse(kind)]));
const RAW_MALFORMED = rawClientErrorResponse(MALFORMED);

/** Set on a socket whose client error is being answered: Node reports it again for every later chunk. */
const ANSWERING = Symbol('client error being answered');
type HttpSocket = Duplex & {
  _httpMessage?: ServerResponse | null;
  /** Node's parser of the connection; `incoming` is the last request whose headers it read. */
  parser?: { incoming?: IncomingMessage | null } | null;
  [ANSWERING]?: true;
};

/**
 * Answers what Node's HTTP server refuses on the raw socket, before any route or hook: bad
 * framing, conflicting lengths, oversized headers (431), a request slower than `requestTimeout`
 * (408). The requests the client pipelined before the refused one are answered first, in order:
 * they may already have changed something (a logout, a login), and the client must learn it.
 * Then the refusal, and the connection closes: nothing after the bad bytes can be parsed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const httpSocket = socket as HttpSocket;
  if (httpSocket[ANSWERING] === true) return;
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  httpSocket[ANSWERING] = true;
  // A request handed to the app whose body then failed (bad chunks, too slow) is the refused one:
  // the app may have answered it already. Otherwise the bad bytes began a request of their own.
  const incoming = httpSocket.parser?.incoming;
  const refused = incoming != null && !incoming.complete ? incoming : undefined;
  answerAfterEarlierRequests(httpSocket, RAW_CLIENT_ERRORS.get(err.code ?? '') ?? RAW_MALFORMED, refused);
}

function answerAfterEarlierRequests(socket: HttpSocket, answer: string, refused: IncomingMessage | undefined): void {
  // Lost meanwhile, or closing after an earlier answer that said `Connection: close` (RFC 9112
  // §9.6): nothing more is written.
  if (!socket.writable) return;
  // Node's in-flight response, the first of those not yet finished: they finish in order. 'close'
  // also comes alone when the connection is lost, and Node then hands the socket to the next one.
  const inFlight = socket._httpMessage;
  if (inFlight != null && inFlight.req !== refused) {
    inFlight.once('close', () => answerAfterEarlierRequests(socket, answer, refused));
    return;
  }
  // The refused request's own answer, already sent or begun (it was decided before the body): the
  // connection closes after it, without a second answer to the same request.
  if (refused !== undefined && inFlight == null) socket.end();
  else if (refused !== undefined && inFlight?.headersSent === true) inFlight.once('close', () => socket.end());
  else socket.end(answer);
}

/**
 * CONNECT asks for a tunnel to the authority it names, a resource on which this server allows no
 * method: 405 with an empty Allow (RFC 9110 §10.2.1).
 */
const RAW_CONNECT_REFUSAL = rawClientErrorResponse([405, 'Method Not Allowed'], ['Allow: ']);
/** How long a refused CONNECT's connection may stay open for its client to read the answer and close. */
const CONNECT_LINGER_MS = 2000;

/**
 * Answers a CONNECT request on the socket Node has handed over without its own handlers, then
 * closes the connection: whatever the client sends next would be meant for a tunnel.
 */
export function answerConnect(socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  // The server allows half-open connections: a client that never closes its side is cut off.
  const linger = setTimeout(() => socket.destroy(), CONNECT_LINGER_MS).unref();
  socket.once('close', () => clearTimeout(linger));
  socket.end(RAW_CONNECT_REFUSAL);
}

function isOAuthRoute(request: FastifyRequest): boolean {
  if ((request.routeOptions?.config as RouteFamilyConfig | undefined)?.oauth === true) return true;
  return OAUTH_PATHS.has(routedPath(request.url));
}

/**
 * The path of a request URL as the router matches it: percent-decoded, so that `/%74oken`, which
 * the router serves as /token, is answered as /token when refused too. A malformed escape is left
 * as it came: no route has such a path.
 */
function routedPath(url: string): string {
  const path = pathOf(url);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
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
  if (isStoreUnavailable(error)) return new StoreUnavailable((error as Error).message);
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLarge(request.routeOptions?.bodyLimit ?? 0);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return isOAuthRoute(request)
        ? new InvalidRequest('Content-Type must be application/x-www-form-urlencoded')
        : new ClientError(415, 'Unsupported Media Type');
    case 'FST_ERR_VALIDATION':
      // FastAPI answers schema failures 422 with the validator's message; ajv's text names only
      // schema properties and rules, never the value sent.
      return isOAuthRoute(request)
        ? new InvalidRequest('The request is malformed')
        : new ClientError(422, fastifyError.message ?? 'Unprocessable Entity');
    default:
      return isOAuthRoute(request) ? new InvalidRequest('The request is malformed') : new ClientError(status, STATUS_CODES[status] ?? 'Bad Request');
  }
}
