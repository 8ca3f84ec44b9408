import { IncorrectPassword, PolicyViolation, UserNotFound } from '../errors.js';
import type { Store, UserRecord } from '../store/store.js';
import { noAudit, type Audit } from './audit.js';
import type { Clock } from './clock.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import { assertAcceptablePassword, normalizePassword } from './password-policy.js';
import type { ScopeRegistry } from './scopes.js';
import { hasControlCharacter, isWellFormedText } from './unicode-text.js';

export interface CreateUserInput {
  readonly username: string;
  readonly password: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  /** Defaults to the registry's non-privileged scopes (`me items`), as for clients. */
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
}

/** Usernames appear in tokens and logs: printable, no spaces or separators that need escaping. */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets, an address 254. */
const EMAIL_MAX_BYTES = 254;

/**
 * Refuses a free-text user field that would not come back as it was sent: a lone surrogate is
 * stored as U+FFFD (yet was echoed intact), and control characters are no part of a name or an
 * address, rewrite terminals that list users, and U+0000 cannot be stored on PostgreSQL at all.
 */
function assertPlainText(field: string, text: string): void {
  if (!isWellFormedText(text)) throw new PolicyViolation(`${field} must be valid Unicode text (no lone surrogates)`);
  if (hasControlCharacter(text)) throw new PolicyViolation(`${field} must not contain control characters`);
}

/** User administration shared by the CLI, demo seeding and (later) the admin API. */
export class UserService {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #scopes: ScopeRegistry;
  readonly #clock: Clock;
  readonly #throttle: LoginThrottle;

  constructor(store: Store, hasher: PasswordHasher, scopes: ScopeRegistry, clock: Clock, throttle: LoginThrottle) {
    this.#store = store;
    this.#hasher = hasher;
    this.#scopes = scopes;
    this.#clock = clock;
    this.#throttle = throttle;
  }

