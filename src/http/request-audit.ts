import type { FastifyRequest } from 'fastify';
import type { Audit } from '../auth/audit.js';

/**
 * The audit sink for one request: one info line per event on the request's logger, which already
 * carries the request id, plus the client's address (as trusted-proxy settings resolve it).
 */
export function requestAudit(request: FastifyRequest): Audit {
  return (event, fields) => request.log.info({ audit: event, ...fields, ip: request.ip }, event);
}
