import { createHash } from 'node:crypto';
import type { LoginFailures, Store } from '../store/store.js';

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
 * Per-account brute-force protection (OWASP ASVS V2.2.1, NIST SP 800-63B §5.2.2). Unknown
 * usernames are throttled exactly like real ones, so throttling reveals nothing; the state lives
 * in the store, so it holds across restarts and instances.
 */
export class LoginThrottle {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Milliseconds until `username` may try again; 0 when it may try now. */
  async waitFor(username: string, now: number): Promise<number> {
    const failures = await this.#store.findLoginFailures(throttleKey(username));
    return failures ? Math.max(0, retryAt(failures) - now) : 0;
  }

  /** Counts a failed attempt at `username`. */
  async recordFailure(username: string, now: number): Promise<void> {
    await this.#store.recordLoginFailure(throttleKey(username), now, WINDOW_MS);
  }

  /** A successful login clears the consecutive count (the hourly cap still applies). */
  async recordSuccess(username: string): Promise<void> {
    await this.#store.clearConsecutiveFailures(throttleKey(username));
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

// Keys are hashes: fixed size whatever an attacker sends, and no raw usernames in this table.
function throttleKey(username: string): string {
  return createHash('sha256').update(username).digest('base64url');
}
