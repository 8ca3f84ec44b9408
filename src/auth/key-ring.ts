import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import { createHash, createPrivateKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../config.js';
import { InvalidToken } from '../errors.js';
import type { SigningKeyRecord, Store } from '../store/store.js';
import { noAudit, type Audit } from './audit.js';
import type { Clock } from './clock.js';

/** A key ready to sign or verify: imported once, never re-parsed per token. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: CryptoKey;
}

/** The key new tokens are signed with: also as a node:crypto key, which signs without a thread hop. */
export interface CurrentSigningKey extends SigningKey {
  readonly signingKey: KeyObject;
}

export interface KeyRingOptions {
  /**
   * Algorithm of the key generated when the store has no current key. Tokens are signed with the
   * current stored key whatever its algorithm, so this never replaces a key that exists.
   */
  readonly newKeyAlg: SigningAlgorithm;
  /** When set, HS256 with this secret replaces the stored asymmetric keys. */
  readonly hs256Secret: string | undefined;
  /** Access token lifetime in seconds: how long a retired key must keep verifying. */
  readonly accessTokenTtl: number;
  /** Records the key this ring generates itself, the first of an empty store. */
  readonly audit?: Audit;
}

/** How often every instance re-reads the keys, so a rotation reaches all of them. */
export const KEY_RELOAD_INTERVAL_MS = 30_000;
// An unknown kid may be a key another instance just made: re-read, but at most this often.
const MISS_RELOAD_MIN_INTERVAL_MS = 5_000;
// The algorithms stored keys may have: what generateKeyPair makes for a SigningAlgorithm.
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set<SigningAlgorithm>(['ES256', 'RS256', 'EdDSA']);
// Leeway the verifier allows past `exp`.
const CLOCK_TOLERANCE_MS = 30_000;

// Header parameters that carry or point to a key. A verifier that honoured them would let the
// token choose its own key, so their presence alone rejects the token (RFC 8725 §3.10).
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

interface KeyState {
  readonly current: CurrentSigningKey;
  readonly verification: ReadonlyMap<string, SigningKey>;
  /** The distinct algorithms of the verification keys: the only ones a token may name. */
  readonly algorithms: readonly string[];
  readonly jwks: { keys: JWK[] };
}

/**
 * The signing keys: the current one for new tokens and every still-trusted one for verification.
 * Asymmetric keys are generated on first start and kept in the store, so every instance shares
 * them; a rotated-out key keeps verifying (and stays in the JWKS) until every token it signed
 * has expired, then leaves. Every instance signs with the store's current key, whatever its
 * algorithm and whatever each instance's GATEHOUSE_SIGNING_ALG: the store decides, never a race.
 */
export class KeyRing {
  readonly #store: Store;
  readonly #options: KeyRingOptions;
  readonly #clock: Clock;
  #state!: KeyState;
  #loadedAt = 0;
  #reloading: Promise<void> | undefined;

  private constructor(store: Store, options: KeyRingOptions, clock: Clock) {
    this.#store = store;
    this.#options = options;
    this.#clock = clock;
  }

  /** Loads the keys, generating and storing a first key of `newKeyAlg` if there is none. */
  static async load(store: Store, options: KeyRingOptions, clock: Clock): Promise<KeyRing> {
    const ring = new KeyRing(store, options, clock);
    if (options.hs256Secret !== undefined) ring.#state = await symmetricState(options.hs256Secret);
    else await ring.reload();
    return ring;
  }

  /**
   * Makes a new key of `alg` current and retires the others (`gatehouse keys rotate`). Running
   * instances pick it up within KEY_RELOAD_INTERVAL_MS, or at once on seeing its kid.
   */
  static async rotate(store: Store, alg: SigningAlgorithm, clock: Clock, audit: Audit = noAudit, reason?: string): Promise<string> {
    const record = await generateKeyRecord(alg, clock.now());
    await store.insertSigningKey(record);
    audit('key.rotate', { kid: record.kid, ...(reason === undefined ? {} : { reason }) });
    return record.kid;
  }

  /** Re-reads the keys from the store. Symmetric rings never change. */
  async reload(): Promise<void> {
    if (this.#options.hs256Secret !== undefined) return;
    const now = this.#clock.now();
    let records = await this.#store.listSigningKeys();
    // Only an empty store gets a key. Replacing a current key of another algorithm would undo a
    // `keys rotate` (or fight an instance configured otherwise) every reload interval.
    if (!records.some((r) => r.retiredAt === null)) {
      await KeyRing.rotate(this.#store, this.#options.newKeyAlg, this.#clock, this.#options.audit, 'no_current_key');
      // Re-read: another instance may have made one at the same time; all then pick the newest.
      records = await this.#store.listSigningKeys();
    }
    const trusted = records.filter((r) => this.#stillVerifies(r, now));
    const current = trusted.filter((r) => r.retiredAt === null).at(-1);
    if (!current) throw new Error('no current signing key could be loaded');
    const unsupported = trusted.find((r) => !ASYMMETRIC_ALGORITHMS.has(r.alg));
    if (unsupported) throw new Error(`signing key ${unsupported.kid} has algorithm ${unsupported.alg}, which this version does not support`);
    const publicJwks = trusted.map((r) => JSON.parse(r.publicJwk) as JWK);
    const verification = await Promise.all(
      trusted.map(async (r, i) => ({ kid: r.kid, alg: r.alg, key: (await importJWK(publicJwks[i]!, r.alg)) as CryptoKey })),
    );
    const privateJwk = JSON.parse(current.privateJwk) as JWK;
    // jose's import is also the check that the key fits its algorithm (its type and curve),
    // which createPrivateKey does not make and node:crypto's signer then relies on.
    const signing = (await importJWK(privateJwk, current.alg)) as CryptoKey;
    const signingKey = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
    this.#state = {
      current: { kid: current.kid, alg: current.alg, key: signing, signingKey },
      verification: new Map(verification.map((k) => [k.kid, k])),
      algorithms: [...new Set(verification.map((k) => k.alg))],
      jwks: { keys: publicJwks },
    };
    this.#loadedAt = now;
  }

  /** Reloads every KEY_RELOAD_INTERVAL_MS until the returned function is called. */
  startAutoReload(onError: (err: unknown) => void): () => void {
    const timer = setInterval(() => this.reload().catch(onError), KEY_RELOAD_INTERVAL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The key new tokens are signed with. */
  get current(): CurrentSigningKey {
    return this.#state.current;
  }

  /**
   * Algorithms a verifier may accept: those of the keys in the ring now (after a rotation to
   * another algorithm, the old one until its last token expires), or HS256 with a shared secret.
   */
  get algorithms(): readonly string[] {
    return this.#state.algorithms;
  }

  /** The public keys, as served at /.well-known/jwks.json (RFC 7517). Symmetric keys never appear. */
  get jwks(): { keys: JWK[] } {
    return this.#state.jwks;
  }

  /**
   * jose's key lookup: the key whose `kid` the header names, for the algorithm it was made for.
   * Unknown kid, a mismatched alg or a header carrying its own key make the token invalid.
   */
  readonly resolve = (header: JWSHeaderParameters): CryptoKey | Promise<CryptoKey> => {
    for (const name of KEY_CARRYING_HEADERS) {
      if (name in header) throw InvalidToken.invalid(`token header carries "${name}"`);
    }
    if (typeof header.kid !== 'string') throw InvalidToken.invalid('no kid');
    const found = this.#state.verification.get(header.kid);
    if (found) return checkedKey(found, header);
    return this.reloadAfterMiss().then(() => {
      const reloaded = this.#state.verification.get(header.kid!);
      if (!reloaded) throw InvalidToken.invalid('unknown kid');
      return checkedKey(reloaded, header);
    });
  };

  #stillVerifies(record: SigningKeyRecord, now: number): boolean {
    if (record.retiredAt === null) return true;
    // Tokens signed up to one reload interval after retirement (by instances that had not yet
    // reloaded) live one access token lifetime, plus the verifier's leeway.
    const trustedUntil = record.retiredAt + KEY_RELOAD_INTERVAL_MS + this.#options.accessTokenTtl * 1000 + CLOCK_TOLERANCE_MS;
    return now < trustedUntil;
  }

  /**
   * Re-reads the keys for a token naming a key or an algorithm the ring lacks, which may come
   * from an instance that saw a rotation first; at most once per MISS_RELOAD_MIN_INTERVAL_MS, so
   * forged tokens cannot make every request read the store.
   */
  async reloadAfterMiss(): Promise<void> {
    if (this.#options.hs256Secret !== undefined) return;
    if (this.#clock.now() - this.#loadedAt < MISS_RELOAD_MIN_INTERVAL_MS) {
      await this.#reloading;
      return;
    }
    this.#reloading ??= this.reload().finally(() => (this.#reloading = undefined));
    await this.#reloading;
  }
}

function checkedKey(found: SigningKey, header: JWSHeaderParameters): CryptoKey {
  if (found.alg !== header.alg) throw InvalidToken.invalid('alg does not match the key');
  return found.key;
}

async function symmetricState(secret: string): Promise<KeyState> {
  const raw = new TextEncoder().encode(secret);
  const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  // The kid names the secret without revealing it: a truncated hash of a domain-separated digest.
  const kid = createHash('sha256').update('gatehouse-hs256-kid:').update(raw).digest('base64url').slice(0, 16);
  const signingKey: SigningKey = { kid, alg: 'HS256', key };
  return {
    current: { ...signingKey, signingKey: createSecretKey(raw) },
    verification: new Map([[kid, signingKey]]),
    algorithms: ['HS256'],
    jwks: { keys: [] },
  };
}

async function generateKeyRecord(alg: SigningAlgorithm, now: number): Promise<SigningKeyRecord> {
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
