import { randomBytes } from 'node:crypto';
import { InvalidGrant } from '../errors.js';
import type { Store } from '../store/store.js';
import type { AccessTokenSigner } from './access-token-signer.js';
import { clientScopes, type Client } from './clients.js';
import type { Clock } from './clock.js';
import type { PasswordHasher } from './password-hasher.js';
import { newRefreshToken } from './refresh-token.js';
import type { ScopeRegistry } from './scopes.js';
import type { TokenResponse } from './token-response.js';

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
}

/**
 * The resource owner password credentials grant (RFC 6749 §4.3), as a list of steps.
 * Every failure to prove the password gives the same answer, after the same work.
 */
export async function passwordGrant(deps: PasswordGrantDeps, request: PasswordGrantRequest): Promise<TokenResponse> {
  // 1. Refuse unknown scopes before spending a hash on the request (RFC 6749 §3.3).
  const requested = request.scope === undefined ? undefined : deps.scopes.parse(request.scope);

  // 2. Find the user; an unknown one costs a dummy verification so timing cannot tell (RFC 9700 §4.15).
  const user = await deps.store.findUserByUsername(request.username);
  if (!user) {
    await deps.hasher.verifyDummy(request.password);
    throw InvalidGrant.incorrectCredentials('unknown user');
  }

  // 3. Prove the password. A disabled user with a wrong password learns nothing more than anyone.
  const { ok, upgradedHash } = await deps.hasher.verify(user.passwordHash, request.password);
  if (!ok) throw InvalidGrant.incorrectCredentials('wrong password');
  if (upgradedHash !== undefined) await deps.store.upgradePasswordHash(user.id, user.passwordHash, upgradedHash);

  // 4. Only the rightful owner of a disabled account is told it is disabled (the seed's behaviour).
  if (user.disabled) throw InvalidGrant.inactiveUser();

  // 5. Grant what was asked, is held by the user and allowed to the client; the response says
  //    what was granted (RFC 6749 §5.1).
  const scope = clientScopes(request.client, deps.scopes.grant(requested, user.scopes)).join(' ');

  // 6. Open a session with its first refresh token, and issue its first access token.
  const now = deps.clock.now();
  const sid = randomBytes(16).toString('base64url');
  const refresh = newRefreshToken();
  await deps.store.createSession(
    { id: sid, userId: user.id, clientId: request.client.id, scope, createdAt: now, refreshedAt: now, revokedAt: null },
    refresh.hash,
  );
  const { token, expiresIn } = await deps.signer.sign({ sub: user.username, clientId: request.client.id, scope, sid });
  return { access_token: token, token_type: 'bearer', expires_in: expiresIn, scope, refresh_token: refresh.token };
}
