import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let admin: string;
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
});
after(() => t.close());

type Method = 'GET' | 'POST' | 'PUT';
function call(method: Method, url: string, payload?: object, token = admin) {
  return t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });
}

/** Every body the admin API sends, so the last test can check none ever held a hash. */
const bodies: string[] = [];
async function expect(response: Awaited<ReturnType<typeof call>>, status: number, body?: unknown) {
  bodies.push(response.body);
  assert.equal(response.statusCode, status, response.body);
  if (body !== undefined) assert.deepEqual(response.json(), body);
  return response;
}

const carol = { username: 'carol', email: 'carol@example.com', full_name: 'Carol', disabled: false, scopes: ['me', 'items'] };

describe('POST /admin/users', () => {
  test('creates a user and answers 201 with the public fields and scopes only', async () => {
    const response = await call('POST', '/admin/users', { ...carol, password: 'carol-long-password' });
    await expect(response, 201, carol);
    assert.equal(response.headers['cache-control'], 'no-store');
    await login(t.app, 'carol', 'carol-long-password');
  });

  test('optional fields default to null, the non-privileged scopes (as for users add), enabled; [] means none', async () => {
    await expect(await call('POST', '/admin/users', { username: 'erin', password: 'erin-long-password' }), 201, {
      username: 'erin',
      email: null,
      full_name: null,
      disabled: false,
      scopes: ['me', 'items'],
    });
    const none = await call('POST', '/admin/users', { username: 'erin2', password: 'erin-long-password', scopes: [] });
    await expect(none, 201);
    assert.deepEqual((none.json() as { scopes: string[] }).scopes, []);
  });

  test('an existing username is 409', async () => {
    const response = await call('POST', '/admin/users', { username: 'johndoe', password: 'another-long-password' });
    await expect(response, 409, { detail: 'User "johndoe" already exists' });
  });

  test('a weak password, a bad username or email is 422 naming the rule', async () => {
    await expect(await call('POST', '/admin/users', { username: 'weak', password: 'short' }), 422, { detail: 'password must be at least 12 characters' });
    const badName = await expect(await call('POST', '/admin/users', { username: 'a b', password: 'a-long-enough-password' }), 422);
    assert.match(badName.json().detail, /^username must be/);
    await expect(await call('POST', '/admin/users', { username: 'mail', password: 'a-long-enough-password', email: 'nope' }), 422, {
      detail: 'email is not an email address',
    });
  });

  test('a commonly breached password, or the username in any case, is 422 and creates nobody', async () => {
    await expect(await call('POST', '/admin/users', { username: 'breached', password: 'Qwerty123456' }), 422, {
      detail: 'password is too common: it appears in lists of breached passwords',
    });
    await expect(await call('POST', '/admin/users', { username: 'Samuel.Vimes', password: 'samuel.VIMES' }), 422, {
      detail: 'password must not equal the username',
    });
    await expect(await call('GET', '/admin/users/breached'), 404);
    await expect(await call('GET', '/admin/users/Samuel.Vimes'), 404);
  });

  test('a 128-character password is kept whole: one differing only in its last character is refused', async () => {
    const password = `${'pässwörd-'.repeat(14)}xy`;
    assert.equal([...password].length, 128);
    await expect(await call('POST', '/admin/users', { username: 'longpass', password }), 201);
    assert.equal((await postToken(t.app, { username: 'longpass', password: `${password.slice(0, -1)}z` })).statusCode, 400);
    await login(t.app, 'longpass', password);
  });

  test('an admin cannot grant a scope that does not exist', async () => {
    await expect(await call('POST', '/admin/users', { username: 'mallory', password: 'a-long-enough-password', scopes: ['me', 'root'] }), 422, {
      detail: 'unknown scope: root',
    });
    await expect(await call('GET', '/admin/users/mallory'), 404, { detail: 'User not found' });
  });

  test('a body missing fields, of the wrong type or not JSON is a 4xx with a detail, never a 5xx', async () => {
    await expect(await call('POST', '/admin/users', { username: 'nopass' }), 422, { detail: "body must have required property 'password'" });
    await expect(await call('POST', '/admin/users'), 422, { detail: 'body must be object' });
    await expect(await call('POST', '/admin/users', { username: 'x', password: 'a-long-enough-password', scopes: [{}] }), 422);
    const notJson = await t.app.inject({
      method: 'POST',
      url: '/admin/users',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: '{"username":',
    });
    await expect(notJson, 400, { detail: 'Bad Request' });
  });
});

