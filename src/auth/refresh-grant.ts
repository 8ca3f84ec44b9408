import { InvalidGrant, InvalidScope } from '../errors.js';
import type { Store } from '../store/store.js';
import type { AccessTokenSigner } from './access-token-signer.js';
import { noAudit, type Audit } from './audit.js';
import { clientScopes, type Client } from './clients.js';
import type { Clock } from './clock.js';
import { hashRefreshToken, newRefreshToken } from './refresh-token.js';
import type { ScopeRegistry } from './scopes.js';
import { isSessionLive, type SessionLifetime } from './session-lifetime.js';
import type { TokenResponse } from './token-response.js';

export interface RefreshGrantRequest {
  readonly refreshToken: string;
  /** The raw `scope` parameter; undefined when omitted or empty. */
  readonly scope: string | undefined;
  readonly client: Client;
}

export interface RefreshGrantDeps {
  readonly store: Store;
  readonly scopes: ScopeRegistry;
  readonly signer: AccessTokenSigner;
  readonly clock: Clock;
  readonly lifetime: SessionLifetime;
}

/**
 * The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
 * every use returns a new refresh token; presenting a rotated one ends the whole session.
 */
export async function refreshGrant(deps: RefreshGrantDeps, request: RefreshGrantRequest, audit: Audit = noAudit): Promise<TokenResponse> {
  const now = deps.clock.now();
  const requested = request.scope === undefined ? undefined : deps.scopes.parse(request.scope);

  // 1. Find the token by its hash; unknown tokens learn nothing more than expired ones.
  const oldHash = hashRefreshToken(request.refreshToken);
  const found = await deps.store.findRefreshToken(oldHash);
  if (!found) throw InvalidGrant.invalidRefreshToken('unknown refresh token');
  const { token, session, user } = found;
  const about = { user: user.username, client: request.client.id, session: session.id };

  // 2. RFC 6749 §6: the token must have been issued to the client now presenting it.
  if (session.clientId !== request.client.id) throw InvalidGrant.invalidRefreshToken('refresh token of another client');

  // 3. A rotated token presented again is stolen or replayed: end the session for everyone.
  if (token.rotatedAt !== null) {
    await deps.store.revokeSession(session.id, now);
    audit('refresh.reuse_detected', about);
    throw InvalidGrant.invalidRefreshToken('refresh token reuse: session revoked');
  }

  // 4. The session must be live and its user still enabled.
  if (!isSessionLive(session, now, deps.lifetime)) throw InvalidGrant.invalidRefreshToken('session ended or expired');
  if (user.disabled) throw InvalidGrant.inactiveUser();

  // 5. Scopes: the session's, less what the user or client has lost since; narrowing only (§6).
  const sessionScopes = session.scope === '' ? [] : session.scope.split(' ');
  if (requested?.some((s) => !sessionScopes.includes(s))) {
    throw new InvalidScope('The requested scope exceeds the scope originally granted');
  }
  const stillHeld = sessionScopes.filter((s) => user.scopes.includes(s));
  const granted = clientScopes(request.client, requested === undefined ? stillHeld : stillHeld.filter((s) => requested.includes(s)));
  const scope = deps.scopes.list().map((d) => d.name).filter((name) => granted.includes(name)).join(' ');

  // 6. Rotate atomically, if the session is still live and its user enabled when the rotation
  //    commits: a password reset, logout or disable that lands while this request runs must not be
  //    outlived by fresh tokens. Losing the race for the token means another request used it first:
  //    reuse. Deliberately strict (RFC 9700 §4.14.2): a concurrent second use cannot be told from a
  //    thief racing the client, so it ends the session, the winner's new tokens included.
  const next = newRefreshToken();
  const refused = await deps.store.rotateRefreshToken(oldHash, next.hash, session.id, now);
  if (refused === 'reused') {
    await deps.store.revokeSession(session.id, now);
    audit('refresh.reuse_detected', { ...about, reason: 'concurrent_use' });
    throw InvalidGrant.invalidRefreshToken('refresh token used concurrently: session revoked');
  }
  if (refused === 'session_ended') throw InvalidGrant.invalidRefreshToken('session ended during the refresh');
  if (refused === 'user_disabled') throw InvalidGrant.inactiveUser();
  const access = await deps.signer.sign({ sub: user.username, clientId: session.clientId, scope, sid: session.id });
  audit('token.refresh', { ...about, scopes: scope });
  return { access_token: access.token, token_type: 'bearer', expires_in: access.expiresIn, scope, refresh_token: next.token };
}
