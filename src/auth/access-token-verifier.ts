import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { InvalidToken } from '../errors.js';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from './access-token-claims.js';
import { systemClock, type Clock } from './clock.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export interface AccessTokenVerifierOptions {
  /** Key lookup by header (a KeyRing's `resolve`, or jose's `createRemoteJWKSet`). */
  readonly key: JWTVerifyGetKey;
  readonly issuer: string;
  readonly audience: string;
  /**
   * The only algorithms accepted; `none` and anything unlisted are refused. A function is asked
   * at every verification, for key sets that change (a KeyRing's `algorithms`).
   */
  readonly algorithms: readonly string[] | (() => readonly string[]);
  /**
   * Called before a token is refused for naming an algorithm not accepted: a key set that may
   * have changed elsewhere re-reads itself (a rotation to another algorithm seen first by another
   * instance), and the token is checked once more against the algorithms it has then.
   */
  readonly onAlgorithmMiss?: () => Promise<void>;
  /** Seconds of leeway for `exp`/`nbf`/`iat`; at most 30. */
  readonly clockTolerance?: number;
  /** How many verified tokens to remember; 0 disables the cache. */
  readonly cacheSize?: number;
  readonly clock?: Clock;
}

const MAX_TOLERANCE = 30;
// Compact JWS is three base64url parts; anything else is malformed before any crypto runs.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// A token larger than this is not one we issued; refuse it before parsing.
const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies Gatehouse access tokens, pinning algorithm, issuer, audience, `typ` and leeway
 * (RFC 9068 §4, RFC 8725). Framework-agnostic: usable by any service that trusts Gatehouse.
 * Every failure is an InvalidToken; a verified token is remembered until it expires.
 */
export class AccessTokenVerifier {
  readonly #options: Required<Omit<AccessTokenVerifierOptions, 'cacheSize' | 'algorithms' | 'onAlgorithmMiss'>>;
  readonly #algorithms: () => readonly string[];
  readonly #onAlgorithmMiss: (() => Promise<void>) | undefined;
  readonly #cache: VerifiedTokenCache<AccessTokenClaims>;

  constructor(options: AccessTokenVerifierOptions) {
    const clockTolerance = options.clockTolerance ?? MAX_TOLERANCE;
    if (clockTolerance < 0 || clockTolerance > MAX_TOLERANCE) {
      throw new TypeError(`clockTolerance must be between 0 and ${MAX_TOLERANCE} seconds`);
    }
    const { algorithms } = options;
    this.#algorithms = typeof algorithms === 'function' ? () => checkedAlgorithms(algorithms()) : () => algorithms;
    checkedAlgorithms(this.#algorithms());
    this.#onAlgorithmMiss = options.onAlgorithmMiss;
    this.#options = {
      key: options.key,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance,
      clock: options.clock ?? systemClock,
    };
    this.#cache = new VerifiedTokenCache(options.cacheSize ?? 10000);
  }

  async verify(token: string): Promise<AccessTokenClaims> {
    const nowSeconds = Math.floor(this.#options.clock.now() / 1000);
    const cached = this.#cache.get(token);
    if (cached) {
      if (cached.exp <= nowSeconds - this.#options.clockTolerance) {
        this.#cache.delete(token);
        throw InvalidToken.expired();
      }
      return cached;
    }
    const claims = await this.#verifyUncached(token);
    this.#cache.set(token, claims);
    return claims;
  }

  /** Clock time (ms) from which `claims`, verified before, count as expired. */
  usableUntil(claims: AccessTokenClaims): number {
    return (claims.exp + this.#options.clockTolerance) * 1000;
  }

  /** Forgets every remembered token (after a key leaves the ring). */
  clearCache(): void {
    this.#cache.clear();
  }

  async #verifyUncached(token: string): Promise<AccessTokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw InvalidToken.invalid('not a compact JWS');
    }
    let payload: Record<string, unknown>;
    try {
      payload = await this.#verifySignature(token);
    } catch (err) {
      if (!(err instanceof errors.JOSEAlgNotAllowed) || this.#onAlgorithmMiss === undefined) throw toInvalidToken(err);
      await this.#onAlgorithmMiss();
      payload = await this.#verifySignature(token).catch((retried: unknown) => {
        throw toInvalidToken(retried);
      });
    }
    const claims = toClaims(payload);
    // We never issue tokens dated in the future; one that is was not made by this server's clock.
    if (claims.iat > Math.floor(this.#options.clock.now() / 1000) + this.#options.clockTolerance) {
      throw InvalidToken.invalid('iat in the future');
    }
    return claims;
  }

  async #verifySignature(token: string): Promise<Record<string, unknown>> {
    const { payload } = await jwtVerify(token, this.#options.key, {
      issuer: this.#options.issuer,
      audience: this.#options.audience,
      algorithms: [...this.#algorithms()],
      typ: ACCESS_TOKEN_TYP,
      clockTolerance: this.#options.clockTolerance,
      currentDate: new Date(this.#options.clock.now()),
      requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat', 'jti', 'client_id', 'scope', 'sid'],
    });
    return payload;
  }
}

function checkedAlgorithms(algorithms: readonly string[]): readonly string[] {
  if (algorithms.length === 0 || algorithms.some((a) => a.toLowerCase() === 'none')) {
    throw new TypeError('algorithms must list at least one real signature algorithm');
  }
  return algorithms;
}

function toInvalidToken(err: unknown): InvalidToken {
  if (err instanceof InvalidToken) return err;
  if (err instanceof errors.JWTExpired) return InvalidToken.expired();
  return InvalidToken.invalid((err as { code?: string }).code ?? 'verification failed');
}

function toClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const { iss, aud, sub, client_id, iat, exp, jti, scope, sid } = payload;
  if (
    typeof iss !== 'string' ||
    typeof aud !== 'string' ||
    typeof sub !== 'string' ||
    typeof client_id !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof jti !== 'string' ||
    typeof scope !== 'string' ||
    typeof sid !== 'string'
  ) {
    throw InvalidToken.invalid('claims of the wrong type');
  }
  return { iss, aud, sub, client_id, iat, exp, jti, scope, sid };
}
