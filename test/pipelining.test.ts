import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, listenOnLoopback, login, type TestApp } from './helpers/test-app.js';
import { MAX_QUEUED_REQUESTS } from '../src/http/pipelined-requests.js';

/*
 * Requests pipelined on one connection (RFC 9112 §9.3.2): written back to back, before any answer.
 * Those after an unsafe request must see what it did.
 */

let t: TestApp;
let port: number;
before(async () => {
  t = await createTestApp();
  port = await listenOnLoopback(t);
});
after(() => t.close());

/** A token of johndoe that the server has already seen, so it is admitted without a database read. */
async function seenToken(): Promise<string> {
  const token = await login(t.app);
  assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
  return token;
}

const request = (method: string, url: string, token?: string, last = false) =>
  `${method} ${url} HTTP/1.1\r\nHost: x\r\n${token === undefined ? '' : `Authorization: Bearer ${token}\r\n`}` +
  `${method === 'GET' ? '' : 'Content-Length: 0\r\n'}${last ? 'Connection: close\r\n' : ''}\r\n`;

/** Writes `requests` in one write and returns the status of every answer, in order. */
async function pipeline(...requests: string[]): Promise<{ statuses: number[]; raw: string }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let raw = '';
  socket.on('data', (chunk) => (raw += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(requests.join(''));
  const timer = setTimeout(() => socket.destroy(), 5000);
  await closed;
  clearTimeout(timer);
  return { statuses: [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1])), raw };
}

describe('pipelined requests', () => {
  test('GET /users/me pipelined after POST /logout with the same token is 401 invalid_token (was 200)', async () => {
    const token = await seenToken();
    const { statuses, raw } = await pipeline(request('POST', '/logout', token), request('GET', '/users/me', token, true));
    assert.deepEqual(statuses, [204, 401], raw);
    assert.match(raw, /www-authenticate: Bearer error="invalid_token"/);
    assert.match(raw, /\{"detail":"Could not validate credentials"\}$/);
  });

  test('each request after an unsafe one waits for it, in order, whatever comes between', async () => {
    const token = await seenToken();
    const { statuses, raw } = await pipeline(
      request('GET', '/users/me', token),
      request('POST', '/logout', undefined), // refused: no token; the next request still runs
      request('GET', '/users/me', token),
      request('POST', '/logout', token),
      request('GET', '/users/me', token),
      request('GET', '/healthz', undefined, true),
    );
    assert.deepEqual(statuses, [200, 401, 200, 204, 401, 200], raw);
  });

  test('an unsafe request waits for the answers to those before it: GET /users/me then POST /logout is 200, 204 (was at times 401, 204)', async () => {
    // A fresh token is read from the database, so the GET would otherwise race the logout.
    for (let i = 0; i < 40; i++) {
      const token = await login(t.app);
      const { statuses, raw } = await pipeline(request('GET', '/users/me', token), request('POST', '/logout', token, true));
      assert.deepEqual(statuses, [200, 204], `run ${i}: ${raw}`);
    }
  });

  test('requests held behind an unsafe one on a connection the client resets are dropped, and the server carries on', async () => {
    const token = await seenToken();
    const before = t.logs.length;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.on('error', () => {});
    // A login hashes a password, so the logout behind it is still held when the connection closes.
    const form = 'username=johndoe&password=secret';
    socket.write(
      `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}` +
        request('POST', '/logout', token) +
        request('GET', '/users/me', token),
    );
    await sleep(2);
    // A reset: a FIN alone only says the client has sent all its requests, and they are answered.
    socket.resetAndDestroy();
    await sleep(300);
    // The held logout never ran: the token still works.
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
    assert.deepEqual(t.logs.slice(before).filter((line) => (line.level as number) >= 40), []);
    const { statuses } = await pipeline(request('POST', '/logout', token), request('GET', '/users/me', token, true));
    assert.deepEqual(statuses, [204, 401]);
  });
});

describe('a malformed request pipelined after valid ones', () => {
  const form = 'username=johndoe&password=secret';
  const tokenRequest = (close: boolean) =>
    `POST /token HTTP/1.1\r\nHost: a\r\n${close ? 'Connection: close\r\n' : ''}Content-Type: application/x-www-form-urlencoded\r\n` +
    `Content-Length: ${form.length}\r\n\r\n${form}`;

  test('the requests before it are answered first, then it is refused and the connection closed (the refusal cut their answers off)', async () => {
    const cases: [string, number][] = [
      ['BLAH BLAH\r\n\r\n', 400],
      [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ];
    for (const [malformed, status] of cases) {
      const token = await seenToken();
      const { statuses, raw } = await pipeline(request('GET', '/users/me', token), request('POST', '/logout', token), malformed);
      assert.deepEqual(statuses, [200, 204, status], raw);
      assert.match(raw, /Connection: close\r\n\r\n\{"error":"invalid_request"/);
      assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
    }
    const login = await pipeline(tokenRequest(false), 'BLAH BLAH\r\n\r\n');
    assert.deepEqual(login.statuses, [200, 400], login.raw);
    assert.match(login.raw, /"access_token":"/);
  });

  test('after an answer with Connection: close, the connection just closes (it was a bare 400, though the login succeeded)', async () => {
    const before = t.logs.length;
    const started = Date.now();
    const { statuses, raw } = await pipeline(tokenRequest(true), request('GET', '/healthz'));
    assert.ok(Date.now() - started < 3000, 'the server closed the connection');
    assert.deepEqual(statuses, [200], raw);
    assert.match(raw, /connection: close/i);
    assert.match(raw, /"access_token":"[^"]+"/);
    assert.equal(t.logs.slice(before).filter((line) => line.audit === 'login.success').length, 1);
  });

  test('a client gone before the answers gets nothing more, and the server carries on', async () => {
    const before = t.logs.length;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.on('error', () => {});
    socket.write(tokenRequest(false) + 'BLAH BLAH\r\n\r\n');
    await sleep(2);
    socket.resetAndDestroy();
    await sleep(300);
    assert.deepEqual(t.logs.slice(before).filter((line) => (line.level as number) >= 40), []);
    assert.deepEqual((await pipeline(request('GET', '/healthz', undefined, true))).statuses, [200]);
  });
});

describe('a client that pipelines more than a connection may hold', () => {
  test(`past ${MAX_QUEUED_REQUESTS} requests waiting for answers, the connection is closed and the rest dropped (all 1,600 were queued)`, async () => {
    const token = await seenToken();
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // A safe request behind an unsafe one waits for it: the logout holds the 200 GETs behind it.
    const logout = `POST /logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 0\r\n\r\n`;
    socket.write(logout + 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
    await closed;
    const answers = received.match(/HTTP\/1\.1 \d{3} /g) ?? [];
    assert.ok(answers.length <= MAX_QUEUED_REQUESTS + 1, `${answers.length} answers`);
  });
});
