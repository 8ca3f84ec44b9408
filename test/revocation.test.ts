import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashClientSecret } from '../src/auth/clients.js';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
const CONFIDENTIAL_SECRET = 'resource-server-secret-with-plenty-of-entropy';
const WEBAPP_SECRET = 'web-app-secret-with-plenty-of-entropy';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

before(async () => {
  t = await createTestApp();
  await t.services.store.createClient({
    id: 'api',
    name: 'Resource server',
    secretHash: hashClientSecret(CONFIDENTIAL_SECRET),
    grantTypes: [],
    scopes: [],
    createdAt: t.clock.now(),
  });
  await t.services.store.createClient({
    id: 'webapp',
    name: 'Confidential web app',
    secretHash: hashClientSecret(WEBAPP_SECRET),
    grantTypes: ['password', 'refresh_token'],
    scopes: ['me', 'items'],
    createdAt: t.clock.now(),
  });
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
});
after(() => t.close());

async function session(username = 'johndoe', password = 'secret', scope?: string) {
  const response = await postToken(t.app, { username, password, ...(scope ? { scope } : {}) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; refresh_token: string; scope: string };
}

async function sessionOf(clientId: string, secret: string) {
  const response = await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization: basic(clientId, secret) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; refresh_token: string };
}

const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  });
const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
const refresh = (refresh_token: string) => postToken(t.app, { grant_type: 'refresh_token', refresh_token });

describe('POST /revoke (RFC 7009)', () => {
  test('revoking a refresh token ends its session: refresh and access tokens stop working', async () => {
    const s = await session();
    const response = await form('/revoke', { token: s.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal((await refresh(s.refresh_token)).statusCode, 400);
    assert.equal((await me(s.access_token)).statusCode, 401);
  });

  test('revoking an access token ends its session too, whatever the hint says', async () => {
    const s = await session();
    assert.equal((await form('/revoke', { token: s.access_token, token_type_hint: 'refresh_token' })).statusCode, 200);
    assert.equal((await me(s.access_token)).statusCode, 401);
    assert.equal((await refresh(s.refresh_token)).statusCode, 400);
  });

  test('unknown, garbage, already revoked tokens and unknown hints all answer 200', async () => {
    const s = await session();
    for (const fields of <Record<string, string>[]>[
      { token: 'nonsense' },
      { token: 'x'.repeat(43) },
      { token: s.refresh_token, token_type_hint: 'something_else' },
      { token: s.refresh_token },
    ]) {
      assert.equal((await form('/revoke', fields)).statusCode, 200, JSON.stringify(fields));
    }
  });

  test('a missing token is invalid_request; a wrong client secret is invalid_client', async () => {
    const missing = await form('/revoke', {});
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'invalid_request');
    const wrong = await form('/revoke', { token: 'x' }, { authorization: basic('api', 'nope') });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error, 'invalid_client');
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm="gatehouse"');
  });

  test('a client cannot revoke a live token issued to another client', async () => {
    const s = await session();
    for (const token of [s.refresh_token, s.access_token]) {
      const response = await form('/revoke', { token }, { authorization: basic('api', CONFIDENTIAL_SECRET) });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'invalid_request');
      assert.equal(response.json().error_description, 'The token was not issued to this client');
    }
    assert.equal((await me(s.access_token)).statusCode, 200);
    assert.equal((await refresh(s.refresh_token)).statusCode, 200);
  });

  test('a caller without client credentials cannot revoke a live token of a confidential client', async () => {
    const s = await sessionOf('webapp', WEBAPP_SECRET);
    const response = await form('/revoke', { token: s.refresh_token });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_request');
    assert.equal((await me(s.access_token)).statusCode, 200);
  });

  test('GET /revoke is 405 with Allow: POST', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/revoke' });
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers.allow, 'POST');
  });
});

