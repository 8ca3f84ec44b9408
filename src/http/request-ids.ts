import { randomBytes } from 'node:crypto';

/**
 * Request ids unique across instances and restarts, for correlating audit lines: a random prefix
 * drawn once per app (48 bits), then a counter. Fastify's default counter alone starts at 1 in
 * every process, so two instances log the same ids; and nothing random is drawn per request, as
 * this runs on every one.
 */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let next = 0;
  return () => `${prefix}-${(next++).toString(36)}`;
}
