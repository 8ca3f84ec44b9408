import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let admin: string;
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  await t.services.users.create({ username: 'grace', password: 'grace-first-password', scopes: ['me'] });
  admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
});
after(() => t.close());

const createUser = (body: object, contentType = 'application/json') =>
  t.app.inject({
    method: 'POST',
    url: '/admin/users',
    headers: { authorization: `Bearer ${admin}`, 'content-type': contentType },
    payload: JSON.stringify(body),
  });

describe('input policy', () => {
  test('a JSON body in another charset than UTF-8, or compressed, is 415 (charset=latin1 was accepted)', async () => {
    for (const type of ['application/json; charset=latin1', 'application/json; charset=ISO-8859-1', 'application/json;charset="utf-16"']) {
      const response = await createUser({ username: 'latin', password: 'a-long-enough-password' }, type);
      assert.equal(response.statusCode, 415, type);
      assert.deepEqual(response.json(), { detail: 'JSON bodies must be UTF-8 (RFC 8259 §8.1)' });
    }
    const gzip = await t.app.inject({
      method: 'PUT',
      url: '/users/me/password',
      headers: { authorization: `Bearer ${await login(t.app, 'grace', 'grace-first-password')}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: '{}',
    });
    assert.equal(gzip.statusCode, 415);
    assert.deepEqual(gzip.json(), { detail: 'Content-Encoding is not supported' });
    for (const [i, type] of ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json'].entries()) {
      const response = await createUser({ username: `utf${i}`, password: 'a-long-enough-password', full_name: 'Zoë Ångström' }, type);
      assert.equal(response.statusCode, 201, `${type}: ${response.body}`);
      assert.equal(response.json().full_name, 'Zoë Ångström');
    }
  });

  test('the OpenAPI document lists the 415 of every route that takes JSON', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, method] of [['/admin/users', 'post'], ['/users/me/password', 'put'], ['/admin/users/{username}/scopes', 'put'], ['/admin/users/{username}/password', 'put']]) {
      assert.ok(doc.paths[path!][method!].responses['415'], `${method} ${path}`);
    }
  });

  test('JSON is still parsed as Fastify does: prototype poisoning is refused', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/admin/users',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: '{"username":"proto","password":"a-long-enough-password","__proto__":{"admin":true}}',
    });
    assert.equal(response.statusCode, 400);
  });
});
