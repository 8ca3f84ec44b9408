import { InvalidToken } from '../errors.js';
import type { RefreshTokenRecord, SessionRecord, Store, UserRecord } from '../store/store.js';
import type { AccessTokenClaims } from './access-token-claims.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import { hashRefreshToken } from './refresh-token.js';

/** A token presented to /revoke or /introspect, identified as one of ours. */
export type FoundToken =
  | { readonly kind: 'access_token'; readonly claims: AccessTokenClaims; readonly session: SessionRecord; readonly user: UserRecord }
  | { readonly kind: 'refresh_token'; readonly token: RefreshTokenRecord; readonly session: SessionRecord; readonly user: UserRecord };

/** `token_type_hint` values of RFC 7009 §2.1 and RFC 7662 §2.1. */
export type TokenTypeHint = 'access_token' | 'refresh_token';

/**
 * Finds what a presented token is: a valid access token of a known session, or a stored refresh
 * token. The hint only decides which is tried first (RFC 7009 §2.1). Undefined when it is neither.
 */
export async function lookUpToken(
  deps: { store: Store; verifier: AccessTokenVerifier },
  token: string,
  hint: TokenTypeHint | undefined,
): Promise<FoundToken | undefined> {
  const order: TokenTypeHint[] = hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    const found = kind === 'access_token' ? await findAccessToken(deps, token) : await findRefreshToken(deps.store, token);
    if (found) return found;
  }
  return undefined;
}

async function findAccessToken(deps: { store: Store; verifier: AccessTokenVerifier }, token: string): Promise<FoundToken | undefined> {
  let claims: AccessTokenClaims;
  try {
    claims = await deps.verifier.verify(token);
  } catch (err) {
    if (err instanceof InvalidToken) return undefined;
    throw err;
  }
  const found = await deps.store.findSessionWithUser(claims.sid);
  if (!found || found.user.username !== claims.sub) return undefined;
  return { kind: 'access_token', claims, ...found };
}

async function findRefreshToken(store: Store, token: string): Promise<FoundToken | undefined> {
  // A refresh token is 43 base64url characters; anything else cannot be one, skip the read.
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const found = await store.findRefreshToken(hashRefreshToken(token));
  return found && { kind: 'refresh_token', ...found };
}
