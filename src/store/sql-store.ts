import { Migrator, type Kysely, type Selectable } from 'kysely';
import { UserExists } from '../errors.js';
import { migrationProvider } from './migrations.js';
import type { NewUser, SessionRecord, SigningKeyRecord, Store, UserRecord } from './store.js';
import { randomUUID } from 'node:crypto';

interface UsersTable {
  id: string;
  username: string;
  email: string | null;
  full_name: string | null;
  disabled: number;
  password_hash: string;
  scopes: string;
  created_at: number | string;
  updated_at: number | string;
}

interface SessionsTable {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number | string;
  revoked_at: number | string | null;
}

interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number | string;
}

/** Kysely's view of the schema that migrations.ts creates. */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  signing_keys: SigningKeysTable;
}

/**
 * The Store over Kysely, for every dialect. Rows are normalized here (pg returns bigint as
 * strings, SQLite returns booleans as 0/1) so callers never see a dialect's quirks.
 */
export class SqlStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #isUniqueViolation: (err: unknown) => boolean;

  constructor(db: Kysely<Database>, isUniqueViolation: (err: unknown) => boolean) {
    this.#db = db;
    this.#isUniqueViolation = isUniqueViolation;
  }

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.#db, provider: migrationProvider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  async createUser(user: NewUser, now: number): Promise<UserRecord> {
    const row = {
      id: randomUUID(),
      username: user.username,
      email: user.email,
      full_name: user.fullName,
      disabled: user.disabled ? 1 : 0,
      password_hash: user.passwordHash,
      scopes: user.scopes.join(' '),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.#db.insertInto('users').values(row).execute();
    } catch (err) {
      if (this.#isUniqueViolation(err)) throw new UserExists(user.username);
      throw err;
    }
    return toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.#db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUser);
  }

  async setUserDisabled(username: string, disabled: boolean, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0, updated_at: now })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setPasswordHash(username: string, passwordHash: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: now })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async upgradePasswordHash(userId: string, previousHash: string, passwordHash: string): Promise<void> {
    await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', userId)
      .where('password_hash', '=', previousHash)
      .execute();
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.#db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        client_id: session.clientId,
        scope: session.scope,
        created_at: session.createdAt,
        revoked_at: session.revokedAt,
      })
      .execute();
  }

  async findSessionWithUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
    const row = await this.#db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        's.id as s_id',
        's.user_id as s_user_id',
        's.client_id as s_client_id',
        's.scope as s_scope',
        's.created_at as s_created_at',
        's.revoked_at as s_revoked_at',
        'u.id',
        'u.username',
        'u.email',
        'u.full_name',
        'u.disabled',
        'u.password_hash',
        'u.scopes',
        'u.created_at',
        'u.updated_at',
      ])
      .where('s.id', '=', sessionId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      session: {
        id: row.s_id,
        userId: row.s_user_id,
        clientId: row.s_client_id,
        scope: row.s_scope,
        createdAt: Number(row.s_created_at),
        revokedAt: row.s_revoked_at === null ? null : Number(row.s_revoked_at),
      },
      user: toUser(row),
    };
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      privateJwk: r.private_jwk,
      publicJwk: r.public_jwk,
      createdAt: Number(r.created_at),
    }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        private_jwk: key.privateJwk,
        public_jwk: key.publicJwk,
        created_at: key.createdAt,
      })
      .execute();
  }
}

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    disabled: Number(row.disabled) !== 0,
    passwordHash: row.password_hash,
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
