import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

function assertNoStore(response: { headers: Record<string, unknown> }) {
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers.pragma, 'no-cache');
}

function assertOAuthError(response: Awaited<ReturnType<typeof postToken>>, status: number, error: string, description?: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json() as Record<string, string>;
  assert.deepEqual(Object.keys(body).sort(), ['detail', 'error', 'error_description']);
  assert.equal(body.error, error);
  assert.equal(body.detail, body.error_description);
  if (description !== undefined) assert.equal(body.error_description, description);
  assertNoStore(response);
}

describe('POST /token, password grant', () => {
  test('johndoe logs in and gets a bearer token with the RFC 6749 §5.1 fields', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'secret' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assertNoStore(response);
    const body = response.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    assert.match(String(body.refresh_token), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 900);
    assert.equal(body.scope, 'me items');
  });

  test('the access token is an RFC 9068 JWT with every claim DESIGN.md names', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'secret', scope: 'me' });
    const token = (response.json() as { access_token: string }).access_token;
    const header = decodeProtectedHeader(token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, 'http://gatehouse.test');
    assert.equal(claims.aud, 'http://gatehouse.test');
    assert.equal(claims.sub, 'johndoe');
    assert.equal(claims.client_id, 'gatehouse');
    assert.equal(claims.scope, 'me');
    assert.equal(claims.iat, Math.floor(t.clock.now() / 1000));
    assert.equal(claims.exp, claims.iat! + 900);
    assert.match(String(claims.jti), /^[A-Za-z0-9_-]{22}$/);
    assert.match(String(claims.sid), /^[A-Za-z0-9_-]{22}$/);
    assert.equal('password' in claims || 'hashed_password' in claims, false);
  });

  test('grant_type=password explicitly works; an empty grant_type counts as omitted (RFC 6749 §3.1)', async () => {
    assert.equal((await postToken(t.app, { grant_type: 'password', username: 'johndoe', password: 'secret' })).statusCode, 200);
    assert.equal((await postToken(t.app, { grant_type: '', username: 'johndoe', password: 'secret' })).statusCode, 200);
  });

  test('charset parameter on the form content type is accepted', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      payload: 'username=johndoe&password=secret',
    });
    assert.equal(response.statusCode, 200);
  });

  test('unknown form fields are ignored', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'secret', color: 'blue' });
    assert.equal(response.statusCode, 200);
  });

  test('unknown user, wrong password and disabled user with wrong password answer identically', async () => {
    const answers = await Promise.all([
      postToken(t.app, { username: 'nobody', password: 'secret' }),
      postToken(t.app, { username: 'johndoe', password: 'wrong' }),
      postToken(t.app, { username: 'alice', password: 'wrong' }),
      postToken(t.app, { username: 'JohnDoe', password: 'secret' }),
    ]);
    for (const response of answers) assertOAuthError(response, 400, 'invalid_grant', 'Incorrect username or password');
    const bodies = new Set(answers.map((r) => r.body));
    assert.equal(bodies.size, 1);
    const headerNames = new Set(answers.map((r) => Object.keys(r.headers).filter((h) => h !== 'date').sort().join(',')));
    assert.equal(headerNames.size, 1);
  });

  test('a disabled user with the right password is told "Inactive user" and gets no token', async () => {
    const response = await postToken(t.app, { username: 'alice', password: 'secret2' });
    assertOAuthError(response, 400, 'invalid_grant', 'Inactive user');
    assert.equal(response.body.includes('access_token'), false);
  });

  test('an unknown user still costs a password verification (no timing shortcut)', async () => {
    let verifications = 0;
    const hasher = t.services.hasher;
    const original = hasher.verifyDummy.bind(hasher);
    hasher.verifyDummy = async (password: string) => {
      verifications += 1;
      return original(password);
    };
    try {
      await postToken(t.app, { username: 'ghost', password: 'x' });
    } finally {
      hasher.verifyDummy = original;
    }
    assert.equal(verifications, 1);
  });

  test('a missing or empty username or password is invalid_request', async () => {
    assertOAuthError(await postToken(t.app, { password: 'secret' }), 400, 'invalid_request', 'Missing required parameter: username');
    assertOAuthError(await postToken(t.app, { username: 'johndoe' }), 400, 'invalid_request', 'Missing required parameter: password');
    assertOAuthError(await postToken(t.app, { username: '', password: 'secret' }), 400, 'invalid_request');
    assertOAuthError(await postToken(t.app, { username: 'johndoe', password: '' }), 400, 'invalid_request');
  });

  test('a repeated parameter is invalid_request', async () => {
    for (const field of ['username', 'password', 'grant_type', 'scope']) {
      const fields: Record<string, string | string[]> = { grant_type: 'password', username: 'johndoe', password: 'secret', scope: 'me' };
      fields[field] = [fields[field] as string, fields[field] as string];
      assertOAuthError(await postToken(t.app, fields), 400, 'invalid_request', `Parameter ${field} must not be repeated`);
    }
  });

  test('other grant types are unsupported_grant_type', async () => {
    for (const grant_type of ['client_credentials', 'authorization_code', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'PASSWORD']) {
      assertOAuthError(await postToken(t.app, { grant_type, username: 'johndoe', password: 'secret' }), 400, 'unsupported_grant_type');
    }
  });

  test('an unknown scope is invalid_scope and is refused before any password check', async () => {
    assertOAuthError(await postToken(t.app, { username: 'johndoe', password: 'secret', scope: 'me superuser' }), 400, 'invalid_scope', 'Unknown scope: superuser');
    assertOAuthError(await postToken(t.app, { username: 'johndoe', password: 'wrong', scope: 'bogus' }), 400, 'invalid_scope');
    const malformed = await postToken(t.app, { username: 'johndoe', password: 'secret', scope: 'me "x"' });
    assertOAuthError(malformed, 400, 'invalid_scope', 'The requested scope is invalid');
  });

  test('scopes: omitted gives the user\'s set, a subset narrows, empty counts as omitted', async () => {
    const scopeOf = async (scope?: string) =>
      (await postToken(t.app, { username: 'johndoe', password: 'secret', ...(scope === undefined ? {} : { scope }) })).json().scope;
    assert.equal(await scopeOf(), 'me items');
    assert.equal(await scopeOf('items'), 'items');
    assert.equal(await scopeOf('items me'), 'me items');
    assert.equal(await scopeOf(''), 'me items');
  });

  test('known scopes the user lacks are dropped, and the response says what was granted', async () => {
    await t.services.users.create({ username: 'carol', password: 'carol-long-password', scopes: ['me'] });
    const response = await postToken(t.app, { username: 'carol', password: 'carol-long-password', scope: 'me items' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().scope, 'me');
  });

  test('a body that is not a form is invalid_request, not 415', async () => {
    for (const [type, payload] of [
      ['application/json', '{"username":"johndoe","password":"secret"}'],
      ['text/plain', 'username=johndoe&password=secret'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\njohndoe\r\n--x--'],
    ] as const) {
      const response = await t.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': type }, payload });
      assertOAuthError(response, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
  });

  test('a request without a body is invalid_request', async () => {
    assertOAuthError(await t.app.inject({ method: 'POST', url: '/token' }), 400, 'invalid_request');
  });

  test('a body over 16 KiB is 413 with the OAuth error body', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'x'.repeat(17 * 1024) });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error, 'invalid_request');
    assertNoStore(response);
  });

  test('a body just under 16 KiB is processed normally', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'x'.repeat(16 * 1024 - 100) });
    assertOAuthError(response, 400, 'invalid_grant');
  });

  test('GET and other methods on /token are 405 with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const response = await t.app.inject({ method, url: '/token' });
      assert.equal(response.statusCode, 405, method);
      assert.equal(response.headers.allow, 'POST');
      assertNoStore(response);
    }
  });

  test('credentials in the query string are refused and nothing is processed', async () => {
    for (const query of ['password=secret', 'username=johndoe', 'client_secret=x', 'refresh_token=x']) {
      const response = await t.app.inject({
        method: 'POST',
        url: `/token?${query}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'username=johndoe&password=secret',
      });
      assertOAuthError(response, 400, 'invalid_request');
    }
  });

  test('credentials are never written to the logs', async () => {
    await postToken(t.app, { username: 'johndoe', password: 'secret' });
    await t.app.inject({ method: 'POST', url: '/token?password=hunter2-in-url', payload: 'x=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const logs = t.logText();
    assert.equal(logs.includes('hunter2-in-url'), false);
    assert.equal(/"password"\s*:/.test(logs), false);
    assert.equal(logs.includes('$argon2'), false);
  });
});

describe('POST /token, client authentication', () => {
  test('an empty HTTP Basic pair (Swagger UI\'s default) means no client authentication', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization: 'Basic Og==' });
    assert.equal(response.statusCode, 200);
  });

  test('the built-in public client may name itself, by Basic or by form', async () => {
    const basic = `Basic ${Buffer.from('gatehouse:').toString('base64')}`;
    assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization: basic })).statusCode, 200);
    assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret', client_id: 'gatehouse' })).statusCode, 200);
  });

  test('an unknown client is 401 invalid_client with a Basic challenge', async () => {
    const basic = `Basic ${Buffer.from('mallory:pw').toString('base64')}`;
    for (const response of [
      await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization: basic }),
      await postToken(t.app, { username: 'johndoe', password: 'secret', client_id: 'mallory' }),
      await postToken(t.app, { username: 'johndoe', password: 'secret', client_id: 'gatehouse', client_secret: 'guess' }),
    ]) {
      assertOAuthError(response, 401, 'invalid_client');
      assert.equal(response.headers['www-authenticate'], 'Basic realm="gatehouse"');
    }
  });

  test('malformed Basic credentials are invalid_client, never a 500', async () => {
    for (const authorization of ['Basic', 'Basic !!!!', 'Basic Zm9v', `Basic ${Buffer.from('%zz:x').toString('base64')}`]) {
      const response = await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization });
      assertOAuthError(response, 401, 'invalid_client');
    }
  });

  test('Basic credentials are form-url-decoded after splitting at the first colon (RFC 6749 §2.3.1)', async () => {
    const basic = `Basic ${Buffer.from('gate%68ouse:').toString('base64')}`;
    assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization: basic })).statusCode, 200);
  });

  test('client credentials by Basic and by form at once are invalid_request', async () => {
    const basic = `Basic ${Buffer.from('gatehouse:').toString('base64')}`;
    const response = await postToken(t.app, { username: 'johndoe', password: 'secret', client_id: 'gatehouse' }, { authorization: basic });
    assertOAuthError(response, 400, 'invalid_request');
  });
});