describe('reading users', () => {
  test('GET /admin/users lists every user with scopes', async () => {
    const response = await expect(await call('GET', '/admin/users'), 200);
    const users = response.json() as { username: string }[];
    assert.deepEqual(users.find((u) => u.username === 'johndoe'), {
      username: 'johndoe',
      email: 'johndoe@example.com',
      full_name: 'John Doe',
      disabled: false,
      scopes: ['me', 'items'],
    });
    assert.ok(users.some((u) => u.username === 'root'));
    for (const user of users) assert.deepEqual(Object.keys(user).sort(), ['disabled', 'email', 'full_name', 'scopes', 'username']);
  });

  test('GET /admin/users/:username reads one user; an unknown one is 404', async () => {
    await expect(await call('GET', '/admin/users/alice'), 200, {
      username: 'alice',
      email: 'alice@example.com',
      full_name: 'Alice Wonderson',
      disabled: true,
      scopes: ['me', 'items'],
    });
    await expect(await call('GET', '/admin/users/nobody'), 404, { detail: 'User not found' });
  });
});

describe('disable and enable', () => {
  test("disabling ends the user's access at once (400 Inactive user); enabling restores it", async () => {
    const carolToken = await login(t.app, 'carol', 'carol-long-password');
    await expect(await call('POST', '/admin/users/carol/disable'), 200, { ...carol, disabled: true });
    await expect(await call('GET', '/users/me', undefined, carolToken), 400, { detail: 'Inactive user' });
    const refused = await postToken(t.app, { username: 'carol', password: 'carol-long-password' });
    assert.equal(refused.json().error_description, 'Inactive user');
    await expect(await call('POST', '/admin/users/carol/enable'), 200, carol);
    await expect(await call('GET', '/users/me', undefined, carolToken), 200);
  });

  test('an unknown user is 404', async () => {
    await expect(await call('POST', '/admin/users/nobody/disable'), 404, { detail: 'User not found' });
    await expect(await call('POST', '/admin/users/nobody/enable'), 404, { detail: 'User not found' });
  });
});

describe('PUT /admin/users/:username/scopes', () => {
  test('replaces the scopes; the next login is granted them', async () => {
    await expect(await call('PUT', '/admin/users/erin/scopes', { scopes: ['me'] }), 200, {
      username: 'erin',
      email: null,
      full_name: null,
      disabled: false,
      scopes: ['me'],
    });
    const granted = await postToken(t.app, { username: 'erin', password: 'erin-long-password' });
    assert.equal(granted.json().scope, 'me');
  });

  test('an unknown scope is 422 and changes nothing', async () => {
    await expect(await call('PUT', '/admin/users/erin/scopes', { scopes: ['me', 'superuser'] }), 422, { detail: 'unknown scope: superuser' });
    assert.deepEqual((await call('GET', '/admin/users/erin')).json().scopes, ['me']);
  });

  test('an unknown user is 404; a body without scopes is 422', async () => {
    await expect(await call('PUT', '/admin/users/nobody/scopes', { scopes: ['me'] }), 404, { detail: 'User not found' });
    await expect(await call('PUT', '/admin/users/erin/scopes', {}), 422, { detail: "body must have required property 'scopes'" });
  });
});

