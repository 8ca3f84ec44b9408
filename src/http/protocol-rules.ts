import type { FastifyRequest } from 'fastify';
import type { Server, ServerOptions } from 'node:http';
import { ExpectationFailed, InvalidHost, MissingHost, RepeatedAuthorization, UnsupportedTransferCoding, type GatehouseError } from '../errors.js';
import { answerConnect } from './error-handler.js';

/**
 * Node's server options under which requests without Host reach the app, which refuses them
 * itself (see `protocolViolation`): Node's own refusal is a bare 400 with no header at all, not
 * even the security headers every answer carries.
 */
export const LENIENT_NODE_OPTIONS: ServerOptions = { requireHostHeader: false };

/**
 * Hands requests whose Expect is not 100-continue to the app, which refuses them (417) itself, with
 * the usual headers and body; Node's own 417 has none. Node emits 'checkExpectation' instead of
 * 'request' for them.
 */
export function deferUnmetExpectations(server: Server): void {
  server.on('checkExpectation', (request, response) => server.emit('request', request, response));
}

/**
 * Answers CONNECT (RFC 9110 §9.3.6), which asks for a tunnel: none is offered. Node emits
 * 'connect' instead of 'request' for it, and without a listener drops the connection unanswered.
 */
export function refuseTunnels(server: Server): void {
  server.on('connect', (_request, socket) => answerConnect(socket));
}

/**
 * Answers a client that half-closes its side once it has sent its requests, as `socket.end(request)`
 * does: Node by default ended the connection on the client's FIN, so a request still running (any
 * route that awaits) was carried out but never answered. Allowed half-open, Node closes the
 * connection after the last pending response instead, at once if none is pending; a request cut
 * short by the FIN is refused 400 either way. Nothing lingers half-open: no request can follow
 * the FIN, so no keep-alive wait starts and no request is left arriving.
 */
export function answerHalfClosedClients(server: Server): void {
  // Node's own switch, not in its type definitions: socketOnEnd in lib/_http_server.js reads it.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}

/** Node's test for the 100-continue expectation, which it meets itself. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * RFC 9112 §3.2's Host = uri-host [ ":" port ] (RFC 3986 §3.2.2): an IP literal in brackets, or a
 * reg-name (an IPv4 address is one too) that may be empty, then digits after a colon.
 */
const HOST = /^(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[\w\-.~!$&'()*+,;=:]+)\]|(?:[\w\-.~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/** A Transfer-Encoding of chunked alone, empty list elements aside (RFC 9110 §5.6.1). */
const CHUNKED_ONLY = /^[ \t,]*chunked[ \t,]*$/i;

/** Which of Host and Authorization a request repeats: Node keeps only the first, so only the raw headers tell. */
function repeatedHeader(rawHeaders: readonly string[]): GatehouseError | undefined {
  let hosts = 0;
  let authorizations = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // The length first: most names are neither, and are never lower-cased.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (++hosts > 1) return InvalidHost.repeated();
    } else if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (++authorizations > 1) return new RepeatedAuthorization();
    }
  }
  return undefined;
}

/**
 * The error for a request the protocol forbids serving: an HTTP/1.1 request without Host, a
 * request with more than one Host or an invalid one (RFC 9112 §3.2), more than one Authorization
 * (RFC 6750 §3.1), a transfer coding other than chunked (RFC 9112 §6.1), or an expectation other
 * than 100-continue (RFC 9110 §10.1.1). Undefined for any other request: it runs on every request.
 */
export function protocolViolation(request: FastifyRequest): GatehouseError | undefined {
  const { raw, headers } = request;
  // HTTP/1.0 needs no Host and knows no Expect; Node applies both rules to HTTP/1.1 only.
  const http11 = raw.httpVersionMajor === 1 && raw.httpVersionMinor === 1;
  const { host, expect } = headers;
  if (host === undefined) {
    if (http11) return new MissingHost();
  } else if (!HOST.test(host)) {
    return InvalidHost.malformed();
  }
  const repeated = repeatedHeader(raw.rawHeaders);
  if (repeated !== undefined) return repeated;
  const transferEncoding = headers['transfer-encoding'];
  if (transferEncoding !== undefined && !CHUNKED_ONLY.test(transferEncoding)) return new UnsupportedTransferCoding();
  if (expect !== undefined && http11 && !CONTINUE.test(expect)) return new ExpectationFailed();
  return undefined;
}
