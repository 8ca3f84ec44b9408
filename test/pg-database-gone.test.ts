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

test('a PostgreSQL database that stops accepting connections fails reads as an outage, and serves again once reopened', async (t) => {
  const probe = await createTestSchema();
  if ('unavailable' in probe) return t.skip(probe.unavailable);
  await probe.drop();
  const name = `gatehouse_closed_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const store = await openStore(url.toString(), { migrate: true });
    try {
      assert.equal(await store.findUserByUsername('nobody'), undefined);
      await admin.query(`alter database ${name} allow_connections false`);
      // Terminating the store's connection sometimes resets its socket while a connection is checked
      // out: a regression test for the 'error' event with no listener that ended the process.
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [name]);
      // The first read may still meet the pool's terminated connection (57P01) before a new one is
      // refused: every error must be an outage, and a new connection must be refused with 55000.
      const codes: string[] = [];
      for (let i = 0; i < 3 && !codes.includes('55000'); i++) {
        await assert.rejects(store.findUserByUsername('nobody'), (err: unknown) => {
          codes.push(String((err as { code?: string }).code));
          return isStoreUnavailable(err);
        });
      }
      assert.ok(codes.includes('55000'), codes.join(' '));
      await admin.query(`alter database ${name} allow_connections true`);
      assert.equal(await store.findUserByUsername('nobody'), undefined);
    } finally {
      await store.close().catch(() => undefined);
      await admin.query(`alter database ${name} allow_connections true`).catch(() => undefined);
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [name]);
      await admin.query(`drop database if exists ${name}`);
    }
  } finally {
    await admin.end();
  }
});
