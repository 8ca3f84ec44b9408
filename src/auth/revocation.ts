import { InvalidRequest } from '../errors.js';
import type { Store } from '../store/store.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import { noAudit, type Audit } from './audit.js';
import type { Client } from './clients.js';
import type { Clock } from './clock.js';
import { lookUpToken, type TokenTypeHint } from './token-lookup.js';

export interface RevocationDeps {
  readonly store: Store;
  readonly verifier: AccessTokenVerifier;
  readonly clock: Clock;
}

/**
 * Token revocation (RFC 7009 §2.1). Revoking either kind of token ends its session, so the refresh
 * token and every access token of that login stop working together. Unknown, expired or already
 * revoked tokens are not an error: the caller's goal (the token is unusable) already holds.
 */
export async function revokeToken(
  deps: RevocationDeps,
  client: Client,
  token: string,
  hint: TokenTypeHint | undefined,
  audit: Audit = noAudit,
): Promise<void> {
  const found = await lookUpToken(deps, token, hint);
  if (!found) return;
  // §2.1: the server verifies that the token was issued to the client asking for its revocation.
  if (found.session.clientId !== client.id) throw new InvalidRequest('The token was not issued to this client');
  await deps.store.revokeSession(found.session.id, deps.clock.now());
  audit('token.revoke', { user: found.user.username, client: client.id, session: found.session.id, reason: found.kind });
}

/** Ends one session (logout), or every session of its user (logout everywhere). */
export async function endSessions(
  deps: RevocationDeps,
  session: { sessionId: string; userId: string; username: string; clientId: string },
  all: boolean,
  audit: Audit = noAudit,
): Promise<void> {
  const now = deps.clock.now();
  if (all) await deps.store.revokeUserSessions(session.userId, now);
  else await deps.store.revokeSession(session.sessionId, now);
  audit(all ? 'logout.all' : 'logout', { user: session.username, client: session.clientId, session: session.sessionId });
}
