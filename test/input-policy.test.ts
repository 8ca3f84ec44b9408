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
  test('a password with a lone surrogate is 422: it would collide with U+FFFD (12 x \\ud800 could log in as 12 x U+FFFD)', async () => {
    // JSON.stringify keeps a lone surrogate as the escape \ud800, as a client would send it.
    const response = await createUser({ username: 'surrogate', password: '\ud800'.repeat(12) });
    assert.equal(response.statusCode, 422);
    assert.deepEqual(response.json(), { detail: 'password must be valid Unicode text (no lone surrogates)' });
    const paired = await createUser({ username: 'emoji', password: '\u{1F511}'.repeat(12) });
    assert.equal(paired.statusCode, 201, 'paired surrogates (an emoji) are fine');
  });

  test('a lone surrogate in full_name or email is 422: it was accepted and echoed, yet stored as U+FFFD', async () => {
    for (const [field, value, rule] of [
      ['full_name', '\ud800x', 'full name must be valid Unicode text (no lone surrogates)'],
      ['full_name', 'x\udfff', 'full name must be valid Unicode text (no lone surrogates)'],
      ['email', 'a\ud800@example.com', 'email must be valid Unicode text (no lone surrogates)'],
    ] as const) {
      const response = await createUser({ username: 'lone', password: 'a-long-enough-password', [field]: value });
      assert.equal(response.statusCode, 422, `${field}: ${response.body}`);
      assert.deepEqual(response.json(), { detail: rule });
    }
    assert.equal(await t.services.users.find('lone'), undefined);
    const paired = await createUser({ username: 'paired', password: 'a-long-enough-password', full_name: 'Key \u{1F511}' });
    assert.equal(paired.statusCode, 201, 'paired surrogates (an emoji) are fine');
    assert.equal(paired.json().full_name, 'Key \u{1F511}');
  });

  test('control characters in full_name or email are 422 (NUL, escape and line breaks were accepted)', async () => {
    for (const [field, value, rule] of [
      ['full_name', 'a\u0000b', 'full name must not contain control characters'],
      ['full_name', '\u001b[2Jgone', 'full name must not contain control characters'],
      ['full_name', 'two\nlines', 'full name must not contain control characters'],
      ['full_name', 'c1\u0085', 'full name must not contain control characters'],
      ['email', 'a\u0000@b', 'email must not contain control characters'],
      ['email', 'a\u007f@example.com', 'email must not contain control characters'],
    ] as const) {
      const response = await createUser({ username: 'control', password: 'a-long-enough-password', [field]: value });
      assert.equal(response.statusCode, 422, `${field} ${JSON.stringify(value)}: ${response.body}`);
      assert.deepEqual(response.json(), { detail: rule });
    }
    assert.equal(await t.services.users.find('control'), undefined);
  });

  test('an email longer than 254 bytes is 422 naming the limit (10,000 characters were accepted)', async () => {
    for (const local of ['a'.repeat(10_000), 'a'.repeat(243)]) {
      const email = `${local}@example.com`;
      const response = await createUser({ username: `long${local.length}`, password: 'a-long-enough-password', email });
      assert.equal(response.statusCode, 422, `${email.length} bytes`);
      assert.deepEqual(response.json(), { detail: 'email must be at most 254 bytes long (RFC 5321)' });
      assert.equal(response.body.includes(local), false, 'the value is not echoed');
    }
    const longest = `${'a'.repeat(242)}@example.com`;
    assert.equal(longest.length, 254);
    const accepted = await createUser({ username: 'longest', password: 'a-long-enough-password', email: longest });
    assert.equal(accepted.statusCode, 201, accepted.body);
    assert.equal(accepted.json().email, longest);
  });

  test('a new password equal to the current one is 422 and changes nothing (it was accepted)', async () => {
    const token = await login(t.app, 'grace', 'grace-first-password');
    const other = await login(t.app, 'grace', 'grace-first-password');
    // Equal after normalization too: NFKC turns the full-width letters into the same text.
    for (const newPassword of ['grace-first-password', 'ｇrace-first-password']) {
      const response = await t.app.inject({
        method: 'PUT',
        url: '/users/me/password',
        headers: { authorization: `Bearer ${token}` },
        payload: { current_password: 'grace-first-password', new_password: newPassword },
      });
      assert.equal(response.statusCode, 422, newPassword);
      assert.deepEqual(response.json(), { detail: 'new password must differ from the current password' });
    }
    const stillIn = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${other}` } });
    assert.equal(stillIn.statusCode, 200, 'the other session was not ended');
    assert.ok(!t.logs.some((line) => line.audit === 'password.change' && line.user === 'grace'));
  });

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

  test('a JSON route given text/plain is 415 like any other media type, not 422 "body must be object"', async () => {
    const grace = await login(t.app, 'grace', 'grace-first-password');
    for (const [method, url, token] of [
      ['POST', '/admin/users', admin],
      ['PUT', '/admin/users/grace/scopes', admin],
      ['PUT', '/users/me/password', grace],
    ] as const) {
      for (const type of ['text/plain', 'text/plain; charset=utf-8']) {
        const response = await t.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${token}`, 'content-type': type },
          payload: '{"username":"plain","password":"a-long-enough-password","scopes":["me"]}',
        });
        assert.equal(response.statusCode, 415, `${method} ${url} ${type}: ${response.body}`);
        assert.deepEqual(response.json(), { detail: 'Unsupported Media Type' });
      }
    }
    assert.equal(await t.services.users.find('plain'), undefined);
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
