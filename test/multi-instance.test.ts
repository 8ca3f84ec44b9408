import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createAuthServices } from '../src/auth/auth-services.js';
import { systemClock } from '../src/auth/clock.js';
import { seedDemoUsers } from '../src/auth/demo-users.js';
import { loadConfig } from '../src/config.js';
import { migrationProvider } from '../src/store/migrations.js';
import { openStore } from '../src/store/open-store.js';
import { createTestSchema, type TestSchema } from './helpers/postgres.js';
import { spawnServer, type RunningServer } from './helpers/spawn-server.js';

const ISSUER = 'http://gatehouse.test';
let schema: TestSchema | undefined;
let unavailable: string | undefined;
let a: RunningServer;
let b: RunningServer;

const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
const login = async (server: RunningServer, username = 'johndoe', password = 'secret', scope?: string) => {
  const response = await form(`${server.url}/token`, { username, password, ...(scope ? { scope } : {}) });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { access_token: string; refresh_token: string };
};
const me = (server: RunningServer, token: string) => fetch(`${server.url}/users/me`, { headers: { authorization: `Bearer ${token}` } });

/** Polls until `check` holds, for at most `ms`: effects must reach the other instance within a second. */
async function within(ms: number, check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function seed(url: string) {
  const config = loadConfig({ DATABASE_URL: url, GATEHOUSE_ISSUER: ISSUER });
  const store = await openStore(url, { migrate: true });
  const services = await createAuthServices(config, store, systemClock);
  await seedDemoUsers(services.users);
  await services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  await services.users.create({ username: 'carla', password: 'carla-long-password', scopes: ['me'] });
  await services.users.create({ username: 'dora', password: 'dora-long-password', scopes: ['me'] });
  await store.close();
}

describe('two instances on one PostgreSQL', () => {
  before(async () => {
    const created = await createTestSchema();
    if ('unavailable' in created) {
      unavailable = created.unavailable;
      return;
    }
    schema = created;
    await seed(schema.url);
    const env = { DATABASE_URL: schema.url, GATEHOUSE_ISSUER: ISSUER, GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '100000' };
    [a, b] = await Promise.all([spawnServer([], env), spawnServer([], env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await schema?.drop();
  });

  test('a token issued by one instance is accepted by the other', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const { access_token } = await login(a);
    const response = await me(b, access_token);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { username: string }).username, 'johndoe');
  });

  test('revocation and logout on one instance take effect on the other within a second', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const revoked = await login(a);
    assert.equal((await me(b, revoked.access_token)).status, 200);
    assert.equal((await form(`${a.url}/revoke`, { token: revoked.refresh_token })).status, 200);
    await within(1000, async () => (await me(b, revoked.access_token)).status === 401, 'revocation');

    const loggedOut = await login(b);
    assert.equal((await me(a, loggedOut.access_token)).status, 200);
    await fetch(`${b.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${loggedOut.access_token}` } });
    await within(1000, async () => (await me(a, loggedOut.access_token)).status === 401, 'logout');
  });

  test('disabling a user and changing a password on one instance take effect on the other within a second', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const admin = await login(a, 'root', 'a-long-admin-password', 'admin');
    const carla = await login(b, 'carla', 'carla-long-password');
    const adminCall = (path: string) => fetch(`${a.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin.access_token}` } });
    assert.equal((await adminCall('/admin/users/carla/disable')).status, 200);
    await within(1000, async () => (await me(b, carla.access_token)).status === 400, 'disable');
    assert.equal((await adminCall('/admin/users/carla/enable')).status, 200);
    await within(1000, async () => (await me(b, carla.access_token)).status === 200, 'enable');

    const other = await login(a, 'carla', 'carla-long-password');
    const change = await fetch(`${b.url}/users/me/password`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${carla.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ current_password: 'carla-long-password', new_password: 'carla-new-long-password' }),
    });
    assert.equal(change.status, 204);
    await within(1000, async () => (await me(a, other.access_token)).status === 401, 'password change');
  });

  test('of concurrent refreshes with one token across both instances exactly one succeeds', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const { refresh_token } = await login(a);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => form(`${(i % 2 ? a : b).url}/token`, { grant_type: 'refresh_token', refresh_token })),
    );
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
  });

  test('failed logins on both instances count toward one account throttle', async (t) => {
    if (unavailable) return t.skip(unavailable);
    for (let i = 0; i < 5; i++) await form(`${(i % 2 ? a : b).url}/token`, { username: 'johndoe', password: 'wrong' });
    for (const server of [a, b]) {
      const response = await form(`${server.url}/token`, { username: 'johndoe', password: 'secret' });
      assert.equal(response.status, 400, 'throttled on both');
    }
  });

  test('a concurrent burst at one account across both instances gets at most 5 attempts past the throttle', async (t) => {
    if (unavailable) return t.skip(unavailable);
    // As many as each instance's queue for the account holds (one checked, 16 waiting), so none is
    // refused as busy: within an instance attempts take turns, across the two they race.
    const right = 17;
    const answers = await Promise.all(
      Array.from({ length: 34 }, (_, i) => form(`${(i % 2 ? a : b).url}/token`, { username: 'dora', password: i === right ? 'dora-long-password' : `wrong-${i}` })),
    );
    const store = await openStore(schema!.url);
    try {
      const counts = await store.findLoginFailures(createHash('sha256').update('dora').digest('base64url'));
      const succeeded = answers[right]!.status === 200;
      // Counted failures, plus the right password if it got through (its count was taken back).
      assert.ok(counts!.windowFailures + (succeeded ? 1 : 0) <= 5, `${counts!.windowFailures} failures counted`);
      assert.deepEqual(answers.filter((r, i) => i !== right && r.status !== 400), []);
    } finally {
      await store.close();
    }
  });

  test('readiness reports the database; liveness only the process', async (t) => {
    if (unavailable) return t.skip(unavailable);
    assert.deepEqual(await (await fetch(`${a.url}/readyz`)).json(), { status: 'ready' });
    assert.deepEqual(await (await fetch(`${a.url}/healthz`)).json(), { status: 'ok' });
  });
});

