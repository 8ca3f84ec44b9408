import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { SchemaNotCurrent } from '../errors.js';
import { describeDatabase, isPostgresUrl } from './database-url.js';
import { classifyingFailures } from './store-unavailable.js';
import { SqlStore, type Database } from './sql-store.js';
import { sqliteDataVersion, sqliteRowReader, withStatementCache } from './sqlite-statements.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** PostgreSQL connections per process. */
  readonly poolSize?: number;
  /**
   * Apply pending migrations. By default the embedded SQLite file migrates itself (one command to
   * start), while a shared PostgreSQL is only checked: its schema changes with `gatehouse migrate`,
   * once, not by whichever instance starts first.
   */
  readonly migrate?: boolean;
  /** Called with errors of idle PostgreSQL connections, which would otherwise crash the process. */
  readonly onIdleError?: (err: Error) => void;
}

/**
 * Opens the store `databaseUrl` names (creating a SQLite file and its folder when missing) and
 * makes sure its schema is the one this version expects: throws SchemaNotCurrent otherwise.
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  return (await openAndMigrate(databaseUrl, options)).store;
}

/**
 * Applies the pending migrations of the database `databaseUrl` names (`gatehouse migrate`) and
 * returns their names, empty when it was up to date. Refuses a schema newer than this version.
 */
export async function migrateDatabase(databaseUrl: string, options: Pick<OpenStoreOptions, 'poolSize'> = {}): Promise<string[]> {
  const { store, applied } = await openAndMigrate(databaseUrl, { ...options, migrate: true });
  await store.close();
  return applied;
}

async function openAndMigrate(databaseUrl: string, options: OpenStoreOptions): Promise<{ store: Store; applied: string[] }> {
  const postgres = isPostgresUrl(databaseUrl);
  const store = classifyingFailures(postgres ? await openPostgres(databaseUrl, options) : openSqlite(databaseUrl));
  try {
    const { pending, unknown } = await store.schemaStatus();
    if (unknown.length > 0) {
      throw new SchemaNotCurrent(
        `the database schema is newer than this Gatehouse (it has migrations ${unknown.join(', ')}); upgrade Gatehouse`,
      );
    }
    if (pending.length === 0) return { store, applied: [] };
    if (!(options.migrate ?? !postgres)) {
      throw new SchemaNotCurrent(`the database is not migrated (pending: ${pending.join(', ')}); run "gatehouse migrate" first`);
    }
    return { store, applied: await store.migrate() };
  } catch (err) {
    await store.close();
    throw err;
  }
}

function openSqlite(path: string): Store {
  let database: Sqlite.Database;
  try {
    if (path !== ':memory:') makeFolder(dirname(path));
    database = new Sqlite(path);
  } catch (err) {
    // SQLite's own message ("unable to open database file") does not say which file.
    throw new Error(`cannot open the SQLite database ${JSON.stringify(path)}: ${(err as Error).message}`, { cause: err });
  }
  // WAL lets readers proceed while a login writes; NORMAL sync is durable across process crashes.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // The per-request session read gets a read-only connection of its own (see SqlStoreOptions).
  // An in-memory database cannot be opened twice, so it reads through Kysely.
  const reader = path === ':memory:' ? undefined : new Sqlite(path, { readonly: true });
  reader?.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  const code = (err: unknown) => (err as { code?: string }).code;
  return new SqlStore(db, {
    isUniqueViolation: (err) => code(err) === 'SQLITE_CONSTRAINT_UNIQUE' || code(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    ...(reader && { readRow: sqliteRowReader(reader), dataVersion: sqliteDataVersion(reader) }),
    onClose: () => reader?.close(),
  });
}

/**
 * Creates `dir` and its missing parents, one level at a time: Node's recursive mkdir never returns
 * where mkdir fails with ENOENT under an existing folder (as in /proc), and a typo must not hang.
 */
function makeFolder(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeFolder(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    // Another instance starting at the same time made it first.
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
}

/** The queries of the failed connection carry the error to their callers; nothing more to do. */
function ignoreCheckedOutError(): void {}

async function openPostgres(url: string, options: OpenStoreOptions): Promise<Store> {
  // Loaded only for PostgreSQL, so the embedded default does not carry the driver.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // A lost database must turn into quick errors (503), never into requests that hang.
    connectionTimeoutMillis: 3_000,
    query_timeout: 10_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  // A connection that fails while checked out (a reset during a query) fails its queries, which
  // become 503s, and also emits 'error' on the client; the pool listens only while the client is
  // idle, and an 'error' nobody listens to would end the process.
  pool.on('connect', (client) => client.on('error', ignoreCheckedOutError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let schema: string | null;
  try {
    schema = (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ?? null;
  } catch (err) {
    await db.destroy();
    // The URL may hold a password: the message names the server and database without it.
    throw new Error(`cannot connect to PostgreSQL at ${describeDatabase(url)}: ${(err as Error).message}`, { cause: err });
  }
  if (schema === null) {
    await db.destroy();
    throw new SchemaNotCurrent('the PostgreSQL search_path names no existing schema; create it or fix DATABASE_URL');
  }
  // 23505: unique_violation. Transactions run at READ COMMITTED, where only row locks keep a read
  // that a write depends on from going stale before the commit.
  return new SqlStore(db, { isUniqueViolation: (err) => (err as { code?: string }).code === '23505', migrationSchema: schema, lockRows: true });
}
