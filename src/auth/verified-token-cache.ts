/**
 * A bounded map from a whole token string to its verified claims. Keyed by the entire token, so
 * a token differing in any byte (a forged signature included) is never a hit. Callers re-check
 * expiry on every hit; the oldest entry leaves first when full.
 */
export class VerifiedTokenCache<T extends { readonly exp: number }> {
  readonly #max: number;
  readonly #entries = new Map<string, T>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get(token: string): T | undefined {
    return this.#entries.get(token);
  }

  set(token: string, claims: T): void {
    if (this.#max <= 0) return;
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(token, claims);
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
