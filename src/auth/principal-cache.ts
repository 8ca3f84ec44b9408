import type { Principal } from './resource-authenticator.js';

interface Entry {
  readonly principal: Principal;
  /** Clock time (ms) from which the token or its session may have expired. */
  readonly until: number;
}

/**
 * Principals of recently seen tokens, keyed by the whole token string, each valid while the
 * store's data version is the one it was read at and until its token or session could expire.
 * Every commit changes the version (a disabled user, an ended session, a changed scope or key),
 * so a change made anywhere, by this process or another, takes effect at the next request; a
 * changed version drops every entry, since which rows a write touched is unknown.
 */
export class PrincipalCache {
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  #version: unknown;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** The principal of `token` if it is still valid at `version` and `now`. */
  get(token: string, version: unknown, now: number): Principal | undefined {
    if (version !== this.#version) {
      this.#entries.clear();
      this.#version = version;
      return undefined;
    }
    const entry = this.#entries.get(token);
    if (entry === undefined || now >= entry.until) return undefined;
    return entry.principal;
  }

  /**
   * Remembers `principal`, read from data of `version` (taken before the read began). A read that
   * a newer version has overtaken meanwhile is not kept.
   */
  set(token: string, principal: Principal, version: unknown, until: number): void {
    if (this.#max <= 0 || version !== this.#version) return;
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, { principal, until });
  }
}
