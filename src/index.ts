/**
 * The package entry for services that accept Gatehouse tokens: verify an access token against the
 * published keys, read it from an Authorization header, and the errors both throw (RFC 6750 §3.1).
 * Nothing here loads Fastify or a database driver; the server itself is the `gatehouse/server` entry.
 */
export { AccessTokenVerifier, type AccessTokenVerifierOptions } from './auth/access-token-verifier.js';
export { ACCESS_TOKEN_TYP, type AccessTokenClaims } from './auth/access-token-claims.js';
export { systemClock, type Clock } from './auth/clock.js';
export { parseBearer } from './http/bearer.js';
export { GatehouseError, ResourceError, NotAuthenticated, InvalidToken, InsufficientScope } from './errors.js';
