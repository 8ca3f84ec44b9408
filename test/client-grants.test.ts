import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const me = (t: TestApp, token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });

/** An app whose database and life end with the test. */
async function appFor(t: TestContext, env: Record<string, string> = {}): Promise<TestApp> {
  const app = await createTestApp({ env });
  t.after(() => app.close());
  return app;
}

/** Registers a confidential client through the real client service; returns its Basic header. */
async function register(app: TestApp, id: string, grantTypes: string[]): Promise<string> {
  const { secret } = await app.services.clientAdmin.create({ id, confidential: true, grantTypes });
  return basic(id, secret!);
}

// RFC 6749 §5.2: "The authenticated client is not authorized to use this authorization grant type."
function assertUnauthorizedClient(response: Awaited<ReturnType<typeof postToken>>, grantType: string) {
  assert.equal(response.statusCode, 400, response.body);
  assert.equal(response.json().error, 'unauthorized_client');
  assert.equal(response.json().error_description, `This client may not use the ${grantType} grant`);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal('access_token' in response.json(), false);
}

describe('GATEHOUSE_PASSWORD_GRANT', () => {
  test('off: no client may use the password grant, whatever the password', async (t) => {
    const off = await appFor(t, { GATEHOUSE_PASSWORD_GRANT: 'off' });
    const svc = await register(off, 'svc', ['password', 'refresh_token']);
    for (const headers of <Record<string, string>[]>[{}, { authorization: svc }]) {
      assertUnauthorizedClient(await postToken(off.app, { username: 'johndoe', password: 'secret' }, headers), 'password');
      // Refused before the password is looked at, so the answer says nothing about it.
      assertUnauthorizedClient(await postToken(off.app, { username: 'johndoe', password: 'wrong' }, headers), 'password');
    }
  });

  test('off: the RFC 8414 metadata no longer lists the password grant; limited to some clients, it still does', async (t) => {
    const metadata = async (policy: string) => {
      const app = await appFor(t, { GATEHOUSE_PASSWORD_GRANT: policy });
      return (await app.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json().grant_types_supported;
    };
    assert.deepEqual(await metadata('off'), ['refresh_token']);
    assert.deepEqual(await metadata('svc'), ['password', 'refresh_token']);
  });

  test('off: sessions opened before still refresh', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-grants-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const database = { DATABASE_URL: join(dir, 'gatehouse.db') };
    const before = await appFor(t, database);
    const { refresh_token } = (await postToken(before.app, { username: 'johndoe', password: 'secret' })).json();
    const off = await appFor(t, { ...database, GATEHOUSE_PASSWORD_GRANT: 'off' });
    assertUnauthorizedClient(await postToken(off.app, { username: 'johndoe', password: 'secret' }), 'password');
    const refreshed = await postToken(off.app, { grant_type: 'refresh_token', refresh_token });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.equal((await me(off, refreshed.json().access_token)).statusCode, 200);
  });

  test('a list: only the listed clients may use the password grant, not the built-in one', async (t) => {
    const listed = await appFor(t, { GATEHOUSE_PASSWORD_GRANT: 'svc, cli' });
    const svc = await register(listed, 'svc', ['password', 'refresh_token']);
    const mobile = await register(listed, 'mobile', ['password', 'refresh_token']);
    const ok = await postToken(listed.app, { username: 'johndoe', password: 'secret' }, { authorization: svc });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await me(listed, ok.json().access_token)).statusCode, 200);
    assertUnauthorizedClient(await postToken(listed.app, { username: 'johndoe', password: 'secret' }, { authorization: mobile }), 'password');
    assertUnauthorizedClient(await postToken(listed.app, { username: 'johndoe', password: 'secret' }), 'password');
    assertUnauthorizedClient(await postToken(listed.app, { username: 'johndoe', password: 'secret', client_id: 'gatehouse' }), 'password');
  });
});

describe('grant types registered per client', () => {
  test('a client registered without the password grant is refused it', async (t) => {
    const app = await appFor(t);
    const refreshOnly = await register(app, 'refresh-only', ['refresh_token']);
    assertUnauthorizedClient(await postToken(app.app, { username: 'johndoe', password: 'secret' }, { authorization: refreshOnly }), 'password');
  });

  test('a client registered without the refresh_token grant gets no refresh token and is refused a refresh', async (t) => {
    const app = await appFor(t);
    const passwordOnly = await register(app, 'password-only', ['password']);
    const login = await postToken(app.app, { username: 'johndoe', password: 'secret' }, { authorization: passwordOnly });
    assert.equal(login.statusCode, 200, login.body);
    // RFC 6749 §5.1: the refresh token is optional; one this client could never redeem is not issued.
    assert.deepEqual(Object.keys(login.json()).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    const { access_token } = login.json();
    // A refresh token it obtained some other way (here the built-in client's) is refused before it is looked at.
    const { refresh_token } = (await postToken(app.app, { username: 'johndoe', password: 'secret' })).json();
    assertUnauthorizedClient(await postToken(app.app, { grant_type: 'refresh_token', refresh_token }, { authorization: passwordOnly }), 'refresh_token');
    assert.equal((await postToken(app.app, { grant_type: 'refresh_token', refresh_token })).statusCode, 200, 'nothing was rotated or revoked');
    // Its session is a real one all the same: the access token works, and logout ends it.
    assert.equal((await me(app, access_token)).statusCode, 200);
    const logout = await app.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${access_token}` } });
    assert.ok(logout.statusCode < 300, logout.body);
    assert.equal((await me(app, access_token)).statusCode, 401);
  });
});
