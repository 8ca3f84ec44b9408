/**
 * The storage contract. Everything Gatehouse persists goes through this interface, so SQLite and
 * PostgreSQL implementations are interchangeable and one contract suite tests both. Timestamps are
 * milliseconds since the epoch; absent optional values are `null`, never `undefined`.
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

export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  /** Private JWK as JSON. */
  readonly privateJwk: string;
  /** Public JWK as JSON, as published at /.well-known/jwks.json. */
  readonly publicJwk: string;
  readonly createdAt: number;
}

export interface Store {
  /** Brings the schema to the latest version; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** Throws UserExists when the username is taken. */
  createUser(user: NewUser, now: number): Promise<UserRecord>;
  listUsers(): Promise<UserRecord[]>;
  /** Returns false when no such user exists. */
  setUserDisabled(username: string, disabled: boolean, now: number): Promise<boolean>;
  /** Replaces the password hash; `false` when no such user exists. */
  setPasswordHash(username: string, passwordHash: string, now: number): Promise<boolean>;
  /** Upgrades a hash only if it is still `previousHash`, so a concurrent password change wins. */
  upgradePasswordHash(userId: string, previousHash: string, passwordHash: string): Promise<void>;

  createSession(session: SessionRecord): Promise<void>;
  /** The session and its user in one read: the per-request check of every protected route. */
  findSessionWithUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
}
