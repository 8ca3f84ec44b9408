import { InvalidScope } from '../errors.js';

export interface ScopeDefinition {
  readonly name: string;
  readonly description: string;
  /** Privileged scopes are never granted by default; the client must ask for them by name. */
  readonly privileged: boolean;
}

/** The scopes Gatehouse knows out of the box (the descriptions of FastAPI's scopes tutorial). */
export const DEFAULT_SCOPES: readonly ScopeDefinition[] = [
  { name: 'me', description: 'Read information about the current user.', privileged: false },
  { name: 'items', description: 'Read items.', privileged: false },
  { name: 'admin', description: 'Administer users: create, disable, set scopes, reset passwords.', privileged: true },
];

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The registry of known scopes and the grant rule of DESIGN.md §1. */
export class ScopeRegistry {
  readonly #byName: ReadonlyMap<string, ScopeDefinition>;

  constructor(definitions: readonly ScopeDefinition[] = DEFAULT_SCOPES) {
    this.#byName = new Map(definitions.map((d) => [d.name, d]));
  }

  /** Every known scope, in registry order. */
  list(): readonly ScopeDefinition[] {
    return [...this.#byName.values()];
  }

  /** The scopes a new user or client gets unless told otherwise: privileged ones must be given by name. */
  unprivileged(): string[] {
    return this.list().filter((d) => !d.privileged).map((d) => d.name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * Parses a `scope` request parameter (space-delimited, RFC 6749 §3.3). Unknown or malformed
   * scopes throw invalid_scope; duplicates collapse.
   */
  parse(scopeParam: string): string[] {
    const names = [...new Set(scopeParam.split(' ').filter((s) => s !== ''))];
    // Only spaces: not empty (which means omitted), so a malformed scope (RFC 6749 §3.3).
    if (names.length === 0) throw new InvalidScope('The requested scope is invalid');
    for (const name of names) {
      if (!SCOPE_TOKEN.test(name) || !this.#byName.has(name)) {
        // Echo the name only when it is a well-formed, short scope-token, so the description
        // stays within RFC 6749 §5.2's character set and bounded.
        const echo = SCOPE_TOKEN.test(name) && name.length <= 64;
        throw new InvalidScope(echo ? `Unknown scope: ${name}` : 'The requested scope is invalid');
      }
    }
    return names;
  }

  /**
   * The scopes to grant: without a request, the user's scopes minus privileged ones; with one,
   * the requested scopes the user holds (those it lacks are dropped, not refused). Registry order.
   */
  grant(requested: readonly string[] | undefined, userScopes: readonly string[]): string[] {
    const held = new Set(userScopes);
    const wanted = requested === undefined ? undefined : new Set(requested);
    return this.list()
      .filter((d) => held.has(d.name))
      .filter((d) => (wanted === undefined ? !d.privileged : wanted.has(d.name)))
      .map((d) => d.name);
  }
}

/**
 * The scopes of a token (space-separated, as granted) that its user still holds: what the token
 * is worth now, so removing a scope from a user takes effect on tokens already issued.
 */
export function scopesStillHeld(granted: string, userScopes: readonly string[]): string[] {
  if (granted === '') return [];
  return granted.split(' ').filter((scope) => userScopes.includes(scope));
}
