import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Audit } from '../auth/audit.js';

/**
 * The audit sink for one request: one info line per event on the request's logger, which already
 * carries the request id, plus the client's address (as trusted-proxy settings resolve it, and
 * still known once the connection is gone: see `keepClientAddresses`) and, on routes that take a
 * bearer token, who acted and through which client: an admin's change names the admin as `actor`
 * and the changed account as `user`.
 */
export function requestAudit(request: FastifyRequest): Audit {
  return (event, fields) => {
    const principal = request.principal;
    const acting = principal === null ? undefined : { actor: principal.user.username, client: principal.claims.client_id };
    request.log.info({ audit: event, ...acting, ...fields, ip: request.ip }, event);
  };
}

/** The audit sink for events no request asked for (keys generated at start or on reload). */
export function logAudit(log: FastifyBaseLogger): Audit {
  return (event, fields) => log.info({ audit: event, ...fields }, event);
}
