import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import { createHash } from 'node:crypto';
import type { SigningAlgorithm } from '../config.js';
import { InvalidToken } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';

/** A key ready to sign: imported once, never re-parsed per token. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: CryptoKey;
}

export interface KeyRingOptions {
  readonly signingAlg: SigningAlgorithm;
  /** When set, HS256 with this secret replaces the stored asymmetric keys. */
  readonly hs256Secret: string | undefined;
}

// Header parameters that carry or point to a key. A verifier that honoured them would let the
// token choose its own key, so their presence alone rejects the token (RFC 8725 §3.10).
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/**
 * The signing keys: the current one for new tokens and every published one for verification.
 * Asymmetric keys are generated on first start and kept in the store, so every instance shares them.
 */
export class KeyRing {
  readonly #current: SigningKey;
  readonly #verificationKeys: ReadonlyMap<string, SigningKey>;
  readonly #jwks: { keys: JWK[] };

  private constructor(current: SigningKey, verificationKeys: SigningKey[], publicJwks: JWK[]) {
    this.#current = current;
    this.#verificationKeys = new Map(verificationKeys.map((k) => [k.kid, k]));
    this.#jwks = { keys: publicJwks };
  }

  /** Loads the keys from the store, generating and storing the first key of `signingAlg` if none exists. */
  static async load(store: Store, options: KeyRingOptions, clock: Clock): Promise<KeyRing> {
    if (options.hs256Secret !== undefined) return KeyRing.#symmetric(options.hs256Secret);
    let records = await store.listSigningKeys();
    if (!records.some((r) => r.alg === options.signingAlg)) {
      await store.insertSigningKey(await generateKeyRecord(options.signingAlg, clock.now()));
      // Re-read: another instance may have generated one at the same time; all pick the newest.
      records = await store.listSigningKeys();
    }
    const keys: SigningKey[] = [];
    const publicJwks: JWK[] = [];
    for (const record of records) {
      const privateJwk = JSON.parse(record.privateJwk) as JWK;
      keys.push({ kid: record.kid, alg: record.alg, key: (await importJWK(privateJwk, record.alg)) as CryptoKey });
      const publicJwk = JSON.parse(record.publicJwk) as JWK;
      publicJwks.push(publicJwk);
    }
    const current = keys.filter((k) => k.alg === options.signingAlg).at(-1);
    if (!current) throw new Error(`no ${options.signingAlg} signing key could be loaded`);
    // Verification needs the public half only; import it so a signing key is never used to verify.
    const verificationKeys = await Promise.all(
      records.map(async (r, i) => ({ kid: r.kid, alg: r.alg, key: (await importJWK(publicJwks[i]!, r.alg)) as CryptoKey })),
    );
    return new KeyRing(current, verificationKeys, publicJwks);
  }

  static async #symmetric(secret: string): Promise<KeyRing> {
    const raw = new TextEncoder().encode(secret);
    const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    // The kid names the secret without revealing it: a truncated hash of a domain-separated digest.
    const kid = createHash('sha256').update('gatehouse-hs256-kid:').update(raw).digest('base64url').slice(0, 16);
    const signingKey: SigningKey = { kid, alg: 'HS256', key };
    return new KeyRing(signingKey, [signingKey], []);
  }

  /** The key new tokens are signed with. */
  get current(): SigningKey {
    return this.#current;
  }

  /** Algorithms of the keys that may verify a token: the only ones a verifier accepts. */
  get algorithms(): string[] {
    return [...new Set([...this.#verificationKeys.values()].map((k) => k.alg))];
  }

  /** The public keys, as served at /.well-known/jwks.json (RFC 7517). Symmetric keys never appear. */
  get jwks(): { keys: JWK[] } {
    return this.#jwks;
  }

  /**
   * jose's key lookup: the key whose `kid` the header names, for the algorithm it was made for.
   * Unknown kid, a mismatched alg or a header carrying its own key make the token invalid.
   */
  readonly resolve = (header: JWSHeaderParameters): CryptoKey => {
    for (const name of KEY_CARRYING_HEADERS) {
      if (name in header) throw InvalidToken.invalid(`token header carries "${name}"`);
    }
    const found = header.kid === undefined ? undefined : this.#verificationKeys.get(header.kid);
    if (!found) throw InvalidToken.invalid('unknown kid');
    if (found.alg !== header.alg) throw InvalidToken.invalid('alg does not match the key');
    return found.key;
  };
}

async function generateKeyRecord(alg: SigningAlgorithm, now: number) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return {
    kid,
    alg,
    privateJwk: JSON.stringify(privateJwk),
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    createdAt: now,
    retiredAt: null,
  };
}