describe('PUT /admin/users/:username/password', () => {
  test("resets the password and ends all the user's sessions", async () => {
    const erinToken = await login(t.app, 'erin', 'erin-long-password');
    await expect(await call('GET', '/users/me', undefined, erinToken), 200);
    const response = await expect(await call('PUT', '/admin/users/erin/password', { password: 'erin-new-long-password' }), 204);
    assert.equal(response.body, '');
    await expect(await call('GET', '/users/me', undefined, erinToken), 401, { detail: 'Could not validate credentials' });
    assert.equal((await postToken(t.app, { username: 'erin', password: 'erin-long-password' })).statusCode, 400);
    await login(t.app, 'erin', 'erin-new-long-password');
  });

  test('a password breaking the policy is 422; an unknown user is 404', async () => {
    await expect(await call('PUT', '/admin/users/erin/password', { password: 'erin' }), 422, { detail: 'password must be at least 12 characters' });
    await expect(await call('PUT', '/admin/users/erin/password', { password: 'erin-new-long-password'.repeat(10) }), 422, {
      detail: 'password must be at most 128 characters',
    });
    await expect(await call('PUT', '/admin/users/nobody/password', { password: 'a-long-enough-password' }), 404, { detail: 'User not found' });
  });

  test('a commonly breached password, or the username in any case, is 422 and changes nothing', async () => {
    await call('POST', '/admin/users', { username: 'Cheery.Littlebottom', password: 'cheery-first-password' });
    await expect(await call('PUT', '/admin/users/Cheery.Littlebottom/password', { password: 'QWERTY123456' }), 422, {
      detail: 'password is too common: it appears in lists of breached passwords',
    });
    await expect(await call('PUT', '/admin/users/Cheery.Littlebottom/password', { password: 'cheery.littlebottom' }), 422, {
      detail: 'password must not equal the username',
    });
    await login(t.app, 'Cheery.Littlebottom', 'cheery-first-password');
  });
});

describe('who may use the admin API', () => {
  const routes: [Method, string, object?][] = [
    ['POST', '/admin/users', { username: 'eve', password: 'a-long-enough-password', scopes: ['admin'] }],
    ['GET', '/admin/users'],
    ['GET', '/admin/users/johndoe'],
    ['POST', '/admin/users/johndoe/disable'],
    ['POST', '/admin/users/johndoe/enable'],
    ['PUT', '/admin/users/johndoe/scopes', { scopes: ['admin'] }],
    ['PUT', '/admin/users/johndoe/password', { password: 'a-long-enough-password' }],
  ];

  test('without a token: 401 "Not authenticated"', async () => {
    for (const [method, url, payload] of routes) {
      const response = await t.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
      assert.equal(response.statusCode, 401, `${method} ${url}`);
      assert.deepEqual(response.json(), { detail: 'Not authenticated' });
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
  });

  test('a token with me and items but not admin: 403 insufficient_scope naming admin', async () => {
    const johndoe = await login(t.app);
    for (const [method, url, payload] of routes) {
      const response = await call(method, url, payload, johndoe);
      await expect(response, 403, { detail: 'Not enough permissions' });
      assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="admin"');
    }
  });

  test('a user without admin who asks scope=admin is not granted it, and is refused', async () => {
    const granted = await postToken(t.app, { username: 'johndoe', password: 'secret', scope: 'admin me' });
    assert.equal(granted.statusCode, 200);
    assert.equal(granted.json().scope, 'me');
    await expect(await call('GET', '/admin/users', undefined, granted.json().access_token), 403);
  });

  test('an admin who does not ask for admin by name does not get it', async () => {
    const granted = await postToken(t.app, { username: 'root', password: 'a-long-admin-password' });
    assert.equal(granted.json().scope, 'me');
    await expect(await call('GET', '/admin/users', undefined, granted.json().access_token), 403);
  });

  test('nothing the admin API sent ever held a password hash', () => {
    assert.ok(bodies.length > 20);
    for (const body of bodies) {
      assert.equal(body.includes('$argon2'), false, body);
      assert.doesNotMatch(body, /hash/i);
    }
  });
});

describe('GET /openapi.json', () => {
  test('documents every admin route with its admin security requirement and no hash', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const routes = [
      ['/admin/users', 'post'],
      ['/admin/users', 'get'],
      ['/admin/users/{username}', 'get'],
      ['/admin/users/{username}/disable', 'post'],
      ['/admin/users/{username}/enable', 'post'],
      ['/admin/users/{username}/scopes', 'put'],
      ['/admin/users/{username}/password', 'put'],
    ] as const;
    for (const [path, method] of routes) {
      const operation = doc.paths[path]?.[method];
      assert.ok(operation, `${method} ${path}`);
      assert.deepEqual(operation.security, [{ OAuth2PasswordBearer: ['admin'] }]);
      assert.deepEqual(operation.tags, ['admin']);
      assert.ok(operation.responses['403']);
    }
    const user = doc.paths['/admin/users/{username}'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(Object.keys(user.properties).sort(), ['disabled', 'email', 'full_name', 'scopes', 'username']);
    assert.doesNotMatch(JSON.stringify(doc), /hash/i);
  });
});
