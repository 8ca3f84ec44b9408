/**
 * The storage contract. Everything Gatehouse persists goes through this interface, so SQLite and
 * PostgreSQL implementations are interchangeable and one contract suite tests both. Timestamps are
 * milliseconds since the epoch; absent optional values are `null`, never `undefined`. A username or
 * client id that no row can hold (one with U+0000, which PostgreSQL cannot store) is simply not
 * found: lookups return `undefined` and changes `false`, on every backend, never an error.
 */
export interface UserRecord {
  readonly id: string;
  /** Immutable: it is the `sub` of every token. */
  readonly username: string;
  readonly email: string | null;
  readonly fullName: string | null;
  readonly disabled: boolean;
  /** PHC string (argon2id, or an imported legacy format). Never leaves the server. */
  readonly passwordHash: string;
  /** Scopes the user may be granted. */
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewUser {
  readonly username: string;
  readonly email: string | null;
  readonly fullName: string | null;
  readonly disabled: boolean;
  readonly passwordHash: string;
  readonly scopes: readonly string[];
}

/** A login: what every access and refresh token of it belongs to. */
export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  /** The scope granted at login; refreshes may narrow an access token, never this. */
  readonly scope: string;
  readonly createdAt: number;
  /** Last login or refresh: the idle lifetime counts from here. */
  readonly refreshedAt: number;
  readonly revokedAt: number | null;
}

/**
 * What a login proved, which must still hold when its session is stored (see Store.createSession):
 * a password reset, a disable or a client removal that lands while the password is being checked
 * must not be outlived by a session it never saw.
 */
export interface SessionPreconditions {
  /** The hash the password was proved against (or the upgrade of it the login stored). */
  readonly passwordHash: string;
  /** True when the session's client is a registered one, which must then still exist. */
  readonly registeredClient: boolean;
}

/** Why a session was not stored, checked in this order: the first that applies. */
export type SessionRefusal = 'password_changed' | 'user_disabled' | 'client_removed';

/** Why a refresh token was not exchanged (see Store.rotateRefreshToken). */
export type RotationRefusal =
  /** The token had been exchanged already: a concurrent or replayed use. */
  | 'reused'
  /** The session was revoked (a logout, a password reset, a client removal). */
  | 'session_ended'
  | 'user_disabled';

export interface RefreshTokenRecord {
  /** SHA-256 of the token, base64url; the token itself is never stored. */
  readonly tokenHash: string;
  readonly sessionId: string;
  readonly createdAt: number;
  /** Set once the token has been exchanged; presenting it again is reuse. */
  readonly rotatedAt: number | null;
}

export interface ClientRecord {
  readonly id: string;
  readonly name: string;
  /** SHA-256 of the secret for confidential clients; null for public clients. */
  readonly secretHash: string | null;
  readonly grantTypes: readonly string[];
  readonly scopes: readonly string[];
  readonly createdAt: number;
}

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  /** Private JWK as JSON. */
  readonly privateJwk: string;
  /** Public JWK as JSON, as published at /.well-known/jwks.json. */
  readonly publicJwk: string;
  readonly createdAt: number;
  /** When it stopped signing; it keeps verifying (and stays published) until its tokens expire. */
  readonly retiredAt: number | null;
}

/** Failed logins of one account name (known or not), for per-account throttling. */
export interface LoginFailures {
  readonly consecutiveFailures: number;
  readonly lastFailureAt: number;
  /** Start of the current counting window, and the failures in it. */
  readonly windowStart: number;
  readonly windowFailures: number;
}

