import type { Clock } from './clock.js';
import { isSessionLive, type SessionLifetime } from './session-lifetime.js';
import type { FoundToken } from './token-lookup.js';

/**
 * True when a found token is usable right now (RFC 7662 §2.2 "active"): its session is live, its
 * user enabled and, for a refresh token, it has not been rotated away. An access token's signature
 * and expiry were already checked when it was found. Introspection and revocation share this rule
 * so that they never disagree about which tokens are alive.
 */
export function isTokenActive(found: FoundToken, clock: Clock, lifetime: SessionLifetime): boolean {
  if (found.user.disabled) return false;
  if (!isSessionLive(found.session, clock.now(), lifetime)) return false;
  return found.kind === 'access_token' || found.token.rotatedAt === null;
}
