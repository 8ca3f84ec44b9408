import type { FastifyRequest } from 'fastify';
import type { Server, ServerOptions } from 'node:http';
import { ExpectationFailed, MissingHost, type GatehouseError } from '../errors.js';

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

/** Node's test for the 100-continue expectation, which it meets itself. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * The error for an HTTP/1.1 request the protocol forbids serving: no Host header (RFC 9112 §3.2),
 * or an expectation other than 100-continue (RFC 9110 §10.1.1). Undefined for any other request,
 * after two header reads: it runs on every request.
 */
export function protocolViolation(request: FastifyRequest): GatehouseError | undefined {
  const { host, expect } = request.headers;
  if (host !== undefined && expect === undefined) return undefined;
  // HTTP/1.0 needs no Host and knows no Expect; Node applies both rules to HTTP/1.1 only.
  if (request.raw.httpVersionMajor !== 1 || request.raw.httpVersionMinor !== 1) return undefined;
  if (host === undefined) return new MissingHost();
  return CONTINUE.test(expect!) ? undefined : new ExpectationFailed();
}
