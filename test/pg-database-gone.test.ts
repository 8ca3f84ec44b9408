import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { openStore } from '../src/store/open-store.js';
import { isStoreUnavailable } from '../src/store/store-unavailable.js';
import { createTestSchema, POSTGRES_URL } from './helpers/postgres.js';

/**
 * A database dropped or renamed under a running server is an outage (503, retry later), like one
 * that stopped answering: a regression test for a 500 with a stack trace in the log.
 */
test('a PostgreSQL database renamed under the store fails its reads as an outage, not as a bug', async (t) => {
  const probe = await createTestSchema();
  if ('unavailable' in probe) return t.skip(probe.unavailable);
  await probe.drop();
  const name = `gatehouse_gone_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const store = await openStore(url.toString(), { migrate: true });
    try {
      assert.equal(await store.findUserByUsername('nobody'), undefined);
      // Renaming needs the database to have no connections: end the store's, then rename at once.
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [name]);
      await admin.query(`alter database ${name} rename to ${name}_away`);
      // The pool replaces its dead connection for this call: the database is not there by that name.
      await assert.rejects(store.findUserByUsername('nobody'), (err: unknown) => {
        assert.equal((err as { code?: string }).code, '3D000');
        return isStoreUnavailable(err);
      });
    } finally {
      await store.close().catch(() => undefined);
      await admin.query(`drop database if exists ${name}_away`);
      await admin.query(`drop database if exists ${name}`);
    }
  } finally {
    await admin.end();
  }
});
