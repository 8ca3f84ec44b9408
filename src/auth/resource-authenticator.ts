import { InactiveUser, InsufficientScope, InvalidToken } from '../errors.js';
import type { Store, UserRecord } from '../store/store.js';
import type { AccessTokenClaims } from './access-token-claims.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import type { Clock } from './clock.js';
import { scopesStillHeld } from './scopes.js';
import { isSessionLive, type SessionLifetime } from './session-lifetime.js';

/** Who a request acts for: the token's claims and the user as stored now. */
export interface Principal {
  readonly claims: AccessTokenClaims;
  readonly user: UserRecord;
  readonly scopes: ReadonlySet<string>;
}

/**
 * Turns a bearer token into a Principal: a valid signature is not enough, the session must be
 * live and the user enabled right now, so disabling a user takes effect on the next request,
 * and the token's scopes count only while the user still holds them (a demoted admin's
 * earlier token loses `admin` at once).
 */
export class ResourceAuthenticator {
  readonly #verifier: AccessTokenVerifier;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #lifetime: SessionLifetime;

  constructor(verifier: AccessTokenVerifier, store: Store, clock: Clock, lifetime: SessionLifetime) {
    this.#verifier = verifier;
    this.#store = store;
    this.#clock = clock;
    this.#lifetime = lifetime;
  }

  async authenticate(token: string): Promise<Principal> {
    const claims = await this.#verifier.verify(token);
    const found = await this.#store.findSessionWithUser(claims.sid);
    if (!found || found.user.username !== claims.sub) throw InvalidToken.invalid('no such session for this subject');
    if (!isSessionLive(found.session, this.#clock.now(), this.#lifetime)) throw InvalidToken.invalid('session ended or expired');
    if (found.user.disabled) throw new InactiveUser();
    return { claims, user: found.user, scopes: new Set(scopesStillHeld(claims.scope, found.user.scopes)) };
  }
}

/** RFC 6750 §3.1: a token lacking any of `required` is refused with insufficient_scope. */
export function assertScopes(principal: Principal, required: readonly string[]): void {
  for (const scope of required) {
    if (!principal.scopes.has(scope)) throw new InsufficientScope(required);
  }
}