/** A TCP relay to PostgreSQL that the test can cut and restore, to lose the database for real. */
class CuttableRelay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(readonly port: number) {}
  async open(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
  }
  async cut(): Promise<void> {
    // close() waits for open connections to end, so they are destroyed first.
    const closed = new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}

describe('losing the database', () => {
  test('requests get 503 at once, never hang or crash the process, and the instance recovers by itself', async (t) => {
    const created = await createTestSchema();
    if ('unavailable' in created) return t.skip(created.unavailable);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const relay = new CuttableRelay(port);
    await relay.open();
    const viaRelay = created.url.replace('127.0.0.1:5432', `127.0.0.1:${port}`);
    await seed(created.url);
    const server = await spawnServer([], { DATABASE_URL: viaRelay, GATEHOUSE_ISSUER: ISSUER });
    try {
      const { access_token } = await login(server);
      await relay.cut();
      for (const request of [() => me(server, access_token), () => form(`${server.url}/token`, { username: 'johndoe', password: 'secret' })]) {
        const started = Date.now();
        const response = await request();
        assert.equal(response.status, 503, await response.clone().text());
        assert.equal(response.headers.get('retry-after'), '1');
        assert.ok(Date.now() - started < 5_000, 'answered promptly');
      }
      assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.equal(server.process.exitCode, null, 'the process is still running');

      await relay.open();
      await within(10_000, async () => (await me(server, access_token)).status === 200, 'recovery');
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    } finally {
      await server.stop();
      await relay.cut().catch(() => {});
      await created.drop();
    }
  });

  test('serve refuses an unmigrated database, and gatehouse migrate fixes it', async (t) => {
    const created = await createTestSchema();
    if ('unavailable' in created) return t.skip(created.unavailable);
    try {
      await assert.rejects(spawnServer([], { DATABASE_URL: created.url }), /not migrated.*gatehouse migrate/);
      const { execFileSync } = await import('node:child_process');
      const migrate = () =>
        execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
          env: { PATH: process.env.PATH ?? '', DATABASE_URL: created.url },
          encoding: 'utf8',
        });
      const names = Object.keys(await migrationProvider.getMigrations());
      assert.equal(migrate(), names.map((name) => `applied ${name}\n`).join(''));
      assert.equal(migrate(), 'database schema already up to date\n');
      const server = await spawnServer([], { DATABASE_URL: created.url });
      await server.stop();
    } finally {
      await created.drop();
    }
  });
});