describe('POST /revoke with a token that is no longer active (RFC 7009 §2.2)', () => {
  const asApi = { authorization: basic('api', CONFIDENTIAL_SECRET) };

  test('another client\'s already revoked refresh and access tokens answer 200', async () => {
    const s = await session();
    assert.equal((await form('/revoke', { token: s.refresh_token })).statusCode, 200);
    for (const token of [s.refresh_token, s.access_token]) {
      const response = await form('/revoke', { token }, asApi);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.body, '');
    }
  });

  test('a caller without client credentials gets 200 for a confidential client\'s revoked token', async () => {
    const s = await sessionOf('webapp', WEBAPP_SECRET);
    await form('/revoke', { token: s.refresh_token }, { authorization: basic('webapp', WEBAPP_SECRET) });
    for (const token of [s.refresh_token, s.access_token]) assert.equal((await form('/revoke', { token })).statusCode, 200);
  });

  test('another client\'s rotated-away refresh token answers 200 and leaves the session alone', async () => {
    const s = await session();
    const next = (await refresh(s.refresh_token)).json() as { access_token: string; refresh_token: string };
    const response = await form('/revoke', { token: s.refresh_token, token_type_hint: 'refresh_token' }, asApi);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((await me(next.access_token)).statusCode, 200, 'the owner\'s session goes on');
    assert.equal((await refresh(next.refresh_token)).statusCode, 200);
  });

  test('another client\'s tokens of a disabled user answer 200 and change nothing', async () => {
    await t.services.users.create({ username: 'ivan', password: 'ivan-long-password', scopes: ['me'] });
    const s = await session('ivan', 'ivan-long-password');
    await t.services.users.setDisabled('ivan', true);
    for (const token of [s.refresh_token, s.access_token]) assert.equal((await form('/revoke', { token }, asApi)).statusCode, 200);
    await t.services.users.setDisabled('ivan', false);
    assert.equal((await me(s.access_token)).statusCode, 200);
  });

  test('another client\'s expired access token and idle-ended session answer 200', async () => {
    const s = await session();
    t.clock.advance(16 * 60_000);
    assert.equal((await me(s.access_token)).statusCode, 401, 'the access token has expired');
    assert.equal((await form('/revoke', { token: s.access_token }, asApi)).statusCode, 200);
    t.clock.advance(14 * 86_400_000);
    assert.equal((await refresh(s.refresh_token)).statusCode, 400, 'the session has ended');
    assert.equal((await form('/revoke', { token: s.refresh_token }, asApi)).statusCode, 200);
  });

  test('the owner revoking its already revoked token again gets 200', async () => {
    const s = await session();
    for (let i = 0; i < 2; i++) {
      for (const token of [s.refresh_token, s.access_token]) assert.equal((await form('/revoke', { token })).statusCode, 200);
    }
  });
});

