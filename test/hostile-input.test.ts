import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { UserRecord } from '../src/store/store.js';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
/** Every user as stored before any fuzzing: none may change. */
let usersBefore: UserRecord[];
/** Users the fuzzing created through the admin API (201): the only users allowed to be new. */
const created = new Set<string>();
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'items', 'admin'] });
  usersBefore = await t.services.store.listUsers();
});
after(() => t.close());

/**
 * Sends one generated request and checks what must hold for any input: no 5xx, no stack trace,
 * no-store caching. A 201 from POST /admin/users is a user the fuzzing legitimately created.
 */
async function send(options: InjectOptions): Promise<LightMyRequestResponse> {
  const response = await t.app.inject(options);
  const what = `${response.statusCode} for ${options.method} ${options.url} ${JSON.stringify(options.headers)} ${String(options.payload).slice(0, 200)}`;
  assert.ok(response.statusCode < 500, what);
  assert.doesNotMatch(response.body, /\bat .*\.[jt]s:\d+/, what);
  if (response.statusCode >= 400) assert.equal(response.headers['cache-control'], 'no-store', what);
  if (response.statusCode === 201 && options.url === '/admin/users') created.add((response.json() as { username: string }).username);
  return response;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Mostly the route's own method, sometimes any other. */
const methodFor = (own: (typeof METHODS)[number]) => fc.oneof({ weight: 4, arbitrary: fc.constant(own) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) });
const anyContentType = fc.oneof(
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/json',
    'application/json; charset=utf-16',
    'APPLICATION/JSON',
    'text/plain',
    'multipart/form-data; boundary=x',
    '',
  ),
  fc.string(),
);
/** Headers an attacker may add to any request; framing headers are the HTTP parser's business, not the app's. */
const extraHeaders = fc.dictionary(
  fc.constantFrom('x-forwarded-for', 'content-encoding', 'accept', 'origin', 'cookie', 'x-http-method-override', 'accept-charset', 'x-request-id'),
  fc.oneof(fc.string(), fc.constantFrom('gzip', 'identity', 'br', '127.0.0.1', '*', 'https://evil.example', 'DELETE', 'utf-16')),
  { maxKeys: 3 },
);
/** A body of any shape: a form, JSON of any type, text, nothing, or more than the body limit. */
const anyBody = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[]', 'null', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}') },
  { weight: 1, arbitrary: fc.constant('x'.repeat(17 * 1024)) },
);

/** An Authorization header: none, junk, a valid token (whose scopes the caller chooses), or one spoiled. */
function authorizationWith(...tokens: string[]) {
  return fc.oneof(
    fc.constant(undefined),
    fc.string(),
    fc.string().map((s) => `Bearer ${s}`),
    fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    ...tokens.map((token) => fc.constant(`Bearer ${token}`)),
    ...tokens.map((token) => fc.nat(token.length).map((n) => `Bearer ${token.slice(0, n)}${token.slice(n + 1)}`)),
  );
}

