import { InvalidRequest } from '../errors.js';
import type { Store } from '../store/store.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import { noAudit, type Audit } from './audit.js';
import type { Client } from './clients.js';
import type { Clock } from './clock.js';
import type { SessionLifetime } from './session-lifetime.js';
import { isTokenActive } from './token-activity.js';
import { lookUpToken, type FoundToken, type TokenTypeHint } from './token-lookup.js';

export interface RevocationDeps {
  readonly store: Store;
  readonly verifier: AccessTokenVerifier;
  readonly clock: Clock;
  readonly lifetime: SessionLifetime;
}

/**
 * Token revocation (RFC 7009 §2.1). Revoking either kind of token ends its session, so the refresh
 * token and every access token of that login stop working together. A token that is not active
 * (unknown, expired, revoked, rotated away, of an ended session) is not an error whoever asks:
 * the caller's goal, an unusable token, already holds (§2.2).
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
  if (found.session.clientId !== client.id) {
    // Another client's token is never revoked here: refused while active, else left alone.
    refuseLiveForeignToken(deps, found);
    return;
  }
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

/**
 * RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
 * revocation request" and, if not, refuses with an error; without that check any client, even
 * an anonymous caller of the built-in public client, could end other clients' sessions.
 *
 * The refusal applies only to a token that is still active. A dead token of another client
 * answers 200 like an unknown one (§2.2), so the answer never tells a once-issued token from
 * garbage. The refusal does tell its caller that a token it holds is alive. We accept that: the
 * caller already holds the token; an access token's liveness shows to its bearer at any
 * protected route anyway; a public client's refresh token can simply be used; and a confidential
 * client's, learnt alive this way, stays useless without that client's secret (RFC 6749 §6).
 * Answering 200 instead would tell a legitimate caller its token was revoked when it was not,
 * which §2.1 rules out.
 */
function refuseLiveForeignToken(deps: RevocationDeps, found: FoundToken): void {
  if (isTokenActive(found, deps.clock, deps.lifetime)) throw new InvalidRequest('The token was not issued to this client');
}
