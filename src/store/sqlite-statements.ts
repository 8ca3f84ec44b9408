import type Sqlite from 'better-sqlite3';
import type { CompiledQuery, SqliteDatabase, SqliteStatement } from 'kysely';
import type { RowReader } from './sql-store.js';

/** Distinct SQL texts kept prepared; the store issues a few dozen, so this bound is never reached in practice. */
const MAX_STATEMENTS = 256;

/**
 * Prepares each distinct SQL text once. Parameters are bound per call, so a prepared statement is
 * safe to reuse, and SQLite re-prepares it by itself after a schema change.
 */
function statementCache(database: Sqlite.Database): (sql: string) => Sqlite.Statement {
  const statements = new Map<string, Sqlite.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = database.prepare(sql);
      if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value!);
      statements.set(sql, statement);
    }
    return statement;
  };
}

/**
 * Counts statements run through Kysely on this process's SQLite connections: writes, BEGIN,
 * COMMIT, ROLLBACK, and reads too (an UPDATE ... RETURNING is a "reader" to better-sqlite3).
 * A data version remembered for the current turn of the event loop is good only while this
 * count stays the same. Counted when prepared: Kysely runs a statement synchronously right after
 * preparing it, so no data version can be read between the count and the commit.
 */
let statementsRun = 0;

/**
 * Wraps a better-sqlite3 database for Kysely so that each query is prepared once, not on every run
 * as Kysely's SQLite driver does: compiling the SQL again on each request cost more than running it.
 */
export function withStatementCache(database: Sqlite.Database): SqliteDatabase {
  const prepare = statementCache(database);
  return {
    prepare: (sql: string): SqliteStatement => {
      statementsRun += 1;
      return prepare(sql);
    },
    close: () => database.close(),
  };
}

/** Reads the first row of a compiled query synchronously on `database`, with prepared statements. */
export function sqliteRowReader(database: Sqlite.Database): RowReader {
  const prepare = statementCache(database);
  return (query: CompiledQuery) => prepare(query.sql).get(query.parameters as unknown[]);
}

const UNREAD = Symbol('unread');

/**
 * `PRAGMA data_version` of `database`: it changes whenever another connection (of this process
 * or any other) commits, and never for this connection's own reads. Read once per turn of the
 * event loop: requests that arrive together share one read (it was ~5% of a /users/me request),
 * which is as if they had all arrived before another process's commit that came meanwhile. A change
 * made through this process's connections is seen at once: any statement run drops the remembered value.
 */
export function sqliteDataVersion(database: Sqlite.Database): () => unknown {
  const statement = database.prepare('pragma data_version').pluck();
  let remembered: unknown = UNREAD;
  let rememberedAt = -1;
  const forget = () => {
    remembered = UNREAD;
  };
  return () => {
    if (remembered !== UNREAD && rememberedAt === statementsRun) return remembered;
    const first = remembered === UNREAD;
    remembered = statement.get();
    rememberedAt = statementsRun;
    // Forgotten in the next check phase: the next turn, or the one after for a value first read in
    // a check phase; HTTP requests arrive in the poll phase, before it.
    if (first) setImmediate(forget).unref();
    return remembered;
  };
}
