import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inCi } from './in-ci.js';

/** The PostgreSQL the tests use: trust authentication, database `test`, as CI provides it. */
export const POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** A DATABASE_URL whose connections live in this schema only. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * A fresh schema of its own for one test file, so runs never see each other's data. When no
 * PostgreSQL answers: in CI this throws (the test fails); elsewhere it returns the reason, for
 * the caller to skip with, loudly. `url` and `env` default to the test database and process.env.
 */
export async function createTestSchema(
  options: { url?: string; env?: Record<string, string | undefined> } = {},
): Promise<TestSchema | { unavailable: string }> {
  const url = options.url ?? POSTGRES_URL;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (err) {
    const reason = `PostgreSQL not reachable at ${url}: ${(err as Error).message}`;
    if (inCi(options.env)) throw new Error(reason);
    process.stderr.write(`SKIPPING PostgreSQL tests: ${reason}\n`);
    return { unavailable: reason };
  }
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`create schema ${name}`);
  } finally {
    await admin.end();
  }
  const separator = url.includes('?') ? '&' : '?';
  return {
    name,
    url: `${url}${separator}options=${encodeURIComponent(`-c search_path=${name}`)}`,
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${name} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
