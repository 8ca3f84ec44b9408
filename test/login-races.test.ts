import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

/**
 * A login checks the password for tens of milliseconds before it stores its session; a refresh
 * reads its session before it rotates. A password reset, disable or client removal landing in
 * between must win: no session or token may outlive a change it never saw.
 */

/** An app with an admin, whose token the change in flight is made with. */
async function appWithAdmin(): Promise<{ t: TestApp; admin: string }> {
  const t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  return { t, admin: await login(t.app, 'root', 'a-long-admin-password', 'admin') };
}

const adminCall = (t: TestApp, admin: string, method: 'POST' | 'PUT', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload }) });

/** Runs `change` once, right after the next password check and before the login goes on. */
function duringNextPasswordCheck(t: TestApp, change: () => Promise<unknown>): void {
  const hasher = t.services.hasher;
  const verify = hasher.verify.bind(hasher);
  hasher.verify = async (storedHash, password) => {
    hasher.verify = verify;
    const result = await verify(storedHash, password);
    await change();
    return result;
  };
}

/** Live sessions of `username` (of `clientId`, when given), read straight from the database file. */
function liveSessions(t: TestApp, username: string, clientId?: string): number {
  const db = new Database(t.config.databaseUrl, { readonly: true });
  try {
    const row = db
      .prepare(
        `select count(*) as n from sessions s join users u on u.id = s.user_id
         where u.username = ? and s.revoked_at is null and (? is null or s.client_id = ?)`,
      )
      .get(username, clientId ?? null, clientId ?? null) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

function assertRefused(response: { statusCode: number; json(): unknown }, description: string) {
  assert.equal(response.statusCode, 400);
  assert.deepEqual(response.json(), { error: 'invalid_grant', error_description: description, detail: description });
}

describe('a change that lands while a login or refresh is in flight wins', () => {
  test('a password reset during the password check: the login gets invalid_grant and no session survives', async () => {
    const { t, admin } = await appWithAdmin();
    try {
      let reset = 0;
      duringNextPasswordCheck(t, async () => {
        reset = (await adminCall(t, admin, 'PUT', '/admin/users/johndoe/password', { password: 'a-brand-new-password' })).statusCode;
      });
      assertRefused(await postToken(t.app, { username: 'johndoe', password: 'secret' }), 'Incorrect username or password');
      assert.equal(reset, 204);
      assert.equal(liveSessions(t, 'johndoe'), 0);
      assert.ok(t.logs.some((l) => l.audit === 'login.failure' && l.user === 'johndoe' && l.reason === 'password_changed'));
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'a-brand-new-password' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('a disable during the password check: the login gets "Inactive user" and no session', async () => {
    const { t, admin } = await appWithAdmin();
    try {
      duringNextPasswordCheck(t, () => adminCall(t, admin, 'POST', '/admin/users/johndoe/disable'));
      assertRefused(await postToken(t.app, { username: 'johndoe', password: 'secret' }), 'Inactive user');
      assert.equal(liveSessions(t, 'johndoe'), 0);
    } finally {
      await t.close();
    }
  });

  test('a client removal during the password check: the login gets invalid_grant and no session of the client', async () => {
    const { t } = await appWithAdmin();
    try {
      await t.services.clientAdmin.create({ id: 'mobile', confidential: false });
      duringNextPasswordCheck(t, () => t.services.clientAdmin.remove('mobile'));
      assertRefused(await postToken(t.app, { username: 'johndoe', password: 'secret', client_id: 'mobile' }), 'Incorrect username or password');
      assert.equal(liveSessions(t, 'johndoe', 'mobile'), 0);
    } finally {
      await t.close();
    }
  });

  test('an admin reset during the check of a password change: the change gets 400 and the reset stands', async () => {
    const { t, admin } = await appWithAdmin();
    try {
      const token = await login(t.app, 'johndoe', 'secret');
      duringNextPasswordCheck(t, () => adminCall(t, admin, 'PUT', '/admin/users/johndoe/password', { password: 'the-admins-new-password' }));
      const change = await t.app.inject({
        method: 'PUT',
        url: '/users/me/password',
        headers: { authorization: `Bearer ${token}` },
        payload: { current_password: 'secret', new_password: 'a-password-of-my-own' },
      });
      assert.equal(change.statusCode, 400);
      assert.deepEqual(change.json(), { detail: 'Incorrect password' });
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'a-password-of-my-own' })).statusCode, 400);
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'the-admins-new-password' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('a password reset while a refresh is in flight: the refresh gets invalid_grant and issues nothing', async () => {
    const { t, admin } = await appWithAdmin();
    try {
      const { refresh_token } = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json() as { refresh_token: string };
      // The refresh has read its session, live, and not yet rotated its token when the reset lands.
      const store = t.services.store;
      const findRefreshToken = store.findRefreshToken.bind(store);
      store.findRefreshToken = async (tokenHash) => {
        store.findRefreshToken = findRefreshToken;
        const found = await findRefreshToken(tokenHash);
        await adminCall(t, admin, 'PUT', '/admin/users/johndoe/password', { password: 'a-brand-new-password' });
        return found;
      };
      assertRefused(await postToken(t.app, { grant_type: 'refresh_token', refresh_token }), 'The refresh token is invalid or expired');
      assert.equal(liveSessions(t, 'johndoe'), 0);
    } finally {
      await t.close();
    }
  });
});
