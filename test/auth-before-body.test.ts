import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let admin: string;
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
});
after(() => t.close());

type Method = 'POST' | 'PUT';
/** Every protected route that takes a JSON body, and the scope it needs. */
const JSON_ROUTES: [Method, string][] = [
  ['POST', '/admin/users'],
  ['PUT', '/admin/users/johndoe/scopes'],
  ['PUT', '/admin/users/johndoe/password'],
  ['PUT', '/users/me/password'],
];
/** Every protected route that takes no body. */
const BODYLESS_ROUTES: [Method, string][] = [
  ['POST', '/logout'],
  ['POST', '/logout/all'],
  ['POST', '/admin/users/johndoe/disable'],
  ['POST', '/admin/users/johndoe/enable'],
];
const ADMIN_ROUTES = [...JSON_ROUTES, ...BODYLESS_ROUTES].filter(([, url]) => url.startsWith('/admin/'));

/** Bodies a caller might send: schema-invalid, not JSON at all, another type, too large. */
const BODIES: { type: string; payload: string }[] = [
  { type: 'application/json', payload: '{"x":1}' },
  { type: 'application/json', payload: '{}' },
  { type: 'application/json', payload: '{bad' },
  { type: 'application/json', payload: '' },
  { type: 'text/plain', payload: 'hello' },
  { type: 'application/json; charset=latin1', payload: '{}' },
  { type: 'application/json', payload: `{"a":"${'x'.repeat(20_000)}"}` },
];

const send = (method: Method, url: string, body: { type: string; payload: string }, token?: string) =>
  t.app.inject({
    method,
    url,
    headers: { 'content-type': body.type, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    payload: body.payload,
  });

describe('protected routes check the token before reading the body', () => {
  test('no token: 401 "Not authenticated" with the Bearer challenge, whatever the body (was 422, 400, 413 or 415)', async () => {
    for (const [method, url] of [...JSON_ROUTES, ...BODYLESS_ROUTES]) {
      for (const body of BODIES) {
        const response = await send(method, url, body);
        const what = `${method} ${url} ${body.type} ${body.payload.slice(0, 10)}`;
        assert.equal(response.statusCode, 401, `${what}: ${response.body.slice(0, 200)}`);
        assert.deepEqual(response.json(), { detail: 'Not authenticated' }, what);
        assert.equal(response.headers['www-authenticate'], 'Bearer', what);
      }
    }
  });

  test('an invalid token: 401 invalid_token before the body is looked at', async () => {
    const response = await send('POST', '/admin/users', BODIES[0]!, 'not.a.token');
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), { detail: 'Could not validate credentials' });
  });

  test("a token without the admin scope: 403 insufficient_scope on every admin route, whatever the body (was 422)", async () => {
    const johndoe = await login(t.app);
    for (const [method, url] of ADMIN_ROUTES) {
      for (const body of BODIES) {
        const response = await send(method, url, body, johndoe);
        const what = `${method} ${url} ${body.type} ${body.payload.slice(0, 10)}`;
        assert.equal(response.statusCode, 403, `${what}: ${response.body.slice(0, 200)}`);
        assert.deepEqual(response.json(), { detail: 'Not enough permissions' }, what);
        assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="admin"', what);
      }
    }
  });

  test('with a valid token the body is then validated as before', async () => {
    const response = await send('POST', '/admin/users', BODIES[0]!, admin);
    assert.equal(response.statusCode, 422);
    assert.equal((await send('POST', '/admin/users', BODIES[2]!, admin)).statusCode, 400);
  });
});

describe('routes that take no body ignore whatever body is sent', () => {
  /** What clients send to a body-less POST: curl -d '', an empty JSON body, a JSON or text body, odd types. */
  const SENT: { headers: Record<string, string>; payload?: string }[] = [
    { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' },
    { headers: { 'content-type': 'application/json' } },
    { headers: { 'content-type': 'application/json' }, payload: '' },
    { headers: { 'content-type': 'application/json' }, payload: '{"a":1}' },
    { headers: { 'content-type': 'application/json' }, payload: '{bad' },
    { headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    { headers: { 'content-type': 'application/octet-stream' }, payload: '\u0000\u0001' },
    { headers: { 'content-type': 'nonsense' }, payload: 'x' },
    { headers: {}, payload: 'no type at all' },
    { headers: {} },
  ];

  test('POST /logout and /logout/all answer 204 whatever body and content type come with them (was 415 and 400)', async () => {
    for (const url of ['/logout', '/logout/all']) {
      for (const sent of SENT) {
        const token = await login(t.app);
        const response = await t.app.inject({ method: 'POST', url, headers: { ...sent.headers, authorization: `Bearer ${token}` }, payload: sent.payload });
        assert.equal(response.statusCode, 204, `${url} ${JSON.stringify(sent)}: ${response.body}`);
        const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(me.statusCode, 401, 'the session ended');
      }
    }
  });

  test('POST /admin/users/{username}/disable and /enable work with any body or none (was 400 for JSON without a body)', async () => {
    for (const sent of SENT) {
      for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
        const response = await t.app.inject({
          method: 'POST',
          url: `/admin/users/johndoe/${action}`,
          headers: { ...sent.headers, authorization: `Bearer ${admin}` },
          payload: sent.payload,
        });
        assert.equal(response.statusCode, 200, `${action} ${JSON.stringify(sent)}: ${response.body}`);
        assert.equal(response.json().disabled, disabled);
      }
    }
  });

  test('an ignored body is still bounded: over the body limit is 413', async () => {
    const token = await login(t.app);
    const response = await t.app.inject({
      method: 'POST',
      url: '/logout',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: 'x'.repeat(20_000),
    });
    assert.equal(response.statusCode, 413);
  });
});
