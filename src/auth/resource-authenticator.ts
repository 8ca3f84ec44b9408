import { InactiveUser, InsufficientScope, InvalidToken } from '../errors.js';
import type { Store, UserRecord } from '../store/store.js';
import type { AccessTokenClaims } from './access-token-claims.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import type { Clock } from './clock.js';
import { scopesStillHeld } from './scopes.js';
import { PrincipalCache } from './principal-cache.js';
import { isSessionLive, sessionExpiresAt, type SessionLifetime } from './session-lifetime.js';

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
  /** Only for stores with a data version: without one, every request reads its session. */
  readonly #cache: PrincipalCache | undefined;

  /** `cacheSize`: principals remembered when the store has a data version (0: none). */
  constructor(verifier: AccessTokenVerifier, store: Store, clock: Clock, lifetime: SessionLifetime, cacheSize = 10_000) {
    this.#verifier = verifier;
    this.#store = store;
    this.#clock = clock;
    this.#lifetime = lifetime;
    if (store.dataVersion !== undefined && cacheSize > 0) this.#cache = new PrincipalCache(cacheSize);
  }

  /**
   * The principal of a token checked before, when nothing it was checked against can have changed
   * since (no commit anywhere, token and session not yet expired): no I/O, no promise. Undefined
   * means "not known": call `authenticate`.
   */
  cached(token: string): Principal | undefined {
    const version = this.#dataVersion();
    return version === undefined ? undefined : this.#cache?.get(token, version, this.#clock.now());
  }

  async authenticate(token: string): Promise<Principal> {
    const claims = await this.#verifier.verify(token);
    // Taken before the read, so a commit during it makes what was read unusable for the cache.
    const version = this.#dataVersion();
    const found = await this.#store.findSessionWithUser(claims.sid);
    if (!found || found.user.username !== claims.sub) throw InvalidToken.invalid('no such session for this subject');
    const now = this.#clock.now();
    if (!isSessionLive(found.session, now, this.#lifetime)) throw InvalidToken.invalid('session ended or expired');
    if (found.user.disabled) throw new InactiveUser();
    const principal = { claims, user: found.user, scopes: new Set(scopesStillHeld(claims.scope, found.user.scopes)) };
    if (version !== undefined) {
      const until = Math.min(this.#verifier.usableUntil(claims), sessionExpiresAt(found.session, this.#lifetime));
      this.#cache?.set(token, principal, version, until);
    }
    return principal;
  }

  #dataVersion(): unknown {
    if (this.#cache === undefined) return undefined;
    try {
      return this.#store.dataVersion!();
    } catch {
      // The database is gone: no cache; the read in `authenticate` reports the outage.
      return undefined;
    }
  }
}

/** RFC 6750 §3.1: a token lacking any of `required` is refused with insufficient_scope. */
export function assertScopes(principal: Principal, required: readonly string[]): void {
  for (const scope of required) {
    if (!principal.scopes.has(scope)) throw new InsufficientScope(required);
  }
}