function headersOf(type: string | undefined, auth: string | undefined, extra: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (type) headers['content-type'] = type;
  if (auth !== undefined) headers.authorization = auth;
  return headers;
}

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
  // Fuzzed logins and password changes may fail johndoe's password often enough to throttle the
  // account (/token, PUT /users/me/password); each test starts once any such wait has passed, on a
  // clock that otherwise stands still, so the tests that log johndoe in can.
  beforeEach(() => t.clock.advance(2 * 60 * 60 * 1000));

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

  test('random forms, headers, content types and methods at /revoke and /introspect: never a 5xx', async () => {
    const admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
    const { access_token: access, refresh_token: refresh } = (
      await t.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=johndoe&password=secret' })
    ).json() as { access_token: string; refresh_token: string };
    const fields = ['token', 'token_type_hint', 'client_id', 'client_secret', 'scope', '__proto__'];
    const values = fc.oneof(fc.string(), fc.constantFrom('access_token', 'refresh_token', 'gatehouse', access, `${access}x`, refresh, '', '%', '%zz', '&', '='));
    // Well-formed forms with any values reach the handlers; chaotic ones (repeats, odd names) test the form rules.
    const wellFormed = fc
      .record({ token: values, token_type_hint: values, client_id: values, client_secret: values }, { requiredKeys: ['token'] })
      .map((fields) => new URLSearchParams(fields).toString());
    const chaotic = fc.array(fc.tuple(fc.constantFrom(...fields), values), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
    const form = fc.oneof(wellFormed, chaotic);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/revoke', '/introspect'),
        methodFor('POST'),
        fc.oneof({ weight: 3, arbitrary: form }, { weight: 1, arbitrary: anyBody }),
        fc.oneof({ weight: 3, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: anyContentType }),
        authorizationWith(admin),
        extraHeaders,
        async (url, method, payload, type, auth, extra) => {
          const response = await send({ method, url, headers: headersOf(type, auth, extra), payload });
          if (response.statusCode >= 400 && method !== 'HEAD') {
            const body = response.json() as Record<string, unknown>;
            assert.equal(typeof body.error, 'string', response.body);
            assert.equal(body.detail, body.error_description);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('random headers, bodies and methods at /logout and /logout/all: never a 5xx', async () => {
    // A session of its own: the first valid request ends it, and later ones must still answer 401.
    const token = await login(t.app, 'johndoe', 'secret');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/logout', '/logout/all'),
        methodFor('POST'),
        anyBody,
        anyContentType,
        authorizationWith(token),
        extraHeaders,
        async (url, method, payload, type, auth, extra) => {
          const response = await send({ method, url, headers: headersOf(type, auth, extra), payload });
          assert.ok([204, 400, 401, 404, 405, 413, 415].includes(response.statusCode), `${response.statusCode} ${response.body}`);
        },
      ),
      { numRuns: 600 },
    );
  });

  test('random JSON, headers and methods at PUT /users/me/password: never a 5xx', async () => {
    const token = await login(t.app, 'johndoe', 'secret');
    // Never the right current password: a valid change would be a legitimate change of johndoe.
    const passwordValue = fc.oneof(fc.string(), fc.constantFrom('', 'x'.repeat(129), 'correct horse battery staple', 'Secret', 'secret '));
    const body = fc
      .record(
        { current_password: fc.oneof(passwordValue, fc.jsonValue()), new_password: fc.oneof(passwordValue, fc.jsonValue()), extra: fc.jsonValue() },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v));
    await fc.assert(
      fc.asyncProperty(
        methodFor('PUT'),
        fc.oneof({ weight: 3, arbitrary: body }, { weight: 1, arbitrary: anyBody }),
        fc.oneof({ weight: 3, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: anyContentType }),
        authorizationWith(token),
        extraHeaders,
        async (method, payload, type, auth, extra) => {
          await send({ method, url: '/users/me/password', headers: headersOf(type, auth, extra), payload });
        },
      ),
      { numRuns: 800 },
    );
  });

  test('random paths, JSON, headers and methods at the admin routes: never a 5xx, and only ghosts are touched', async () => {
    const admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
    const user = await login(t.app, 'johndoe', 'secret');
    const existing = new Set(usersBefore.map((u) => u.username));
    // With the admin's token, a path may only name a user who does not exist: acting on a real one
    // would be a legitimate change. Other tokens may name anyone, and must be refused.
    const ghost = fc.string().filter((name) => !existing.has(name));
    const anyone = fc.oneof(fc.constantFrom(...existing), fc.string());
    /** A route under /admin/users/<name> and the method it takes (sometimes another). */
    const route = fc
      .constantFrom(['', 'GET'], ['/disable', 'POST'], ['/enable', 'POST'], ['/scopes', 'PUT'], ['/password', 'PUT'], ['/unknown', 'GET'])
      .chain(([suffix, own]) => methodFor(own as 'GET').map((method) => [suffix!, method] as const));
    const collection = methodFor('POST').chain((post) => fc.constantFrom(post, 'GET' as const)).map((method) => ['', method] as const);
    const target = (name: fc.Arbitrary<string>) =>
      fc.oneof(
        collection.map(([, method]) => ['/admin/users', method] as const),
        fc.tuple(name, route).map(([n, [suffix, method]]) => [`/admin/users/${encodeURIComponent(n)}${suffix}`, method] as const),
      );
    const body = fc
      .record(
        {
          username: fc.oneof(fc.constantFrom(...existing), fc.string(), fc.stringMatching(/^[a-z][a-z0-9._-]{0,12}$/)),
          password: fc.oneof(fc.string(), fc.constant('a-long-enough-password'), fc.jsonValue()),
          email: fc.oneof(fc.constant(null), fc.string(), fc.jsonValue()),
          full_name: fc.oneof(fc.constant(null), fc.string()),
          scopes: fc.oneof(fc.array(fc.constantFrom('me', 'items', 'admin', 'root', '')), fc.jsonValue()),
          disabled: fc.oneof(fc.boolean(), fc.jsonValue()),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v));
    const request = fc.oneof(
      fc.tuple(fc.constant(`Bearer ${admin}`), target(ghost)),
      fc.tuple(authorizationWith(user, admin.slice(0, -2)), target(anyone)),
    );
    await fc.assert(
      fc.asyncProperty(
        request,
        fc.oneof({ weight: 3, arbitrary: body }, { weight: 1, arbitrary: anyBody }),
        fc.oneof({ weight: 3, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: anyContentType }),
        extraHeaders,
        async ([auth, [url, method]], payload, type, extra) => {
          await send({ method, url, headers: headersOf(type, auth, extra), payload });
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('after all of it the server still works, and no stored user changed', async () => {
    const after = await t.services.store.listUsers();
    const byName = new Map(after.map((u) => [u.username, u]));
    for (const user of usersBefore) assert.deepEqual(byName.get(user.username), user, `${user.username} changed`);
    const extra = after.map((u) => u.username).filter((name) => !usersBefore.some((u) => u.username === name));
    assert.deepEqual(extra.sort(), [...created].sort(), 'only users the admin API answered 201 for are new');
    const token = await login(t.app, 'johndoe', 'secret');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
  });
});
