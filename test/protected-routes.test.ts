import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let token: string;
before(async () => {
  t = await createTestApp();
  token = await login(t.app);
});
after(() => t.close());

const get = (url: string, authorization?: string) =>
  t.app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

function assertInvalidToken(response: Awaited<ReturnType<typeof get>>) {
  assert.equal(response.statusCode, 401, response.body);
  assert.deepEqual(response.json(), { detail: 'Could not validate credentials' });
  assert.match(String(response.headers['www-authenticate']), /^Bearer error="invalid_token", error_description="[^"\\]+"$/);
}

describe('GET /users/me', () => {
  test('returns exactly username, email, full_name and disabled, never a hash', async () => {
    const response = await get('/users/me', `Bearer ${token}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { username: 'johndoe', email: 'johndoe@example.com', full_name: 'John Doe', disabled: false });
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('without credentials: 401 "Not authenticated" with WWW-Authenticate: Bearer', async () => {
    const response = await get('/users/me');
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), { detail: 'Not authenticated' });
    assert.equal(response.headers['www-authenticate'], 'Bearer');
  });

  test('another scheme is "Not authenticated"', async () => {
    for (const authorization of ['Basic am9obmRvZTpzZWNyZXQ=', `Token ${token}`, `Bearer${token}`, '']) {
      const response = await get('/users/me', authorization);
      assert.equal(response.statusCode, 401, authorization);
      assert.deepEqual(response.json(), { detail: 'Not authenticated' });
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
  });

  test('the scheme is case-insensitive, spaces between scheme and token may repeat, the token is trimmed', async () => {
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `BeArEr    ${token}`, `Bearer ${token}   `]) {
      assert.equal((await get('/users/me', authorization)).statusCode, 200, authorization);
    }
  });

  test('a token in the query string is never read', async () => {
    const response = await get(`/users/me?access_token=${token}`);
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), { detail: 'Not authenticated' });
  });

  test('an empty or malformed bearer token is invalid_token', async () => {
    for (const bad of ['Bearer', 'Bearer ', 'Bearer abc', 'Bearer a.b', 'Bearer a.b.c.d', `Bearer ${token} extra`, 'Bearer é.é.é', `Bearer ${'a'.repeat(9000)}.b.c`]) {
      assertInvalidToken(await get('/users/me', bad));
    }
  });

  test('a user disabled after the token was issued is refused at once with 400 "Inactive user"', async () => {
    await t.services.users.create({ username: 'dave', password: 'dave-long-password', scopes: ['me', 'items'] });
    const daveToken = await login(t.app, 'dave', 'dave-long-password');
    assert.equal((await get('/users/me', `Bearer ${daveToken}`)).statusCode, 200);
    await t.services.users.setDisabled('dave', true);
    const response = await get('/users/me', `Bearer ${daveToken}`);
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { detail: 'Inactive user' });
    await t.services.users.setDisabled('dave', false);
    assert.equal((await get('/users/me', `Bearer ${daveToken}`)).statusCode, 200);
  });

  test('a token whose session does not exist is invalid even with a good signature', async () => {
    const { token: orphan } = await t.services.signer.sign({ sub: 'johndoe', clientId: 'gatehouse', scope: 'me', sid: 'no-such-session' });
    assertInvalidToken(await get('/users/me', `Bearer ${orphan}`));
  });

  test('a token for a session of another user is invalid', async () => {
    const johnClaims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sid: string };
    const { token: stolen } = await t.services.signer.sign({ sub: 'alice', clientId: 'gatehouse', scope: 'me', sid: johnClaims.sid });
    assertInvalidToken(await get('/users/me', `Bearer ${stolen}`));
  });

  test('an expired token is invalid_token "expired", honouring at most 30 s of leeway', async () => {
    const fresh = await login(t.app);
    t.clock.advance(900_000 + 29_000);
    assert.equal((await get('/users/me', `Bearer ${fresh}`)).statusCode, 200);
    t.clock.advance(2_000);
    const response = await get('/users/me', `Bearer ${fresh}`);
    assertInvalidToken(response);
    assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The access token expired"');
    token = await login(t.app);
  });
});

describe('GET /users/me/items', () => {
  test('with scopes items and me: the tutorial item owned by the user', async () => {
    const response = await get('/users/me/items', `Bearer ${token}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), [{ item_id: 'Foo', owner: 'johndoe' }]);
  });

  test('a valid token without the items scope: 403 insufficient_scope naming the needed scopes', async () => {
    const meOnly = await login(t.app, 'johndoe', 'secret', 'me');
    const response = await get('/users/me/items', `Bearer ${meOnly}`);
    assert.equal(response.statusCode, 403);
    assert.deepEqual(response.json(), { detail: 'Not enough permissions' });
    assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="items me"');
  });

  test('a token with only items cannot read /users/me', async () => {
    const itemsOnly = await login(t.app, 'johndoe', 'secret', 'items');
    const response = await get('/users/me', `Bearer ${itemsOnly}`);
    assert.equal(response.statusCode, 403);
    assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="me"');
  });
});

describe('routing', () => {
  test('an unknown path is 404 {"detail":"Not Found"}', async () => {
    const response = await get('/nope');
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { detail: 'Not Found' });
  });

  test('a known path with another method is 405 with Allow', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/users/me' });
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers.allow, 'GET, HEAD');
  });
});