describe('POST /logout and /logout/all', () => {
  test('logout ends the current session only', async () => {
    const a = await session();
    const b = await session();
    const response = await t.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${a.access_token}` } });
    assert.equal(response.statusCode, 204);
    assert.equal((await me(a.access_token)).statusCode, 401);
    assert.equal((await refresh(a.refresh_token)).statusCode, 400);
    assert.equal((await me(b.access_token)).statusCode, 200);
  });

  test('logout/all ends every session of the user, and no one else\'s', async () => {
    await t.services.users.create({ username: 'gina', password: 'gina-long-password', scopes: ['me'] });
    const a = await session('gina', 'gina-long-password');
    const b = await session('gina', 'gina-long-password');
    const other = await session();
    const response = await t.app.inject({ method: 'POST', url: '/logout/all', headers: { authorization: `Bearer ${a.access_token}` } });
    assert.equal(response.statusCode, 204);
    assert.equal((await me(a.access_token)).statusCode, 401);
    assert.equal((await me(b.access_token)).statusCode, 401);
    assert.equal((await refresh(b.refresh_token)).statusCode, 400);
    assert.equal((await me(other.access_token)).statusCode, 200);
  });

  test('logout without a token is 401 Not authenticated', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/logout' });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], 'Bearer');
  });
});

describe('POST /introspect (RFC 7662)', () => {
  const asApi = { authorization: basic('api', CONFIDENTIAL_SECRET) };

  test('an active access token, for a confidential client', async () => {
    const s = await session(undefined, undefined, 'me');
    const response = await form('/introspect', { token: s.access_token }, asApi);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.active, true);
    assert.equal(body.scope, 'me');
    assert.equal(body.client_id, 'gatehouse');
    assert.equal(body.username, 'johndoe');
    assert.equal(body.sub, 'johndoe');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.iss, 'http://gatehouse.test');
    assert.equal(typeof body.exp, 'number');
  });

  test('an active refresh token', async () => {
    const s = await session();
    const body = (await form('/introspect', { token: s.refresh_token, token_type_hint: 'refresh_token' }, asApi)).json();
    assert.equal(body.active, true);
    assert.equal(body.token_type, 'refresh_token');
    assert.equal(body.scope, 'me items');
  });

  test('revoked, rotated, disabled-user and unknown tokens are exactly {"active": false}', async () => {
    const revoked = await session();
    await form('/revoke', { token: revoked.refresh_token });
    const rotated = await session();
    await refresh(rotated.refresh_token);
    await t.services.users.create({ username: 'hank', password: 'hank-long-password', scopes: ['me'] });
    const disabled = await session('hank', 'hank-long-password');
    await t.services.users.setDisabled('hank', true);
    for (const token of [revoked.access_token, revoked.refresh_token, rotated.refresh_token, disabled.access_token, 'garbage', 'a.b.c']) {
      const response = await form('/introspect', { token }, asApi);
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, '{"active":false}');
    }
  });

  test('an admin token may introspect; a token without admin may not', async () => {
    const admin = await session('root', 'a-long-admin-password', 'admin');
    assert.equal(admin.scope, 'admin');
    const target = await session();
    const ok = await form('/introspect', { token: target.access_token }, { authorization: `Bearer ${admin.access_token}` });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().active, true);
    const plain = await session();
    const refused = await form('/introspect', { token: target.access_token }, { authorization: `Bearer ${plain.access_token}` });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, 'insufficient_scope');
  });

  test('without client authentication, or as a public client, introspection is refused with 401 invalid_client', async () => {
    const s = await session();
    for (const headers of <Record<string, string>[]>[{}, { authorization: 'Basic Og==' }, { authorization: basic('gatehouse', '') }]) {
      const response = await form('/introspect', { token: s.access_token }, headers);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error, 'invalid_client');
      assert.equal(response.body.includes('active'), false);
    }
  });

  test('the admin scope is privileged: never granted unless asked for by name', async () => {
    assert.equal((await session('root', 'a-long-admin-password')).scope, 'me');
    assert.equal((await session('johndoe', 'secret', 'me admin')).scope, 'me');
  });
});

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  test('names the configured issuer and its endpoints, whatever the Host header says', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', headers: { host: 'evil.example' } });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.issuer, 'http://gatehouse.test');
    assert.equal(body.token_endpoint, 'http://gatehouse.test/token');
    assert.equal(body.revocation_endpoint, 'http://gatehouse.test/revoke');
    assert.equal(body.introspection_endpoint, 'http://gatehouse.test/introspect');
    assert.equal(body.jwks_uri, 'http://gatehouse.test/.well-known/jwks.json');
    assert.deepEqual(body.grant_types_supported, ['password', 'refresh_token']);
    assert.deepEqual(body.scopes_supported, ['me', 'items', 'admin']);
    assert.ok(body.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.equal(response.body.includes('evil.example'), false);
  });

  test('advertises only registered client authentication methods, each of which the endpoint accepts', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
    assert.deepEqual(body.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
    assert.deepEqual(body.revocation_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
    // Introspection is for confidential clients; an admin's bearer token is no client auth method.
    assert.deepEqual(body.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
    // The RFC 7591 §4.2 registry of token endpoint authentication methods.
    const registered = ['none', 'client_secret_post', 'client_secret_basic', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
    for (const field of ['token_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported']) {
      for (const method of body[field] as string[]) assert.ok(registered.includes(method), `${field}: ${method} is not a registered method`);
    }
    // Required, and empty: no authorization endpoint, so no response_type values (RFC 8414 §2).
    assert.deepEqual(body.response_types_supported, []);
    assert.equal(body.authorization_endpoint, undefined);

    // How a client presents itself with each method: form fields and headers.
    const as = (id: string, secret: string): Record<string, [Record<string, string>, Record<string, string>]> => ({
      client_secret_basic: [{}, { authorization: basic(id, secret) }],
      client_secret_post: [{ client_id: id, client_secret: secret }, {}],
      none: [{}, {}],
    });
    const target = await session();
    for (const method of body.introspection_endpoint_auth_methods_supported as string[]) {
      const [fields, headers] = as('api', CONFIDENTIAL_SECRET)[method]!;
      const response = await form('/introspect', { token: target.access_token, ...fields }, headers);
      assert.equal(response.statusCode, 200, `${method}: ${response.body}`);
      assert.equal(response.json().active, true);
    }
    for (const method of body.revocation_endpoint_auth_methods_supported as string[]) {
      // "none" is the built-in public client, which owns the tokens of requests naming no client.
      const token = (method === 'none' ? await session() : await sessionOf('webapp', WEBAPP_SECRET)).refresh_token;
      const [fields, headers] = as('webapp', WEBAPP_SECRET)[method]!;
      const response = await form('/revoke', { token, ...fields }, headers);
      assert.equal(response.statusCode, 200, `${method}: ${response.body}`);
      assert.equal((await form('/introspect', { token }, { authorization: basic('api', CONFIDENTIAL_SECRET) })).json().active, false, method);
    }
  });
});
