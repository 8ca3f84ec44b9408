import { randomBytes } from 'node:crypto';
import { InvalidGrant } from '../errors.js';
import type { Store } from '../store/store.js';
import type { AccessTokenSigner } from './access-token-signer.js';
import { noAudit, type Audit } from './audit.js';
import { BUILT_IN_CLIENT, clientScopes, type Client } from './clients.js';
import type { Clock } from './clock.js';
import type { PasswordHasher } from './password-hasher.js';
import { newRefreshToken } from './refresh-token.js';
import type { LoginThrottle } from './login-throttle.js';
import type { ScopeRegistry } from './scopes.js';
import type { TokenResponse } from './token-response.js';
import { usernameFingerprint } from './username-fingerprint.js';

export interface PasswordGrantRequest {
  readonly username: string;
  readonly password: string;
  /** The raw `scope` parameter; undefined when omitted or empty. */
  readonly scope: string | undefined;
  readonly client: Client;
}

export interface PasswordGrantDeps {
  readonly store: Store;
  readonly hasher: PasswordHasher;
  readonly scopes: ScopeRegistry;
  readonly signer: AccessTokenSigner;
  readonly clock: Clock;
  readonly throttle: LoginThrottle;
}

/**
 * The resource owner password credentials grant (RFC 6749 §4.3), as a list of steps.
 * Every failure to prove the password gives the same answer, after the same work.
 */
export async function passwordGrant(deps: PasswordGrantDeps, request: PasswordGrantRequest, audit: Audit = noAudit): Promise<TokenResponse> {
  // 0. When hashing is saturated, refuse at once (503), before any read or write: the flood that
  //    saturates it must cost the server nothing more, and such an attempt is not counted.
  deps.hasher.assertRoom();

  // 1. Refuse unknown scopes before spending a hash on the request (RFC 6749 §3.3).
  const requested = request.scope === undefined ? undefined : deps.scopes.parse(request.scope);

  // 2. Wait for this account's earlier attempts in this process to finish (LoginThrottle.inTurn),
  //    so each attempt finds the account as the one before left it: concurrent right passwords do
  //    not count against each other. Too many waiting already: 503, uncounted.
  return deps.throttle.inTurn(request.username, () => attemptLogin(deps, request, requested, audit));
}

/** Steps 3 to 9 of the password grant: one attempt, in its turn at the account. */
async function attemptLogin(
  deps: PasswordGrantDeps,
  request: PasswordGrantRequest,
  requested: readonly string[] | undefined,
  audit: Audit,
): Promise<TokenResponse> {
  // 3. Hashing may have saturated while this attempt waited: refuse it as in step 0, still uncounted.
  deps.hasher.assertRoom();

  // 4. Find the user, before anything else, so every failure below does the same reads.
  const now = deps.clock.now();
  const user = await deps.store.findUserByUsername(request.username);
  // Who the audit trail says was tried: a user's name, or only a fingerprint of a name that is
  // no user's, since that is often a password typed into the wrong field.
  const attempt = user
    ? { user: user.username, client: request.client.id }
    : { user_fingerprint: usernameFingerprint(request.username), client: request.client.id };

  // 5. Claim the attempt: it counts as a failure before the password is looked at, in one atomic
  //    step on the store, so a concurrent burst gets no more tries than the same attempts in a row
  //    would. A throttled account is refused without looking at the password, yet after the same
  //    work and with the same answer as a wrong password, so throttling reveals nothing either.
  const claim = await deps.throttle.claim(request.username, now);
  if (!claim.allowed) {
    await deps.hasher.verifyDummy(request.password);
    audit('login.throttled', attempt);
    throw InvalidGrant.incorrectCredentials('account throttled');
  }
  // An unknown user costs a dummy verification so timing cannot tell (RFC 9700 §4.15).
  if (!user) {
    await deps.hasher.verifyDummy(request.password);
    audit('login.failure', { ...attempt, reason: 'unknown_user' });
    throw InvalidGrant.incorrectCredentials('unknown user');
  }

  // 6. Prove the password. A disabled user with a wrong password learns nothing more than anyone.
  //    An attempt refused here (wrong password, or hashing saturated) stays counted.
  const { ok, upgradedHash } = await deps.hasher.verify(user.passwordHash, request.password);
  if (!ok) {
    audit('login.failure', { ...attempt, reason: 'wrong_password' });
    throw InvalidGrant.incorrectCredentials('wrong password');
  }
  await deps.throttle.succeeded(request.username, claim, now);
  // The hash the session will be bound to: the upgrade if it landed, else the one just checked.
  const provenHash =
    upgradedHash !== undefined && (await deps.store.upgradePasswordHash(user.id, user.passwordHash, upgradedHash)) ? upgradedHash : user.passwordHash;

  // 7. Only the rightful owner of a disabled account is told it is disabled (the seed's behaviour).
  if (user.disabled) {
    audit('login.failure', { ...attempt, reason: 'inactive_user' });
    throw InvalidGrant.inactiveUser();
  }

  // 8. Grant what was asked, is held by the user and allowed to the client; the response says
  //    what was granted (RFC 6749 §5.1).
  const scope = clientScopes(request.client, deps.scopes.grant(requested, user.scopes)).join(' ');

  // 9. Open a session with its first refresh token, and issue its first access token. The store
  //    opens it only if the password is still the one proved, the user still enabled and the client
  //    still registered: a reset, disable or client removal that landed while the password was
  //    being checked must not be outlived by a session it never saw.
  const sid = randomBytes(16).toString('base64url');
  const refresh = newRefreshToken();
  const refused = await deps.store.createSession(
    { id: sid, userId: user.id, clientId: request.client.id, scope, createdAt: now, refreshedAt: now, revokedAt: null },
    refresh.hash,
    { passwordHash: provenHash, registeredClient: request.client.id !== BUILT_IN_CLIENT.id },
  );
  if (refused !== undefined) {
    audit('login.failure', { ...attempt, reason: refused === 'user_disabled' ? 'inactive_user' : refused });
    // As in step 7, only the owner of the unchanged password is told the account is disabled.
    throw refused === 'user_disabled' ? InvalidGrant.inactiveUser() : InvalidGrant.incorrectCredentials(`login raced a change: ${refused}`);
  }
  const { token, expiresIn } = await deps.signer.sign({ sub: user.username, clientId: request.client.id, scope, sid });
  audit('login.success', { ...attempt, session: sid, scopes: scope });
  const response: TokenResponse = { access_token: token, token_type: 'bearer', expires_in: expiresIn, scope };
  // The session exists either way (its access tokens carry its sid, so logout and revocation reach
  // them); only a client allowed the refresh grant is handed the means to extend it.
  return request.client.grantTypes.includes('refresh_token') ? { ...response, refresh_token: refresh.token } : response;
}