export interface Store {
  /** Brings the schema to the latest version; returns the migrations it applied. */
  migrate(): Promise<string[]>;
  /** Migrations this version knows but the database lacks, and ones the database has that it does not know. */
  schemaStatus(): Promise<{ pending: string[]; unknown: string[] }>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;

  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** Throws UserExists when the username is taken. */
  createUser(user: NewUser, now: number): Promise<UserRecord>;
  listUsers(): Promise<UserRecord[]>;
  /** Returns false when no such user exists. */
  setUserDisabled(username: string, disabled: boolean, now: number): Promise<boolean>;
  /**
   * Replaces the password hash; `false` when no such user exists, or when `previousHash` is given
   * and the hash is no longer that one (a change proved against it must not undo a reset since).
   */
  setPasswordHash(username: string, passwordHash: string, now: number, previousHash?: string): Promise<boolean>;
  /**
   * Upgrades a hash only if it is still `previousHash`, so a concurrent password change wins; true
   * when it did.
   */
  upgradePasswordHash(userId: string, previousHash: string, passwordHash: string): Promise<boolean>;

  /** Replaces the user's scope set; false when no such user exists. */
  setUserScopes(username: string, scopes: readonly string[], now: number): Promise<boolean>;

  /**
   * Stores a new session with its first refresh token, atomically, if the user's password hash is
   * still `preconditions.passwordHash`, the user is still enabled and a registered client still
   * exists; otherwise stores nothing and says why. The check and the write are one transaction
   * that a concurrent password change, disable or client removal cannot interleave with: either
   * the change comes first and the session is refused, or the session comes first and the change's
   * sweep of sessions ends it.
   */
  createSession(session: SessionRecord, refreshTokenHash: string, preconditions: SessionPreconditions): Promise<SessionRefusal | undefined>;
  /**
   * Optional: a value that changes whenever stored data changes: at once for a change this process
   * made, and from the next turn of the event loop for one another process made (the turn after,
   * when it was first taken in a `setImmediate` callback, as `app.inject` runs requests).
   * A read begun after it was taken sees at least the data of that version, so what was read may be
   * reused for as long as the value stays the same. Absent where it cannot be had cheaply.
   */
  dataVersion?(): unknown;
  /** The session and its user in one read: the per-request check of every protected route. */
  findSessionWithUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  /** Ends a session (and so every token of it); false when it was unknown or already ended. */
  revokeSession(sessionId: string, now: number): Promise<boolean>;
  /** Ends every live session of a user but `exceptSessionId`; returns how many ended. */
  revokeUserSessions(userId: string, now: number, exceptSessionId?: string): Promise<number>;

  findRefreshToken(tokenHash: string): Promise<{ token: RefreshTokenRecord; session: SessionRecord; user: UserRecord } | undefined>;
  /**
   * Exchanges `oldHash` for `newHash` in one atomic step: marks the old token rotated, stores the
   * new one and touches the session. Refuses, changing nothing, when the old token was already
   * rotated, or when its session has been revoked or its user disabled by the time the exchange
   * commits (as for createSession, a revocation in flight is either seen or sees the new token).
   */
  rotateRefreshToken(oldHash: string, newHash: string, sessionId: string, now: number): Promise<RotationRefusal | undefined>;

  findLoginFailures(key: string): Promise<LoginFailures | undefined>;
  /**
   * Replaces the counts of `key` with `next`, but only if they still equal `expected` (undefined:
   * only if `key` has none yet); true when it did. The optimistic lock that lets instances claim
   * login attempts atomically: a caller that gets false reads again and recomputes.
   */
  compareAndSetLoginFailures(key: string, expected: LoginFailures | undefined, next: LoginFailures): Promise<boolean>;
  /**
   * Takes back one counted failure whose password proved right: the consecutive count returns to
   * 0, and the window's count drops by one if the window that counted it (`windowStart`) is
   * still the current one. Nothing happens when `key` has no counts.
   */
  forgiveLoginFailure(key: string, windowStart: number): Promise<void>;
  /**
   * Deletes the counts that no longer restrict anyone: no consecutive failures, and a window that
   * began at or before `windowStartedBy` (so has expired). Returns how many were deleted.
   */
  deleteIdleLoginFailures(windowStartedBy: number): Promise<number>;

  createClient(client: ClientRecord): Promise<void>;
  findClient(id: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /** Removes a client and ends every session issued to it; false when no such client exists. */
  deleteClient(id: string, now: number): Promise<boolean>;

  /** Every signing key, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Adds a key and retires every other unretired key, atomically: the new key becomes current. */
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
}
