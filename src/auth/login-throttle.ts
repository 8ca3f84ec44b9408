import { createHash } from 'node:crypto';
import type { LoginFailures, Store } from '../store/store.js';
import { AccountQueue } from './account-queue.js';

/** Consecutive failures allowed before an account must wait. */
export const FREE_FAILURES = 5;
/** The first wait; each further failure doubles it (1 s, 2 s, 4 s, ...). */
const BASE_DELAY_MS = 1_000;
/** No single wait is longer than this. */
const MAX_DELAY_MS = 15 * 60_000;
/** Whatever the pace, at most this many failures per account per window. */
const WINDOW_MS = 60 * 60_000;
const MAX_FAILURES_PER_WINDOW = 100;
/**
 * Claims that lose a race re-read and try again this many times in all. Each lost race means
 * another attempt was counted, so a burst reaches the wait after FREE_FAILURES rounds; past this
 * bound the attempt is refused (fail closed), never let through uncounted.
 */
const MAX_CLAIM_TRIES = 16;
/**
 * Attempts at one account that may wait in this process behind the one being checked; one more is
 * answered 503 at once. Each waits for a password check ahead of it, so this bounds the wait too.
 */
export const WAITING_PER_ACCOUNT = 16;
/** Idle rows are swept at most this often per process (see LoginThrottle.succeeded). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/** The outcome of claiming a login attempt. */
export type LoginClaim =
  /** The attempt may check the password; it is already counted as a failure. */
  | { readonly allowed: true; readonly windowStart: number }
  /** The account must wait: refuse without looking at the password. */
  | { readonly allowed: false };

/**
 * Per-account brute-force protection (OWASP ASVS V2.2.1, NIST SP 800-63B §5.2.2). Unknown
 * usernames are throttled exactly like real ones, so throttling reveals nothing; the state lives
 * in the store, so it holds across restarts and instances.
 *
 * An attempt is counted before its password is checked, in one compare-and-set on the store, and
 * taken back if the password proves right. Checking first and counting afterwards would let every
 * attempt of a concurrent burst see the same "may try" state, and so let all of them through.
 *
 * Counting first is pessimistic: attempts in flight at once all count as failures until they prove
 * otherwise, so a burst of right passwords could be refused as throttled. Within a process, attempts
 * at one account therefore take turns (see `inTurn`); across instances a burst stays pessimistic.
 */
export class LoginThrottle {
  readonly #store: Store;
  readonly #turns = new AccountQueue(WAITING_PER_ACCOUNT);
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Runs `attempt` (claim, password check, outcome) once every earlier attempt at `username` in this
   * process has finished, so it finds the account as those left it: right passwords then never count
   * against each other. Throws ServerBusy when WAITING_PER_ACCOUNT attempts already wait.
   */
  inTurn<T>(username: string, attempt: () => Promise<T>): Promise<T> {
    return this.#turns.run(throttleKey(username), attempt);
  }

  /** Accounts with an attempt running or waiting in this process. For operators and tests. */
  get busyAccounts(): number {
    return this.#turns.size;
  }

  /**
   * Claims one attempt at `username`: counts it as a failure and allows it, or refuses it while
   * the account must wait. A refused attempt changes nothing, so waiting out a wait is enough.
   */
  async claim(username: string, now: number): Promise<LoginClaim> {
    const key = throttleKey(username);
    for (let tries = 0; tries < MAX_CLAIM_TRIES; tries++) {
      const current = await this.#store.findLoginFailures(key);
      if (current !== undefined && retryAt(current) > now) {
        // Rewrites the row as it was read: a refusal then costs the store what a counted attempt
        // costs (one read, one write), so the time of the answer does not tell them apart.
        await this.#store.compareAndSetLoginFailures(key, current, current);
        return { allowed: false };
      }
      const next = countFailure(current, now);
      if (await this.#store.compareAndSetLoginFailures(key, current, next)) return { allowed: true, windowStart: next.windowStart };
    }
    return { allowed: false };
  }

  /**
   * The claimed attempt proved the password: it was not a failure after all. The consecutive
   * count starts again; the hourly window forgets this attempt. Now and then, also deletes rows
   * that no longer restrict anyone, so attempted names do not pile up.
   */
  async succeeded(username: string, claim: LoginClaim & { allowed: true }, now: number): Promise<void> {
    await this.#store.forgiveLoginFailure(throttleKey(username), claim.windowStart);
    if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now;
      await this.#store.deleteIdleLoginFailures(now - WINDOW_MS);
    }
  }

  /** Milliseconds until `username` may try again; 0 when it may try now. For operators and tests. */
  async waitFor(username: string, now: number): Promise<number> {
    const failures = await this.#store.findLoginFailures(throttleKey(username));
    return failures ? Math.max(0, retryAt(failures) - now) : 0;
  }
}

/** When the account may next try, from its failure counts. */
export function retryAt(failures: LoginFailures): number {
  let at = 0;
  const over = failures.consecutiveFailures - FREE_FAILURES;
  if (over >= 0) at = failures.lastFailureAt + Math.min(BASE_DELAY_MS * 2 ** Math.min(over, 30), MAX_DELAY_MS);
  if (failures.windowFailures >= MAX_FAILURES_PER_WINDOW) at = Math.max(at, failures.windowStart + WINDOW_MS);
  return at;
}

/** The counts after one more failure at `now`; the hourly window restarts once it has run out. */
export function countFailure(current: LoginFailures | undefined, now: number): LoginFailures {
  if (current === undefined) return { consecutiveFailures: 1, lastFailureAt: now, windowStart: now, windowFailures: 1 };
  const windowExpired = now - current.windowStart >= WINDOW_MS;
  return {
    consecutiveFailures: current.consecutiveFailures + 1,
    lastFailureAt: now,
    windowStart: windowExpired ? now : current.windowStart,
    windowFailures: windowExpired ? 1 : current.windowFailures + 1,
  };
}

// Keys are hashes: fixed size whatever an attacker sends, and no raw usernames in this table.
function throttleKey(username: string): string {
  return createHash('sha256').update(username).digest('base64url');
}
