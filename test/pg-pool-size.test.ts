import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createAuthServices } from '../src/auth/auth-services.js';
import { systemClock } from '../src/auth/clock.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/open-store.js';
import { POSTGRES_URL, createTestSchema, type TestSchema } from './helpers/postgres.js';
import { spawnServer, type RunningServer } from './helpers/spawn-server.js';

const ISSUER = 'http://gatehouse.test';
let schema: TestSchema | undefined;
let unavailable: string | undefined;

/** The schema's URL with an application_name of its own, so pg_stat_activity tells this server's connections apart. */
const tagged = (url: string, name: string) => `${url}&application_name=${name}`;

/** Connections PostgreSQL holds open for `applicationName` right now. */
async function connectionsOf(applicationName: string): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('select count(*) as n from pg_stat_activity where application_name = $1', [applicationName]);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Starts a server with GATEHOUSE_PG_POOL_SIZE=`size`, sends it `concurrency` requests at once, and counts its connections. */
async function connectionsUnderLoad(size: number, concurrency: number): Promise<number> {
  const applicationName = `gatehouse_pool_${randomBytes(4).toString('hex')}`;
  let server: RunningServer | undefined;
  try {
    server = await spawnServer([], {
      DATABASE_URL: tagged(schema!.url, applicationName),
      GATEHOUSE_ISSUER: ISSUER,
      GATEHOUSE_PG_POOL_SIZE: String(size),
    });
    const login = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ username: 'dana', password: 'dana-long-password' }) });
    assert.equal(login.status, 200, await login.clone().text());
    const { access_token } = (await login.json()) as { access_token: string };
    // Every /users/me reads its session from the database, so each one wants a connection.
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: concurrency }, () => fetch(`${server!.url}/users/me`, { headers: { authorization: `Bearer ${access_token}` } })),
      );
      assert.deepEqual([...new Set(answers.map((r) => r.status))], [200], 'every request is served, waiting for a connection if it must');
    }
    // Idle connections stay in the pool for 30 s, so the count now is the most the load opened.
    return await connectionsOf(applicationName);
  } finally {
    await server?.stop();
  }
}

describe('GATEHOUSE_PG_POOL_SIZE', () => {
  before(async () => {
    const created = await createTestSchema();
    if ('unavailable' in created) {
      unavailable = created.unavailable;
      return;
    }
    schema = created;
    const config = loadConfig({ DATABASE_URL: schema.url, GATEHOUSE_ISSUER: ISSUER });
    const store = await openStore(schema.url, { migrate: true });
    const services = await createAuthServices(config, store, systemClock);
    await services.users.create({ username: 'dana', password: 'dana-long-password', scopes: ['me'] });
    await store.close();
  });
  after(async () => {
    await schema?.drop();
  });

  test('bounds the connections one instance opens under concurrent load', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const [bounded, wider] = await Promise.all([connectionsUnderLoad(2, 60), connectionsUnderLoad(6, 60)]);
    t.diagnostic(`connections opened: ${bounded} with pool size 2, ${wider} with 6`);
    assert.ok(bounded >= 1 && bounded <= 2, `pool size 2 opened ${bounded} connections`);
    // The same load opens more when allowed to: the bound above is what held it, not a light load.
    assert.ok(wider > 2 && wider <= 6, `pool size 6 opened ${wider} connections`);
  });
});
