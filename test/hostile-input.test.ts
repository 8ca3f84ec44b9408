import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

const FIELDS = ['grant_type', 'username', 'password', 'scope', 'client_id', 'client_secret', 'refresh_token', '__proto__', 'constructor'];
const value = fc.oneof(fc.string(), fc.constantFrom('password', 'johndoe', 'secret', 'me items', '', '%', '%zz', '&', '=', '+'));
const form = fc.array(fc.tuple(fc.constantFrom(...FIELDS), value), { maxLength: 8 }).map((pairs) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${Math.random() < 0.2 ? v : encodeURIComponent(v)}`).join('&'),
);
const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=latin1',
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'application/json',
  'text/plain',
  '',
  'multipart/form-data',
);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.string().map((s) => `Basic ${s}`),
  fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.string(),
);

describe('hostile input', () => {
  test('random forms, content types and Authorization headers on /token: never a 5xx, always the OAuth body', async () => {
    const before = await t.services.store.findUserByUsername('johndoe');
    await fc.assert(
      fc.asyncProperty(form, contentType, authorization, async (payload, type, auth) => {
        const headers: Record<string, string> = {};
        if (type) headers['content-type'] = type;
        if (auth !== undefined) headers.authorization = auth;
        const response = await t.app.inject({ method: 'POST', url: '/token', headers, payload });
        assert.ok(response.statusCode < 500, `${response.statusCode} for ${type} ${payload}`);
        assert.equal(response.headers['cache-control'], 'no-store');
        if (response.statusCode !== 200) {
          const body = response.json() as Record<string, unknown>;
          assert.equal(typeof body.error, 'string');
          assert.equal(body.detail, body.error_description);
          assert.doesNotMatch(response.body, /at .*\.ts:\d+/);
        }
      }),
      { numRuns: 2000 },
    );
    assert.deepEqual(await t.services.store.findUserByUsername('johndoe'), before);
  });

  test('random Authorization headers on a protected route: only 200, 400, 401 or 403', async () => {
    const token = await login(t.app);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string().map((s) => `Bearer ${s}`), fc.string().map((s) => `Bearer ${token}${s}`), fc.nat(token.length).map((n) => `Bearer ${token.slice(0, n)}`)),
        async (header) => {
          const response = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: header } });
          assert.ok([200, 401].includes(response.statusCode), `${response.statusCode} for ${header}`);
          if (response.statusCode === 401) assert.match(String(response.headers['www-authenticate']), /^Bearer/);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('header values with bytes Node refuses never reach the app as 5xx', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: 'Bearer \u00e9\u00e9' } });
    assert.equal(response.statusCode, 401);
  });
});
