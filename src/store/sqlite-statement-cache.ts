import type Sqlite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; the store issues a few dozen, so this bound is never reached in practice. */
const MAX_STATEMENTS = 256;

/**
 * Wraps a better-sqlite3 database for Kysely so each distinct SQL text is prepared once and reused.
 * Kysely's SQLite driver prepares every query it runs; compiling the SQL again on each request cost
 * more than the query itself (see docs/performance.md). Parameters are bound per call, so a cached
 * statement is safe to reuse, and SQLite re-prepares it by itself after a schema change.
 */
export function withStatementCache(database: Sqlite.Database): SqliteDatabase {
  const statements = new Map<string, Sqlite.Statement>();
  return {
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
    close(): void {
      statements.clear();
      database.close();
    },
  };
}