  /** Creates a user after checking every field; `fixture` skips the password policy (demo users only). */
  async create(input: CreateUserInput, options: { fixture?: boolean; audit?: Audit } = {}): Promise<UserRecord> {
    if (!USERNAME.test(input.username)) {
      throw new PolicyViolation(
        'username must be 1 to 64 characters: letters, digits and . _ @ + -, starting with a letter or digit',
      );
    }
    if (input.email != null) assertPlainText('email', input.email);
    if (input.fullName != null) assertPlainText('full name', input.fullName);
    if (input.email != null && Buffer.byteLength(input.email, 'utf8') > EMAIL_MAX_BYTES) {
      throw new PolicyViolation(`email must be at most ${EMAIL_MAX_BYTES} bytes long (RFC 5321)`);
    }
    if (input.email != null && !EMAIL.test(input.email)) throw new PolicyViolation('email is not an email address');
    if (input.fullName != null && input.fullName.length > 200) throw new PolicyViolation('full name is longer than 200 characters');
    const scopes = [...new Set(input.scopes ?? this.#scopes.unprivileged())];
    for (const scope of scopes) {
      if (!this.#scopes.has(scope)) throw new PolicyViolation(`unknown scope: ${scope}`);
    }
    if (!options.fixture) assertAcceptablePassword(input.password, input.username);
    const created = await this.#store.createUser(
      {
        username: input.username,
        email: input.email ?? null,
        fullName: input.fullName ?? null,
        disabled: input.disabled ?? false,
        passwordHash: await this.#hasher.hash(input.password),
        scopes,
      },
      this.#clock.now(),
    );
    (options.audit ?? noAudit)('user.create', { user: created.username, scopes: created.scopes.join(' ') });
    return created;
  }

  list(): Promise<UserRecord[]> {
    return this.#store.listUsers();
  }

  find(username: string): Promise<UserRecord | undefined> {
    return this.#store.findUserByUsername(username);
  }

  /** Returns false when the user does not exist. Tokens of a disabled user stop working at once. */
  async setDisabled(username: string, disabled: boolean, audit: Audit = noAudit): Promise<boolean> {
    const changed = await this.#store.setUserDisabled(username, disabled, this.#clock.now());
    if (changed) audit(disabled ? 'user.disable' : 'user.enable', { user: username });
    return changed;
  }

  /** Replaces the user's scopes; every scope must exist. False when the user does not exist. */
  async setScopes(username: string, scopes: readonly string[], audit: Audit = noAudit): Promise<boolean> {
    for (const scope of scopes) {
      if (!this.#scopes.has(scope)) throw new PolicyViolation(`unknown scope: ${scope}`);
    }
    const unique = [...new Set(scopes)];
    const changed = await this.#store.setUserScopes(username, unique, this.#clock.now());
    if (changed) audit('user.scopes', { user: username, scopes: unique.join(' ') });
    return changed;
  }

  /**
   * Sets a new password under the policy and ends the user's sessions (all of them, or all but
   * `keepSessionId` when the user changes their own password). False when the user does not exist.
   */
  async setPassword(username: string, password: string, keepSessionId?: string, audit: Audit = noAudit): Promise<boolean> {
    assertAcceptablePassword(password, username);
    const user = await this.#store.findUserByUsername(username);
    return user !== undefined && (await this.#replacePassword(user, password, keepSessionId, undefined, audit));
  }

  /**
   * Stores a hash of `password` (already checked against the policy) and ends `user`'s sessions but
   * `keepSessionId`; only over `previousHash` when given: false when the hash has changed since.
   */
  async #replacePassword(user: UserRecord, password: string, keepSessionId: string | undefined, previousHash: string | undefined, audit: Audit): Promise<boolean> {
    const now = this.#clock.now();
    if (!(await this.#store.setPasswordHash(user.username, await this.#hasher.hash(password), now, previousHash))) return false;
    await this.#store.revokeUserSessions(user.id, now, keepSessionId);
    audit(keepSessionId === undefined ? 'password.reset' : 'password.change', { user: user.username, session: keepSessionId });
    return true;
  }

  /** The user named `username`; throws UserNotFound (404) when there is none. */
  async get(username: string): Promise<UserRecord> {
    const user = await this.#store.findUserByUsername(username);
    if (!user) throw new UserNotFound();
    return user;
  }

  /**
   * A user's own password change: proves the current password (IncorrectPassword otherwise), then
   * sets the new one, which must differ from it, under the policy and ends every session but
   * `keepSessionId`, the caller's own.
   */
  async changePassword(
    user: UserRecord,
    currentPassword: string,
    newPassword: string,
    keepSessionId: string,
    audit: Audit = noAudit,
  ): Promise<void> {
    // The current password is a password guess like a login's: a stolen access token must not turn
    // this route into an unthrottled oracle for it. Same per-account throttle, same claim first, and
    // the same turns with the account's logins in this process (see LoginThrottle.inTurn).
    this.#hasher.assertRoom();
    await this.#throttle.inTurn(user.username, () => this.#proveCurrentPassword(user, currentPassword, audit));
    // A "change" to the same password would end the other sessions and protect nothing new; a
    // user who means to end them has POST /logout/all.
    if (normalizePassword(newPassword) === normalizePassword(currentPassword)) {
      throw new PolicyViolation('new password must differ from the current password');
    }
    // Only over the hash the current password was proved against: a reset that landed meanwhile
    // (which ended this session too) must not be undone by a change it never saw.
    assertAcceptablePassword(newPassword, user.username);
    if (!(await this.#replacePassword(user, newPassword, keepSessionId, user.passwordHash, audit))) {
      audit('password.change_failure', { user: user.username, reason: 'password_changed' });
      throw new IncorrectPassword();
    }
  }

  /** Claims an attempt at `user`'s account and checks `password`; throws IncorrectPassword unless it is right. */
  async #proveCurrentPassword(user: UserRecord, password: string, audit: Audit): Promise<void> {
    // Hashing may have saturated while this attempt waited its turn: refuse it now, uncounted.
    this.#hasher.assertRoom();
    const now = this.#clock.now();
    const claim = await this.#throttle.claim(user.username, now);
    if (!claim.allowed) {
      await this.#hasher.verifyDummy(password);
      audit('password.change_failure', { user: user.username, reason: 'throttled' });
      throw new IncorrectPassword();
    }
    const { ok } = await this.#hasher.verify(user.passwordHash, password);
    if (!ok) {
      audit('password.change_failure', { user: user.username, reason: 'wrong_password' });
      throw new IncorrectPassword();
    }
    await this.#throttle.succeeded(user.username, claim, now);
  }
}
