import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'frank', password: 'frank-first-password', scopes: ['me', 'items'] });
});
after(() => t.close());

function changePassword(token: string, payload?: object) {
  return t.app.inject({
    method: 'PUT',
    url: '/users/me/password',
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });
}
const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });

describe('PUT /users/me/password', () => {
  test('a wrong current password is 400 "Incorrect password" and changes nothing', async () => {
    const token = await login(t.app, 'frank', 'frank-first-password');
    const response = await changePassword(token, { current_password: 'not-the-password', new_password: 'frank-second-password' });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { detail: 'Incorrect password' });
    await login(t.app, 'frank', 'frank-first-password');
    assert.equal((await me(token)).statusCode, 200);
  });

  test('a new password breaking the policy is 422 naming the rule', async () => {
    const token = await login(t.app, 'frank', 'frank-first-password');
    for (const [newPassword, rule] of [
      ['short', 'password must be at least 12 characters'],
      ['x'.repeat(129), 'password must be at most 128 characters'],
    ] as const) {
      const response = await changePassword(token, { current_password: 'frank-first-password', new_password: newPassword });
      assert.equal(response.statusCode, 422);
      assert.deepEqual(response.json(), { detail: rule });
    }
    await login(t.app, 'frank', 'frank-first-password');
  });

  test('a commonly breached password, or the username in any case, is 422 and changes nothing', async () => {
    const token = await login(t.app, 'frank', 'frank-first-password');
    const breached = await changePassword(token, { current_password: 'frank-first-password', new_password: '1QAZ2WSX3EDC' });
    assert.equal(breached.statusCode, 422);
    assert.deepEqual(breached.json(), { detail: 'password is too common: it appears in lists of breached passwords' });
    await t.services.users.create({ username: 'Nobby.Nobbs1', password: 'nobby-first-password', scopes: ['me'] });
    const nobby = await login(t.app, 'Nobby.Nobbs1', 'nobby-first-password');
    const response = await changePassword(nobby, { current_password: 'nobby-first-password', new_password: 'NOBBY.NOBBS1' });
    assert.equal(response.statusCode, 422);
    assert.deepEqual(response.json(), { detail: 'password must not equal the username' });
    await login(t.app, 'frank', 'frank-first-password');
    await login(t.app, 'Nobby.Nobbs1', 'nobby-first-password');
  });

  test('a body missing a field or not an object is 422 with the validator message', async () => {
    const token = await login(t.app, 'frank', 'frank-first-password');
    const missing = await changePassword(token, { current_password: 'frank-first-password' });
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(missing.json(), { detail: "body must have required property 'new_password'" });
    const none = await changePassword(token);
    assert.equal(none.statusCode, 422);
    assert.deepEqual(none.json(), { detail: 'body must be object' });
  });

  test('success is 204: the new password logs in, the old one fails, this session lives, the others end', async () => {
    const current = await login(t.app, 'frank', 'frank-first-password');
    const other = await login(t.app, 'frank', 'frank-first-password');
    const otherRefresh = (await postToken(t.app, { username: 'frank', password: 'frank-first-password' })).json().refresh_token as string;

    const response = await changePassword(current, { current_password: 'frank-first-password', new_password: 'frank-second-password' });
    assert.equal(response.statusCode, 204);
    assert.equal(response.body, '');

    assert.equal((await me(current)).statusCode, 200);
    const ended = await me(other);
    assert.equal(ended.statusCode, 401);
    assert.deepEqual(ended.json(), { detail: 'Could not validate credentials' });
    const refreshed = await postToken(t.app, { grant_type: 'refresh_token', refresh_token: otherRefresh });
    assert.equal(refreshed.statusCode, 400);
    assert.equal(refreshed.json().error, 'invalid_grant');

    const old = await postToken(t.app, { username: 'frank', password: 'frank-first-password' });
    assert.equal(old.statusCode, 400);
    assert.equal(old.json().error_description, 'Incorrect username or password');
    await login(t.app, 'frank', 'frank-second-password');
  });

  test('without a token 401; a token without the me scope 403 naming me', async () => {
    const anonymous = await t.app.inject({
      method: 'PUT',
      url: '/users/me/password',
      payload: { current_password: 'frank-second-password', new_password: 'frank-third-password' },
    });
    assert.equal(anonymous.statusCode, 401);
    assert.deepEqual(anonymous.json(), { detail: 'Not authenticated' });

    const itemsOnly = await login(t.app, 'frank', 'frank-second-password', 'items');
    const response = await changePassword(itemsOnly, { current_password: 'frank-second-password', new_password: 'frank-third-password' });
    assert.equal(response.statusCode, 403);
    assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="me"');
    await login(t.app, 'frank', 'frank-second-password');
  });

  test('/openapi.json documents the route with its me security requirement', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = doc.paths['/users/me/password'].put;
    assert.deepEqual(operation.security, [{ OAuth2PasswordBearer: ['me'] }]);
    assert.deepEqual(Object.keys(operation.requestBody.content['application/json'].schema.properties).sort(), ['current_password', 'new_password']);
    assert.ok(operation.responses['204'] && operation.responses['400'] && operation.responses['422']);
  });
});

describe('PUT /users/me/password is no password oracle', () => {
  test('wrong current passwords count against the account like failed logins: after five it waits, even for the right one', async () => {
    const app = await createTestApp();
    try {
      await app.services.users.create({ username: 'gina', password: 'gina-first-password', scopes: ['me'] });
      const token = await login(app.app, 'gina', 'gina-first-password');
      const put = (current: string) =>
        app.app.inject({
          method: 'PUT',
          url: '/users/me/password',
          headers: { authorization: `Bearer ${token}` },
          payload: { current_password: current, new_password: 'gina-second-password' },
        });
      for (let i = 0; i < 5; i++) assert.deepEqual((await put(`guess-number-${i}`)).json(), { detail: 'Incorrect password' });
      const throttled = await put('gina-first-password');
      assert.equal(throttled.statusCode, 400);
      assert.deepEqual(throttled.json(), { detail: 'Incorrect password' });
      // The same account throttle guards /token.
      assert.equal((await postToken(app.app, { username: 'gina', password: 'gina-first-password' })).statusCode, 400);
      app.clock.advance(1_000);
      assert.equal((await put('gina-first-password')).statusCode, 204);
    } finally {
      await app.close();
    }
  });

  test('wrong current passwords count against the client address: past the limit, 429', async () => {
    const app = await createTestApp({ env: { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '3' } });
    try {
      const token = await login(app.app);
      const put = () =>
        app.app.inject({
          method: 'PUT',
          url: '/users/me/password',
          headers: { authorization: `Bearer ${token}` },
          payload: { current_password: 'not-the-password', new_password: 'johndoe-new-password' },
        });
      for (let i = 0; i < 3; i++) assert.equal((await put()).statusCode, 400);
      const limited = await put();
      assert.equal(limited.statusCode, 429);
      assert.ok(Number(limited.headers['retry-after']) > 0);
    } finally {
      await app.close();
    }
  });
});
