import { parseOptions } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { ServerBusy } from '../errors.js';
import { normalizePassword } from './password-policy.js';
import { HashThreads } from './hash-threads.js';
import type { WorkLimiter } from './work-limiter.js';

/** argon2id cost parameters (RFC 9106 names: m in KiB, t passes, p lanes). */
export interface Argon2Params {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** One stored-hash format Gatehouse can check a password against (argon2id now; bcrypt for imports). */
export interface HashFormat {
  /** True when `storedHash` is in this format. */
  matches(storedHash: string): boolean;
  verify(storedHash: string, password: string): Promise<boolean>;
  /** True when the hash should be replaced by a fresh one at the current parameters. */
  isOutdated(storedHash: string): boolean;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** A fresh hash to store in place of the old one, when the old one was weaker than policy. */
  readonly upgradedHash: string | undefined;
}

// argon2id is algorithm 2 in @node-rs/argon2's const enum, whose runtime export is empty.
const ARGON2ID = 2;

/** The argon2id format at the configured parameters, computed on `threads`. */
export function argon2idFormat(params: Argon2Params, threads: HashThreads): HashFormat {
  return {
    matches: (storedHash) => storedHash.startsWith('$argon2'),
    verify: async (storedHash, password) => {
      try {
        return await threads.verify(storedHash, password);
      } catch {
        // A corrupt or foreign hash must not become a 500 or an exception path that times differently.
        return false;
      }
    },
    isOutdated: (storedHash) => {
      try {
        const o = parseOptions(storedHash);
        return (
          o.algorithm !== ARGON2ID ||
          o.memoryCost < params.memoryCost ||
          o.timeCost < params.timeCost ||
          o.parallelism < params.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}

/**
 * Hashes new passwords with argon2id and verifies stored hashes of any registered format,
 * upgrading weaker ones. Passwords are NFKC-normalized first so the same password typed on
 * different keyboards matches (NIST SP 800-63B §5.1.1.2).
 */
export class PasswordHasher {
  readonly #params: Argon2Params;
  readonly #formats: readonly HashFormat[];
  readonly #limiter: WorkLimiter | undefined;
  readonly #threads: HashThreads;
  #dummyHash: Promise<string> | undefined;

  /**
   * `limiter`, when given, bounds how many hash operations run and wait at once; argon2 runs on
   * as many threads as it lets run (one without a limiter).
   */
  constructor(params: Argon2Params, options: { extraFormats?: readonly HashFormat[]; limiter?: WorkLimiter } = {}) {
    this.#params = params;
    this.#threads = new HashThreads(options.limiter?.concurrency ?? 1);
    this.#formats = [argon2idFormat(params, this.#threads), ...(options.extraFormats ?? [])];
    this.#limiter = options.limiter;
  }

  /** Throws ServerBusy when a hash asked for now would be refused (see WorkLimiter.assertRoom). */
  assertRoom(): void {
    this.#limiter?.assertRoom();
  }

  /** Stops the hashing threads. */
  close(): Promise<void> {
    return this.#threads.close();
  }

  /** A new argon2id PHC string for `password`. */
  async hash(password: string): Promise<string> {
    return this.#limited(() => this.#threads.hash(normalizePassword(password), this.#options()));
  }

  #options() {
    return { memoryCost: this.#params.memoryCost, timeCost: this.#params.timeCost, parallelism: this.#params.parallelism };
  }

  #limited<T>(job: () => Promise<T>): Promise<T> {
    return this.#limiter ? this.#limiter.run(job) : job();
  }

  /** Checks `password` against `storedHash`; on success, offers a stronger hash if policy rose. */
  async verify(storedHash: string, password: string): Promise<VerifyResult> {
    const format = this.#formats.find((f) => f.matches(storedHash));
    if (!format) {
      await this.verifyDummy(password);
      return { ok: false, upgradedHash: undefined };
    }
    const ok = await this.#limited(() => format.verify(storedHash, normalizePassword(password)));
    const upgradedHash = ok && format.isOutdated(storedHash) ? await this.#upgrade(password) : undefined;
    return { ok, upgradedHash };
  }

  // The upgrade is optional: hashing that has no room now must not turn a right password into a 503.
  async #upgrade(password: string): Promise<string | undefined> {
    try {
      return await this.hash(password);
    } catch (err) {
      if (err instanceof ServerBusy) return undefined;
      throw err;
    }
  }

  /**
   * Spends the same work as a real verification and always fails: used for unknown users so the
   * response time does not reveal whether an account exists.
   */
  async verifyDummy(password: string): Promise<false> {
    this.#dummyHash ??= this.#threads.hash(randomBytes(24).toString('base64url'), this.#options());
    const dummy = await this.#dummyHash;
    await this.#limited(() => this.#threads.verify(dummy, normalizePassword(password)).catch(() => false));
    return false;
  }

  /** Computes the dummy hash now, so the first unknown-user login is not slower than the rest. */
  async warmUp(): Promise<void> {
    await this.verifyDummy('warm-up');
  }
}
