import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
const secrets: string[] = ['secret', 'wrong-password-here', 'a-long-admin-password', 'brand-new-long-password'];

before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
});
after(() => t.close());

const events = (name: string) => t.logs.filter((line) => line.audit === name);

describe('audit trail', () => {
  test('every auth event is one structured line with user, client, IP and request id, and no secret anywhere', async () => {
    const login = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json();
    secrets.push(login.access_token, login.refresh_token);
    await postToken(t.app, { username: 'johndoe', password: 'wrong-password-here' });
    await postToken(t.app, { username: 'ghost', password: 'wrong-password-here' });
    for (let i = 0; i < 6; i++) await postToken(t.app, { username: 'victim', password: 'wrong-password-here' });

    const refreshed = (await postToken(t.app, { grant_type: 'refresh_token', refresh_token: login.refresh_token })).json();
    secrets.push(refreshed.access_token, refreshed.refresh_token);
    await postToken(t.app, { grant_type: 'refresh_token', refresh_token: login.refresh_token });

    const second = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json();
    secrets.push(second.access_token, second.refresh_token);
    await t.app.inject({
      method: 'POST',
      url: '/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${second.refresh_token}`,
    });
    const third = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json();
    secrets.push(third.access_token, third.refresh_token);
    await t.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${third.access_token}` } });

    const admin = (await postToken(t.app, { username: 'root', password: 'a-long-admin-password', scope: 'admin me' })).json();
    secrets.push(admin.access_token, admin.refresh_token);
    const asAdmin = { authorization: `Bearer ${admin.access_token}` };
    await t.app.inject({ method: 'POST', url: '/admin/users/johndoe/disable', headers: asAdmin });
    await t.app.inject({ method: 'POST', url: '/admin/users/johndoe/enable', headers: asAdmin });
    await t.app.inject({
      method: 'PUT',
      url: '/users/me/password',
      headers: asAdmin,
      payload: { current_password: 'a-long-admin-password', new_password: 'brand-new-long-password' },
    });

    const expected = {
      'login.success': { user: 'johndoe', client: 'gatehouse' },
      'login.failure': { user: 'johndoe', client: 'gatehouse', reason: 'wrong_password' },
      'login.throttled': { user: 'victim', client: 'gatehouse' },
      'token.refresh': { user: 'johndoe', client: 'gatehouse' },
      'refresh.reuse_detected': { user: 'johndoe', client: 'gatehouse' },
      'token.revoke': { user: 'johndoe', client: 'gatehouse' },
      logout: { user: 'johndoe', client: 'gatehouse' },
      'user.disable': { user: 'johndoe' },
      'user.enable': { user: 'johndoe' },
      'password.change': { user: 'root' },
    } as const;
    for (const [name, fields] of Object.entries(expected)) {
      const [line] = events(name);
      assert.ok(line, `an audit line for ${name}`);
      for (const [key, value] of Object.entries(fields)) assert.equal(line[key], value, `${name}.${key}`);
      assert.equal(line.ip, '127.0.0.1', `${name} has the client IP`);
      assert.equal(typeof line.reqId, 'string', `${name} has the request id`);
    }
    assert.ok(events('login.failure').some((l) => l.user === 'ghost' && l.reason === 'unknown_user'));

    const text = t.logText();
    for (const secret of secrets) assert.equal(text.includes(secret), false, `the logs contain a secret (${secret.slice(0, 8)}...)`);
    assert.equal(text.includes('$argon2'), false, 'the logs contain a password hash');
  });
});
