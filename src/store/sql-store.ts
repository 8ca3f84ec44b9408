import { Migrator, sql, type CompiledQuery, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import { ClientExists, UserExists } from '../errors.js';
import { migrationProvider } from './migrations.js';
import { isStorableKey } from './storable-key.js';
import type {
  ClientRecord,
  LoginFailures,
  NewUser,
  RefreshTokenRecord,
  RotationRefusal,
  SessionPreconditions,
  SessionRecord,
  SessionRefusal,
  SigningKeyRecord,
  Store,
  UserRecord,
} from './store.js';
import { randomUUID } from 'node:crypto';
import { nullableNumber, toClient, toLoginFailures, toSession, toSessionWithUser, toUser, type Database, type SessionWithUser, type SessionWithUserRow } from './sql-rows.js';

export type { Database } from './sql-rows.js';

/** Reads the first row of a compiled query at once, outside Kysely's driver (see SqlStoreOptions.readRow). */
export type RowReader = (query: CompiledQuery) => unknown;

export interface SqlStoreOptions {
  /** Recognizes the dialect's unique-constraint violation. */
  readonly isUniqueViolation: (err: unknown) => boolean;
  /**
   * The PostgreSQL schema that holds the tables: Kysely's migrator looks for its bookkeeping table
   * in every schema unless told which, and would find another one's.
   */
  readonly migrationSchema?: string;
  /**
   * A synchronous reader on a connection of its own, for the per-request session read. Through
   * Kysely's driver that read cost 30 µs, four times the query itself (docs/performance.md). A
   * separate connection never sees another connection's uncommitted writes, so it reads exactly
   * what Kysely would.
   */
  readonly readRow?: RowReader;
  /**
   * With `readRow`: a value that changes whenever any other connection commits (SQLite's
   * `PRAGMA data_version` on the reader's connection, which this process's writer is another of).
   * It is the store's `dataVersion`.
   */
  readonly dataVersion?: () => unknown;
  /** Closes what the options hold (the reader's connection) when the store closes. */
  readonly onClose?: () => void;
  /**
   * PostgreSQL: the reads a transaction's writes depend on lock the rows they read (FOR SHARE), so
   * a concurrent change to such a row either waits for the commit or is waited for and seen.
   * SQLite has no row locks and needs none: a transaction that has written holds the whole
   * database until it commits.
   */
  readonly lockRows?: boolean;
}

/** Thrown inside a transaction to roll it back; the store method then returns `refusal`. */
class Refused<T> extends Error {
  constructor(readonly refusal: T) {
    super(String(refusal));
  }
}

/**
 * The Store over Kysely, for every dialect. Rows are normalized here (pg returns bigint as
 * strings, SQLite returns booleans as 0/1) so callers never see a dialect's quirks. `openStore`
 * wraps it so every error it throws is classed (see store-unavailable.ts).
 */
export class SqlStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #isUniqueViolation: (err: unknown) => boolean;
  readonly #migrationSchema: string | undefined;
  readonly #readRow: RowReader | undefined;
  readonly #onClose: (() => void) | undefined;
  readonly #lockRows: boolean;
  /** The per-request read of every protected route, compiled once; its one parameter is the session id. */
  readonly #sessionByIdQuery: CompiledQuery<SessionWithUserRow>;
  /** See Store.dataVersion; only a synchronous reader's reads follow it. */
  readonly dataVersion?: () => unknown;

  constructor(db: Kysely<Database>, options: SqlStoreOptions) {
    this.#db = db;
    this.#isUniqueViolation = options.isUniqueViolation;
    this.#migrationSchema = options.migrationSchema;
    this.#readRow = options.readRow;
    this.#onClose = options.onClose;
    this.#lockRows = options.lockRows ?? false;
    if (options.readRow && options.dataVersion) this.dataVersion = options.dataVersion;
    this.#sessionByIdQuery = this.#sessionWithUser().where('s.id', '=', '').compile();
  }

  async migrate(): Promise<string[]> {
    const { error, results } = await this.#migrator().migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async schemaStatus(): Promise<{ pending: string[]; unknown: string[] }> {
    const known = new Set(Object.keys(await migrationProvider.getMigrations()));
    const pending = (await this.#migrator().getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
    // Kysely's own bookkeeping table; absent until the first migration runs.
    const table = this.#migrationSchema === undefined ? sql.table('kysely_migration') : sql.id(this.#migrationSchema, 'kysely_migration');
    const applied = await sql<{ name: string }>`select name from ${table}`
      .execute(this.#db)
      .then((r) => r.rows.map((row) => row.name))
      .catch((err: unknown) => {
        if (/kysely_migration/.test(String((err as Error).message))) return [];
        throw err;
      });
    return { pending, unknown: applied.filter((name) => !known.has(name)) };
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  #migrator(): Migrator {
    return new Migrator({ db: this.#db, provider: migrationProvider, migrationTableSchema: this.#migrationSchema });
  }

  async close(): Promise<void> {
    this.#onClose?.();
    await this.#db.destroy();
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    // Skipping the read tells a caller nothing it did not know: no such name is anyone's.
    if (!isStorableKey(username)) return undefined;
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
    if (!isStorableKey(username)) return false;
    const result = await this.#db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0, updated_at: now })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setPasswordHash(username: string, passwordHash: string, now: number, previousHash?: string): Promise<boolean> {
    if (!isStorableKey(username)) return false;
    const result = await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: now })
      .where('username', '=', username)
      .$if(previousHash !== undefined, (q) => q.where('password_hash', '=', previousHash!))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async upgradePasswordHash(userId: string, previousHash: string, passwordHash: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', userId)
      .where('password_hash', '=', previousHash)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setUserScopes(username: string, scopes: readonly string[], now: number): Promise<boolean> {
    if (!isStorableKey(username)) return false;
    const result = await this.#db
      .updateTable('users')
      .set({ scopes: scopes.join(' '), updated_at: now })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async createSession(session: SessionRecord, refreshTokenHash: string, preconditions: SessionPreconditions): Promise<SessionRefusal | undefined> {
    return await this.#refusable<SessionRefusal>(async (trx) => {
      // Written first, checked after: on SQLite the first write takes the database's write lock, so
      // the reads below see every process's latest commit and nothing else commits before this one.
      await trx
        .insertInto('sessions')
        .values({
          id: session.id,
          user_id: session.userId,
          client_id: session.clientId,
          scope: session.scope,
          created_at: session.createdAt,
          refreshed_at: session.refreshedAt,
          revoked_at: session.revokedAt,
        })
        .execute();
      await trx
        .insertInto('refresh_tokens')
        .values({ token_hash: refreshTokenHash, session_id: session.id, created_at: session.createdAt, rotated_at: null })
        .execute();
      // On PostgreSQL the locks make a password change or a disable wait for this commit (and then
      // sweep this session), or make these reads wait for the change and see it.
      const user = await this.#forShare(trx.selectFrom('users').select(['password_hash', 'disabled']).where('id', '=', session.userId)).executeTakeFirst();
      if (user?.password_hash !== preconditions.passwordHash) throw new Refused('password_changed');
      if (Number(user.disabled) !== 0) throw new Refused('user_disabled');
      if (preconditions.registeredClient) {
        const client = await this.#forShare(trx.selectFrom('clients').select('id').where('id', '=', session.clientId)).executeTakeFirst();
        if (!client) throw new Refused('client_removed');
      }
    });
  }

  /** Runs `work` in a transaction; a Refused thrown inside rolls it back and becomes the answer. */
  async #refusable<R>(work: (trx: Transaction<Database>) => Promise<void>): Promise<R | undefined> {
    try {
      await this.#db.transaction().execute(work);
      return undefined;
    } catch (err) {
      if (err instanceof Refused) return err.refusal as R;
      throw err;
    }
  }

  /** `query`, locking the rows it reads where the dialect needs it (see SqlStoreOptions.lockRows). */
  #forShare<TB extends keyof Database, O>(query: SelectQueryBuilder<Database, TB, O>): SelectQueryBuilder<Database, TB, O> {
    return this.#lockRows ? query.forShare() : query;
  }

  async findSessionWithUser(sessionId: string): Promise<SessionWithUser | undefined> {
    const readRow = this.#readRow;
    if (readRow === undefined) return toSessionWithUser((await this.#db.executeQuery(this.#sessionById(sessionId))).rows[0]);
    // Read before the first await, so a version taken just before the call covers this read.
    return toSessionWithUser(readRow(this.#sessionById(sessionId)) as SessionWithUserRow | undefined);
  }

  #sessionById(sessionId: string): CompiledQuery<SessionWithUserRow> {
    return { ...this.#sessionByIdQuery, parameters: [sessionId] };
  }

  async revokeSession(sessionId: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeUserSessions(userId: string, now: number, exceptSessionId?: string): Promise<number> {
    let query = this.#db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async findRefreshToken(tokenHash: string): Promise<{ token: RefreshTokenRecord; session: SessionRecord; user: UserRecord } | undefined> {
    const row = await this.#sessionWithUser()
      .innerJoin('refresh_tokens as r', 'r.session_id', 's.id')
      .select(['r.token_hash', 'r.created_at as r_created_at', 'r.rotated_at as r_rotated_at'])
      .where('r.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      token: {
        tokenHash: row.token_hash,
        sessionId: row.s_id,
        createdAt: Number(row.r_created_at),
        rotatedAt: nullableNumber(row.r_rotated_at),
      },
      session: toSession(row),
      user: toUser(row),
    };
  }

  async rotateRefreshToken(oldHash: string, newHash: string, sessionId: string, now: number): Promise<RotationRefusal | undefined> {
    return await this.#refusable<RotationRefusal>(async (trx) => {
      // The conditional update is the lock: of concurrent exchanges of one token, exactly one
      // changes a row; the others see zero and must treat their token as reused.
      const claimed = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('token_hash', '=', oldHash)
        .where('rotated_at', 'is', null)
        .executeTakeFirst();
      if (claimed.numUpdatedRows !== 1n) throw new Refused('reused');
      // Touched only while live: a revocation that committed since the caller read the session is
      // seen here (PostgreSQL re-reads a row it had to wait for), and a later one sees the new token.
      const session = await trx
        .updateTable('sessions')
        .set({ refreshed_at: now })
        .where('id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .returning('user_id')
        .executeTakeFirst();
      if (!session) throw new Refused('session_ended');
      const user = await this.#forShare(trx.selectFrom('users').select('disabled').where('id', '=', session.user_id)).executeTakeFirst();
      if (!user || Number(user.disabled) !== 0) throw new Refused('user_disabled');
      await trx.insertInto('refresh_tokens').values({ token_hash: newHash, session_id: sessionId, created_at: now, rotated_at: null }).execute();
    });
  }

  async findLoginFailures(key: string): Promise<LoginFailures | undefined> {
    const row = await this.#db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
    return row && toLoginFailures(row);
  }

  async compareAndSetLoginFailures(key: string, expected: LoginFailures | undefined, next: LoginFailures): Promise<boolean> {
    const values = {
      consecutive_failures: next.consecutiveFailures,
      last_failure_at: next.lastFailureAt,
      window_start: next.windowStart,
      window_failures: next.windowFailures,
    };
    if (expected === undefined) {
      // Of concurrent first claims, the insert that lands first wins; the others insert nothing.
      const inserted = await this.#db
        .insertInto('login_throttle')
        .values({ key, ...values })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      return inserted.numInsertedOrUpdatedRows === 1n;
    }
    // Every counter must still be what the caller read: then no other claim came in between.
    const updated = await this.#db
      .updateTable('login_throttle')
      .set(values)
      .where('key', '=', key)
      .where('consecutive_failures', '=', expected.consecutiveFailures)
      .where('last_failure_at', '=', expected.lastFailureAt)
      .where('window_start', '=', expected.windowStart)
      .where('window_failures', '=', expected.windowFailures)
      .executeTakeFirst();
    return updated.numUpdatedRows === 1n;
  }

  async forgiveLoginFailure(key: string, windowStart: number): Promise<void> {
    // One relative update, so failures other instances counted meanwhile stay counted.
    await this.#db
      .updateTable('login_throttle')
      .set({
        consecutive_failures: 0,
        window_failures: sql`case when window_start = ${windowStart} and window_failures > 0 then window_failures - 1 else window_failures end`,
      })
      .where('key', '=', key)
      .execute();
  }

  async deleteIdleLoginFailures(windowStartedBy: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('login_throttle')
      .where('consecutive_failures', '=', 0)
      .where('window_start', '<=', windowStartedBy)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async createClient(client: ClientRecord): Promise<void> {
    try {
      await this.#db
        .insertInto('clients')
        .values({
          id: client.id,
          name: client.name,
          secret_hash: client.secretHash,
          grant_types: client.grantTypes.join(' '),
          scopes: client.scopes.join(' '),
          created_at: client.createdAt,
        })
        .execute();
    } catch (err) {
      if (this.#isUniqueViolation(err)) throw new ClientExists(client.id);
      throw err;
    }
  }

  async findClient(id: string): Promise<ClientRecord | undefined> {
    if (!isStorableKey(id)) return undefined;
    const row = await this.#db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toClient(row);
  }

  async listClients(): Promise<ClientRecord[]> {
    return (await this.#db.selectFrom('clients').selectAll().orderBy('id').execute()).map(toClient);
  }

  async deleteClient(id: string, now: number): Promise<boolean> {
    if (!isStorableKey(id)) return false;
    return await this.#db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      // Tokens of a client that no longer exists must not outlive it.
      await trx.updateTable('sessions').set({ revoked_at: now }).where('client_id', '=', id).where('revoked_at', 'is', null).execute();
      return true;
    });
  }

  #sessionWithUser() {
    return this.#db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        's.id as s_id',
        's.user_id as s_user_id',
        's.client_id as s_client_id',
        's.scope as s_scope',
        's.created_at as s_created_at',
        's.refreshed_at as s_refreshed_at',
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
      ]);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      privateJwk: r.private_jwk,
      publicJwk: r.public_jwk,
      createdAt: Number(r.created_at),
      retiredAt: nullableNumber(r.retired_at),
    }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.updateTable('signing_keys').set({ retired_at: key.createdAt }).where('retired_at', 'is', null).execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          alg: key.alg,
          private_jwk: key.privateJwk,
          public_jwk: key.publicJwk,
          created_at: key.createdAt,
          retired_at: key.retiredAt,
        })
        .execute();
    });
  }
}

