import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

/**
 * Bodies are UTF-8 (RFC 6749 Appendix B, RFC 8259 §8.1). Bytes that are not were read as U+FFFD,
 * so different passwords became one: \x81\x82\x83\x84 logged in as a password of four U+FFFD.
 */
let t: TestApp;
let admin: string;
const FFFD4 = '\uFFFD'.repeat(4);
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  await t.services.users.create({ username: 'mojibake', password: `${FFFD4}-then-the-rest`, scopes: ['me'] });
  admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
});
after(() => t.close());

const bytes = (...parts: (string | number[] | Buffer)[]) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const form = (url: string, payload: Buffer) =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });

function assertInvalidRequest(response: { statusCode: number; headers: Record<string, unknown>; body: string; json(): any }, what: string) {
  assert.equal(response.statusCode, 400, `${what}: ${response.body}`);
  const body = response.json();
  assert.deepEqual(body, { error: 'invalid_request', error_description: 'The form must be percent-encoded UTF-8', detail: body.error_description }, what);
  assert.equal(response.headers['cache-control'], 'no-store', what);
}

describe('bodies must be UTF-8', () => {
  test('a form whose bytes or percent-escapes are not UTF-8 is invalid_request, not a login as U+FFFD', async () => {
    const login = (password: Buffer) => form('/token', bytes('username=mojibake&password=', password));
    const rest = '-then-the-rest';
    for (const [what, password] of [
      ['raw bytes', bytes([0x81, 0x82, 0x83, 0x84], rest)],
      ['percent-escapes', bytes(`%81%82%83%84${rest}`)],
      ['a truncated sequence', bytes(`%E2%82%81%82%83${rest}`)],
      ['an encoded surrogate', bytes(`%ED%A0%80%81%82${rest}`)],
      ['an overlong encoding', bytes(`%C0%AF%81%82${rest}`)],
    ] as const) {
      assertInvalidRequest(await login(password), what);
    }
    const proper = await login(bytes(`${encodeURIComponent(FFFD4)}${rest}`));
    assert.equal(proper.statusCode, 200, `U+FFFD sent as UTF-8 is the password: ${proper.body}`);
    const raw = await login(bytes(FFFD4, rest));
    assert.equal(raw.statusCode, 200, `unencoded UTF-8 is still read: ${raw.body}`);
  });

  test('a form name, or the body of /revoke and /introspect, that is not UTF-8 is invalid_request', async () => {
    for (const [url, payload] of [
      ['/token', bytes('username=johndoe&password=secret&x', [0xff], '=1')],
      ['/token', bytes('username=johndoe&password=secret&x%FF=1')],
      ['/revoke', bytes('token=abc', [0xfe])],
      ['/revoke', bytes('token=abc%FE')],
      ['/introspect', bytes('token=abc', [0xc3])],
      ['/introspect', bytes('token=abc%C3')],
    ] as const) {
      assertInvalidRequest(await form(url, payload), `${url} ${payload.toString('latin1')}`);
    }
  });

  test('a % that begins no escape is read as itself (WHATWG form parsing), so an unencoded % in a password works', async () => {
    await t.services.users.create({ username: 'percent', password: '100% sure, %zz and 50%', scopes: ['me'] });
    const literal = await form('/token', bytes('username=percent&password=100%+sure,+%zz+and+50%'));
    assert.equal(literal.statusCode, 200, literal.body);
    const encoded = await form('/token', bytes('username=percent&password=100%25+sure,+%25zz+and+50%25'));
    assert.equal(encoded.statusCode, 200, encoded.body);
    // A % before one hex digit at the end is literal too; the name john%2 is no user.
    const unknown = await form('/token', bytes('username=john%2&password=x'));
    assert.equal(unknown.json().error, 'invalid_grant', unknown.body);
  });

  test('HTTP Basic client credentials decode as a form does: a literal % is itself, bytes that are not UTF-8 are refused', async () => {
    const { secret } = await t.services.clientAdmin.create({ id: 'pct', confidential: true, grantTypes: ['password', 'refresh_token'] });
    const basic = (credentials: Buffer) => ({ authorization: `Basic ${credentials.toString('base64')}` });
    const login = (headers: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: 'username=johndoe&password=secret' });
    assert.equal((await login(basic(bytes(`pct:${secret}`)))).statusCode, 200);
    // curl -u 'pct:100%' sends the % unencoded: a wrong secret (401), not a malformed header.
    const literal = await login(basic(bytes('pct:100%')));
    assert.equal(literal.statusCode, 401);
    assert.equal(literal.json().error, 'invalid_client');
    const refusal = t.logs.filter((line) => line.msg === 'request refused').at(-1);
    assert.equal(refusal?.reason, 'wrong client secret');
    // 'pct\xff' would read as 'pct\uFFFD': refused rather than matched against another id.
    const notUtf8 = await login(basic(bytes('pct', [0xff], `:${secret}`)));
    assert.equal(notUtf8.statusCode, 401);
    assert.equal(notUtf8.json().error, 'invalid_client');
  });

  test('a form is still read as before: + is a space, a name without = is empty, repeats are refused', async () => {
    await t.services.users.create({ username: 'spaced', password: 'a long & odd=password+', scopes: ['me'] });
    const spaced = await form('/token', bytes(`username=spaced&password=${encodeURIComponent('a long & odd=password+').replaceAll('%20', '+')}&&flag`));
    assert.equal(spaced.statusCode, 200, spaced.body);
    const repeated = await form('/token', bytes('username=spaced&username=spaced&password=x'));
    assert.equal(repeated.statusCode, 400);
    assert.equal(repeated.json().error_description, 'Parameter username must not be repeated');
    const proto = await form('/token', bytes('__proto__=x&constructor=y&username=spaced&password=a+long+%26+odd%3Dpassword%2B'));
    assert.equal(proto.statusCode, 200, proto.body);
  });

  test('a JSON body that is not UTF-8 is 400 with a detail, not a password or name of U+FFFD', async () => {
    const json = (method: 'POST' | 'PUT', url: string, payload: Buffer, token = admin) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload });
    const own = await login(t.app, 'johndoe', 'secret');
    for (const [method, url, payload, token] of [
      ['POST', '/admin/users', bytes('{"username":"ffd","password":"a-long-password-', [0xff, 0xfe], '"}'), admin],
      ['POST', '/admin/users', bytes('{"username":"ffd","password":"a-long-enough-password","full_name":"', [0xff, 0xfe], '"}'), admin],
      ['PUT', '/admin/users/johndoe/password', bytes('{"password":"a-long-password-', [0x81], '"}'), admin],
      ['PUT', '/users/me/password', bytes('{"current_password":"secret","new_password":"a-long-password-', [0xed, 0xa0, 0x80], '"}'), own],
    ] as const) {
      const response = await json(method, url, payload, token);
      assert.equal(response.statusCode, 400, `${method} ${url}: ${response.body}`);
      assert.deepEqual(response.json(), { detail: 'The body is not valid UTF-8 (RFC 8259 §8.1)' });
    }
    assert.equal(await t.services.users.find('ffd'), undefined);
    assert.equal((await login(t.app, 'johndoe', 'secret')).length > 0, true, 'no password changed');
  });
});
