import { randomBytes } from 'node:crypto';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from './access-token-claims.js';
import type { Clock } from './clock.js';
import { signCompactJws } from './compact-jws.js';
import type { KeyRing } from './key-ring.js';

export interface AccessTokenSignerOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Lifetime in seconds. */
  readonly ttl: number;
}

export interface SignedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly claims: AccessTokenClaims;
}

/** Issues RFC 9068 access tokens with the key ring's current key. */
export class AccessTokenSigner {
  readonly #keys: KeyRing;
  readonly #options: AccessTokenSignerOptions;
  readonly #clock: Clock;

  constructor(keys: KeyRing, options: AccessTokenSignerOptions, clock: Clock) {
    this.#keys = keys;
    this.#options = options;
    this.#clock = clock;
  }

  async sign(subject: { sub: string; clientId: string; scope: string; sid: string }): Promise<SignedAccessToken> {
    const iat = Math.floor(this.#clock.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.#options.issuer,
      aud: this.#options.audience,
      sub: subject.sub,
      client_id: subject.clientId,
      iat,
      exp: iat + this.#options.ttl,
      jti: randomBytes(16).toString('base64url'),
      scope: subject.scope,
      sid: subject.sid,
    };
    const { kid, alg, signingKey } = this.#keys.current;
    const token = signCompactJws(alg, signingKey, { alg, kid, typ: ACCESS_TOKEN_TYP }, claims);
    return { token, expiresIn: this.#options.ttl, claims };
  }
}
