import type { Store } from '../store/store.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import type { Clock } from './clock.js';
import { sessionExpiresAt, type SessionLifetime } from './session-lifetime.js';
import { scopesStillHeld } from './scopes.js';
import { isTokenActive } from './token-activity.js';
import { lookUpToken, type TokenTypeHint } from './token-lookup.js';

export interface IntrospectionDeps {
  readonly store: Store;
  readonly verifier: AccessTokenVerifier;
  readonly clock: Clock;
  readonly lifetime: SessionLifetime;
}

/** An introspection response (RFC 7662 §2.2). Inactive tokens are exactly `{"active": false}`. */
export type IntrospectionResponse =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly scope: string;
      readonly client_id: string;
      readonly username: string;
      readonly token_type: 'Bearer' | 'refresh_token';
      readonly exp: number;
      readonly iat: number;
      readonly sub: string;
      readonly aud?: string;
      readonly iss?: string;
      readonly jti?: string;
      readonly sid: string;
    };

const INACTIVE = Object.freeze({ active: false as const });

/**
 * Token introspection (RFC 7662): active means usable right now, by the same rules the protected
 * routes and the refresh grant apply (signature, expiry, live session, enabled user, not rotated);
 * its scope is what the user still holds of what was granted.
 * Nothing distinguishes why a token is inactive.
 */
export async function introspectToken(deps: IntrospectionDeps, token: string, hint: TokenTypeHint | undefined): Promise<IntrospectionResponse> {
  const found = await lookUpToken(deps, token, hint);
  if (!found || !isTokenActive(found, deps.clock, deps.lifetime)) return INACTIVE;
  const { session, user } = found;
  if (found.kind === 'access_token') {
    const { claims } = found;
    return {
      active: true,
      scope: scopesStillHeld(claims.scope, user.scopes).join(' '),
      client_id: claims.client_id,
      username: user.username,
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
      sid: claims.sid,
    };
  }
  return {
    active: true,
    scope: scopesStillHeld(session.scope, user.scopes).join(' '),
    client_id: session.clientId,
    username: user.username,
    token_type: 'refresh_token',
    exp: Math.floor(sessionExpiresAt(session, deps.lifetime) / 1000),
    iat: Math.floor(found.token.createdAt / 1000),
    sub: user.username,
    sid: session.id,
  };
}
