import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FREE_FAILURES } from '../src/auth/login-throttle.js';
import { migrateDatabase } from '../src/store/open-store.js';
import { createTestSchema, type TestSchema } from './helpers/postgres.js';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

/**
 * U+0000 in whatever names a user or a client, on every backend. PostgreSQL's text cannot hold it,
 * and binding one in a query failed with SQLSTATE 22021: an unauthenticated 500 with a stack trace
 * in the log, where SQLite answered like any unknown name. Every answer must be SQLite's.
 */
const BACKENDS: { name: string; env(): Promise<Record<string, string> | { unavailable: string }>; dispose?(): Promise<void> }[] = [
  { name: 'SQLite', env: async () => ({}) },
  (() => {
    let schema: TestSchema | undefined;
    return {
      name: 'PostgreSQL',
      async env() {
        const created = await createTestSchema();
        if ('unavailable' in created) return created;
        schema = created;
        await migrateDatabase(schema.url);
        return { DATABASE_URL: schema.url };
      },
      dispose: async () => schema?.drop(),
    };
  })(),
];
const only = process.env.GATEHOUSE_TEST_BACKEND;

const form = (t: TestApp, url: string, payload: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function assertOAuthError(response: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, error: string, what: string) {
  assert.equal(response.statusCode, status, `${what}: ${JSON.stringify(response.json())}`);
  assert.equal(response.json().error, error, what);
  if (error === 'invalid_client') assert.equal(response.headers['www-authenticate'], 'Basic realm="gatehouse"', what);
}

for (const backend of BACKENDS.filter((b) => only === undefined || b.name.toLowerCase().includes(only.toLowerCase()))) {
  describe(`U+0000 in names: ${backend.name}`, () => {
    let t: TestApp;
    let admin: string;
    let skipped: string | undefined;
    before(async () => {
      const env = await backend.env();
      if ('unavailable' in env) {
        skipped = env.unavailable;
        return;
      }
      t = await createTestApp({ env });
      await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
      admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
    });
    after(async () => {
      if (skipped) return;
      // Whatever a test asserted, nothing may have been an unhandled error.
      assert.deepEqual(t.logs.filter((line) => line.msg === 'unhandled error'), []);
      await t.close();
      await backend.dispose?.();
    });

    test('a username with U+0000 at /token is the unknown user\'s answer, counted by the throttle like any name', async (ctx) => {
      if (skipped) return ctx.skip(skipped);
      const unknown = await form(t, '/token', 'username=nobody&password=x');
      for (const payload of ['username=a%00b&password=x', 'username=johndoe%00&password=secret', 'username=%00&password=x']) {
        const response = await form(t, '/token', payload);
        assertOAuthError(response, 400, 'invalid_grant', payload);
        assert.deepEqual(response.json(), unknown.json(), payload);
      }
      const failures = t.logs.filter((line) => line.audit === 'login.failure' && line.reason === 'unknown_user');
      assert.equal(failures.length, 4, 'each went through the unknown user\'s steps');
      for (let i = 1; i < FREE_FAILURES; i++) await form(t, '/token', 'username=a%00b&password=x');
      assert.ok((await t.services.throttle.waitFor('a\0b', t.clock.now())) > 0, 'the throttle counts the name as it counts any other');
    });

    test('a client id with U+0000 is invalid_client at /token, /revoke and /introspect, by form or Basic', async (ctx) => {
      if (skipped) return ctx.skip(skipped);
      const cases = [
        ['/token', 'username=johndoe&password=secret&client_id=a%00b', {}],
        ['/token', 'username=johndoe&password=secret&client_id=a%00b&client_secret=zz', {}],
        ['/token', 'username=johndoe&password=secret', { authorization: basic('a\0b', 'zz') }],
        ['/token', 'username=johndoe&password=secret', { authorization: basic('a%00b', 'zz') }],
        ['/revoke', 'token=abc&client_id=x%00', {}],
        ['/revoke', 'token=abc', { authorization: basic('a\0b', 'zz') }],
        ['/introspect', 'token=abc', { authorization: basic('a\0b', 'zz') }],
        ['/introspect', 'token=abc&client_id=x%00&client_secret=zz', {}],
      ] as const;
      for (const [url, payload, headers] of cases) {
        assertOAuthError(await form(t, url, payload, headers), 401, 'invalid_client', `${url} ${payload} ${JSON.stringify(headers)}`);
      }
    });

    test('an admin path naming a user with U+0000 is 404, like any unknown user', async (ctx) => {
      if (skipped) return ctx.skip(skipped);
      const authorization = `Bearer ${admin}`;
      for (const [method, url, payload] of [
        ['GET', '/admin/users/a%00b', undefined],
        ['GET', '/admin/users/johndoe%00', undefined],
        ['POST', '/admin/users/a%00b/disable', undefined],
        ['POST', '/admin/users/a%00b/enable', undefined],
        ['PUT', '/admin/users/a%00b/scopes', { scopes: ['me'] }],
        ['PUT', '/admin/users/a%00b/password', { password: 'a-long-enough-password' }],
      ] as const) {
        const response = await t.app.inject({ method, url, headers: { authorization }, ...(payload ? { payload } : {}) });
        assert.equal(response.statusCode, 404, `${method} ${url}: ${response.body}`);
        assert.deepEqual(response.json(), { detail: 'User not found' });
      }
      assert.equal((await t.services.users.get('johndoe')).disabled, false);
    });

    test('an admin body with U+0000 in full_name or email is 422 naming the rule', async (ctx) => {
      if (skipped) return ctx.skip(skipped);
      for (const [field, value, rule] of [
        ['full_name', 'a\u0000b', 'full name must not contain control characters'],
        ['email', 'a\u0000@b', 'email must not contain control characters'],
        ['username', 'a\u0000b', undefined],
      ] as const) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/admin/users',
          headers: { authorization: `Bearer ${admin}` },
          payload: { username: field === 'username' ? value : 'nul', password: 'a-long-enough-password', [field]: value },
        });
        assert.equal(response.statusCode, 422, `${field}: ${response.body}`);
        if (rule !== undefined) assert.deepEqual(response.json(), { detail: rule });
      }
      assert.equal(await t.services.users.find('nul'), undefined);
    });
  });
}
