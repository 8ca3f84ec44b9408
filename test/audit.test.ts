import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
const secrets: string[] = ['secret', 'wrong-password-here', 'a-long-admin-password', 'brand-new-long-password'];

before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
});
after(() => t.close());

const events = (name: string) => t.logs.filter((line) => line.audit === name);
/** What the audit trail records for a name that is no user's: 16 hex characters of its SHA-256. */
const fingerprint = (username: string) => createHash('sha256').update(username).digest('hex').slice(0, 16);

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
      'login.throttled': { user_fingerprint: fingerprint('victim'), client: 'gatehouse' },
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
    assert.ok(events('login.failure').some((l) => l.user_fingerprint === fingerprint('ghost') && l.reason === 'unknown_user'));

    // A name that is no user's is never logged, only its fingerprint; a user's name always is.
    for (const line of t.logs.filter((l) => typeof l.audit === 'string' && String(l.audit).startsWith('login.'))) {
      assert.equal('user' in line && 'user_fingerprint' in line, false, JSON.stringify(line));
      if ('user_fingerprint' in line) assert.match(String(line.user_fingerprint), /^[0-9a-f]{16}$/);
    }
    assert.equal(t.logText().includes('ghost'), false);
    assert.equal(t.logText().includes('victim'), false);

    const text = t.logText();
    for (const secret of secrets) assert.equal(text.includes(secret), false, `the logs contain a secret (${secret.slice(0, 8)}...)`);
    assert.equal(text.includes('$argon2'), false, 'the logs contain a password hash');
  });

  test('a password typed as the username is logged only as a short fingerprint (was logged verbatim, unbounded)', async () => {
    const typedPassword = 'MyS3cretPassw0rd!';
    const long = `${'p'.repeat(10_000)}-end`;
    for (const username of [typedPassword, typedPassword, long]) {
      assert.equal((await postToken(t.app, { username, password: 'whatever-was-typed' })).statusCode, 400);
    }
    const failures = events('login.failure').filter((l) => l.reason === 'unknown_user');
    const ofTyped = failures.filter((l) => l.user_fingerprint === fingerprint(typedPassword));
    assert.equal(ofTyped.length, 2, 'repeated attempts at one name share a fingerprint');
    assert.ok(failures.some((l) => l.user_fingerprint === fingerprint(long)));
    const text = t.logText();
    assert.equal(text.includes(typedPassword), false, 'the typed password is in the logs');
    assert.equal(text.includes('p'.repeat(100)), false, 'the long name is in the logs');
    for (const line of failures) assert.equal(line.user, undefined);
  });
});
