import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, listenOnLoopback, login, type TestApp } from './helpers/test-app.js';

/*
 * A protected route checks its token when the headers arrive, but its handler runs only once the
 * body has: up to the request timeout later. Whatever happened to the token's session, user or
 * scopes meanwhile must count, as it would have counted had the body come at once.
 */

let t: TestApp;
let port: number;
before(async () => {
  t = await createTestApp();
  port = await listenOnLoopback(t);
});
after(() => t.close());

let admins = 0;
/** A new admin user and a token of theirs with the admin scope, seen once by the server (so cached). */
async function newAdmin(): Promise<{ username: string; token: string }> {
  const username = `root${admins++}`;
  await t.services.users.create({ username, password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  const token = await login(t.app, username, 'a-long-admin-password', 'admin me');
  assert.equal((await asAdmin(token, 'GET', '/admin/users')).statusCode, 200);
  return { username, token };
}

function asAdmin(token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: Record<string, unknown>) {
  return t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });
}

/**
 * Sends a JSON request's headers on a real connection, waits until the server has checked them,
 * runs `meanwhile`, then sends the body; resolves with the status line and body of the answer.
 */
async function withSlowBody(method: string, url: string, token: string, body: unknown, meanwhile: () => Promise<void>): Promise<{ status: number; headers: string; body: string }> {
  const payload = JSON.stringify(body);
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    `${method} ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n`,
  );
  // The headers are checked at once (the token is cached); the body is what takes its time.
  await sleep(150);
  assert.equal(data, '', 'nothing is answered before the body arrives');
  await meanwhile();
  socket.write(payload);
  const timer = setTimeout(() => socket.destroy(), 5000);
  await closed;
  clearTimeout(timer);
  const split = data.indexOf('\r\n\r\n');
  return { status: Number(data.split(' ')[1]), headers: data.slice(0, split).toLowerCase(), body: data.slice(split + 4) };
}

const exists = async (token: string, username: string) => (await asAdmin(token, 'GET', `/admin/users/${username}`)).statusCode === 200;

describe('a token is checked again once the body has arrived', () => {
  test('an admin token whose session ends while the body trickles in creates no user: 401 invalid_token', async () => {
    const { token } = await newAdmin();
    const witness = await newAdmin();
    const response = await withSlowBody('POST', '/admin/users', token, { username: 'created-late-1', password: 'a-long-new-password' }, async () => {
      assert.equal((await asAdmin(token, 'POST', '/logout')).statusCode, 204);
    });
    assert.equal(response.status, 401, response.body);
    assert.deepEqual(JSON.parse(response.body), { detail: 'Could not validate credentials' });
    assert.match(response.headers, /\r\nwww-authenticate: bearer error="invalid_token"/);
    assert.equal(await exists(witness.token, 'created-late-1'), false, 'the user was not created');
  });

  test('an admin disabled meanwhile creates no user: 400 Inactive user', async () => {
    const { username, token } = await newAdmin();
    const other = await newAdmin();
    const response = await withSlowBody('POST', '/admin/users', token, { username: 'created-late-2', password: 'a-long-new-password' }, async () => {
      assert.equal((await asAdmin(other.token, 'POST', `/admin/users/${username}/disable`)).statusCode, 200);
    });
    assert.equal(response.status, 400, response.body);
    assert.deepEqual(JSON.parse(response.body), { detail: 'Inactive user' });
    assert.equal(await exists(other.token, 'created-late-2'), false, 'the user was not created');
  });

  test('an admin whose admin scope is removed meanwhile creates no user: 403 insufficient_scope', async () => {
    const { username, token } = await newAdmin();
    const other = await newAdmin();
    const response = await withSlowBody('POST', '/admin/users', token, { username: 'created-late-3', password: 'a-long-new-password' }, async () => {
      assert.equal((await asAdmin(other.token, 'PUT', `/admin/users/${username}/scopes`, { scopes: ['me'] })).statusCode, 200);
    });
    assert.equal(response.status, 403, response.body);
    assert.deepEqual(JSON.parse(response.body), { detail: 'Not enough permissions' });
    assert.match(response.headers, /\r\nwww-authenticate: bearer error="insufficient_scope", scope="admin"/);
    assert.equal(await exists(other.token, 'created-late-3'), false, 'the user was not created');
  });

  test('a password change whose session ends meanwhile changes nothing: 401 invalid_token', async () => {
    const token = await login(t.app, 'johndoe', 'secret', 'me');
    const response = await withSlowBody(
      'PUT',
      '/users/me/password',
      token,
      { current_password: 'secret', new_password: 'a-changed-long-password' },
      async () => {
        assert.equal((await asAdmin(token, 'POST', '/logout/all')).statusCode, 204);
      },
    );
    assert.equal(response.status, 401, response.body);
    assert.deepEqual(JSON.parse(response.body), { detail: 'Could not validate credentials' });
    assert.equal(typeof (await login(t.app, 'johndoe', 'secret')), 'string', 'the old password still works');
  });

  test('with nothing changed meanwhile, the slow request succeeds', async () => {
    const { token } = await newAdmin();
    const response = await withSlowBody('POST', '/admin/users', token, { username: 'created-late-4', password: 'a-long-new-password' }, async () => {});
    assert.equal(response.status, 201, response.body);
    assert.equal(await exists(token, 'created-late-4'), true);
  });
});
