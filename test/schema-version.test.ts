import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { isPostgresUrl } from '../src/store/database-url.js';
import { openStore } from '../src/store/open-store.js';
import { createTestSchema } from './helpers/postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// A migration a later Gatehouse would have written: this version cannot know what it changed.
const FUTURE = '9999_from_a_later_version';

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the `gatehouse` command as an operator would, and resolves with how it ended. */
function gatehouse(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'warn', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Migrates the database, then records a migration this version does not have, as a newer one would. */
async function makeNewer(databaseUrl: string): Promise<void> {
  const store = await openStore(databaseUrl, { migrate: true });
  await store.close();
  const dialect = isPostgresUrl(databaseUrl)
    ? new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1 }) })
    : new SqliteDialect({ database: new Sqlite(databaseUrl) });
  const db = new Kysely<unknown>({ dialect });
  try {
    await sql`insert into kysely_migration (name, timestamp) values (${FUTURE}, ${new Date().toISOString()})`.execute(db);
  } finally {
    await db.destroy();
  }
}

const BACKENDS: { name: string; create(t: TestContext): Promise<{ url: string; dispose(): Promise<void> } | undefined> }[] = [
  {
    name: 'SQLite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-schema-'));
      return { url: join(dir, 'newer.db'), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async create(t) {
      const schema = await createTestSchema();
      if ('unavailable' in schema) {
        t.skip(schema.unavailable);
        return undefined;
      }
      return { url: schema.url, dispose: () => schema.drop() };
    },
  },
];

for (const backend of BACKENDS) {
  describe(`a database schema newer than this version: ${backend.name}`, () => {
    test('serve and migrate refuse it with a clear message and exit 1, and leave it as it was', async (t) => {
      const database = await backend.create(t);
      if (!database) return;
      try {
        await makeNewer(database.url);
        const expected = new RegExp(`^gatehouse: the database schema is newer than this Gatehouse \\(it has migrations ${FUTURE}\\); upgrade Gatehouse\\n$`);
        for (const command of ['serve', 'migrate']) {
          const outcome = await gatehouse([command], { DATABASE_URL: database.url });
          assert.equal(outcome.status, 1, `${command} exits 1`);
          assert.match(outcome.stderr, expected, `${command} says why`);
          assert.doesNotMatch(outcome.stdout, /listening|up to date/, `${command} did nothing`);
        }
        // Refusing must not have touched the bookkeeping: the later version still finds its migration.
        const store = await openStore(database.url, { migrate: false }).catch((err: Error) => err);
        assert.ok(store instanceof Error && /newer than this Gatehouse/.test(store.message));
      } finally {
        await database.dispose();
      }
    });
  });
}
