import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, listenOnLoopback, login, type TestApp } from './helpers/test-app.js';

/** Behaviour at the level of bytes on a socket: what app.inject cannot send. */

let t: TestApp;
let port: number;
let admin: string;
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
  port = await listenOnLoopback(t);
});
after(() => t.close());

/** Opens a connection and writes `bytes`; the caller decides how it ends. */
async function open(bytes: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString()));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(bytes);
  return { socket, received: () => data, closed };
}

/** Log lines at warn or above, audit events aside. */
const warnings = () => t.logs.filter((line) => (line.level as number) >= 40);

describe('a client that aborts its request', () => {
  const heads = () => [
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n',
    `POST /admin/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
  ];

  test('mid-body is not logged as a database outage (was WARN "database unavailable", reason "aborted")', async () => {
    const before = t.logs.length;
    for (const head of heads()) {
      const { socket, closed } = await open(`${head}${'x'.repeat(10)}`);
      await sleep(50);
      socket.destroy();
      await closed;
    }
    await sleep(200);
    const lines = t.logs.slice(before);
    assert.equal(lines.some((line) => line.msg === 'database unavailable'), false, JSON.stringify(lines));
    assert.deepEqual(warnings().filter((line) => t.logs.indexOf(line) >= before), []);
  });

  test('half-closed mid-body, it is answered 400, never 503', async () => {
    for (const head of heads()) {
      const { socket, received, closed } = await open(`${head}${'x'.repeat(10)}`);
      await sleep(50);
      socket.end();
      await closed;
      assert.match(received(), /^HTTP\/1\.1 400 /);
    }
    assert.equal(t.logs.some((line) => line.msg === 'database unavailable'), false);
  });

  test('the audit line of a request it aborted while it ran still carries the client address (it had no ip field)', async () => {
    const form = 'username=johndoe&password=secret';
    const token = await login(t.app);
    for (const [event, bytes] of [
      ['login.success', `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`],
      ['logout', `POST /logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 0\r\n\r\n`],
    ] as const) {
      const before = t.logs.length;
      const received = new Promise((resolve) => t.app.server.once('request', resolve));
      const { socket, closed } = await open(bytes);
      await received;
      // A reset, not a FIN: the server's socket is destroyed at once, its address gone.
      socket.resetAndDestroy();
      await closed;
      let line: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && line === undefined; i++) {
        await sleep(20);
        line = t.logs.slice(before).find((entry) => entry.audit === event);
      }
      assert.equal(line?.ip, '127.0.0.1', JSON.stringify(line));
    }
  });
});

describe('a client that resets the connection as soon as it has written', () => {
  test('is never served without an address: no failure escapes the per-address count, no audit line lacks ip', async () => {
    const before = t.logs.length;
    const form = 'username=johndoe&password=wrong-password';
    const bytes = `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`;
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise<void>((resolve) => socket.once('connect', resolve));
        socket.write(bytes);
        socket.resetAndDestroy();
      }),
    );
    await sleep(1500);
    const lines = t.logs.slice(before);
    // The reset raced the connection's setup: @fastify/rate-limit threw on an undefined address,
    // logging a stack trace and letting the failure through uncounted.
    assert.deepEqual(lines.filter((line) => /rate limit unavailable/.test(String(line.msg))), []);
    for (const line of lines.filter((entry) => typeof entry.audit === 'string')) assert.equal(line.ip, '127.0.0.1', JSON.stringify(line));
  });
});

describe('a client that half-closes its side after its request', () => {
  test('is answered, then the server closes the connection (async routes were never answered)', async () => {
    for (const [method, url, status] of [
      ['GET', '/users/me', 200],
      ['POST', '/logout', 204],
      ['GET', '/healthz', 200],
    ] as const) {
      // A fresh token: the route reads the database before it answers.
      const token = await login(t.app);
      const accepted = new Promise<Socket>((resolve) => t.app.server.once('connection', resolve));
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const serverSide = await accepted;
      const serverClosed = new Promise<void>((resolve) => serverSide.once('close', () => resolve()));
      socket.end(`${method} ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n${method === 'POST' ? 'Content-Length: 0\r\n' : ''}\r\n`);
      const timer = setTimeout(() => socket.destroy(), 5000);
      await closed;
      clearTimeout(timer);
      assert.equal(parse(data).status, status, `${method} ${url}: ${data}`);
      await Promise.race([serverClosed, sleep(2000).then(() => assert.fail(`${method} ${url}: the server kept its side open`))]);
    }
  });

  test('with no request, or one cut short, the server closes its side too (nothing lingers half-open)', async () => {
    for (const [bytes, status] of [
      ['', undefined],
      ['GET /users/me HTTP/1.1\r\nHost: x\r\n', 400],
      ['POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nabc', 400],
    ] as const) {
      const accepted = new Promise<Socket>((resolve) => t.app.server.once('connection', resolve));
      const { socket, received, closed } = await open('');
      const serverClosed = new Promise<void>((resolve) => void accepted.then((serverSide) => serverSide.once('close', () => resolve())));
      await accepted;
      socket.end(bytes);
      await Promise.race([Promise.all([closed, serverClosed]), sleep(2000).then(() => assert.fail(`${JSON.stringify(bytes)}: still open`))]);
      assert.equal(received() === '' ? undefined : parse(received()).status, status, received());
    }
  });

  test('pipelined requests before the half-close are all answered', async () => {
    const token = await login(t.app);
    const { socket, received, closed } = await open('');
    socket.end(
      `GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n` +
        `POST /logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 0\r\n\r\n` +
        `GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    const timer = setTimeout(() => socket.destroy(), 5000);
    await closed;
    clearTimeout(timer);
    assert.deepEqual([...received().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1])), [200, 204, 401], received());
  });
});

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Parses the first response in `raw`. */
function parse(raw: string): RawResponse {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/** Sends `bytes` and returns what came back once the server closed the connection. */
async function exchange(bytes: string): Promise<RawResponse> {
  const { received, closed, socket } = await open(bytes);
  const timer = setTimeout(() => socket.destroy(), 5000);
  await closed;
  clearTimeout(timer);
  return parse(received());
}

/** The security headers every JSON answer carries (README: "Every response carries security headers"). */
function assertSecurityHeaders(response: RawResponse, what: string): void {
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(response.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/, `${what}: CSP`);
  assert.equal(response.headers.get('cache-control'), 'no-store', `${what}: no-store`);
}

describe('answers Node makes before any route', () => {
  test('malformed framing, oversized headers and bad chunks carry the security headers (they had none)', async () => {
    const cases: [string, string, number][] = [
      ['a malformed request line', 'GARBAGE\r\n\r\n', 400],
      ['a header without a colon', 'GET /users/me HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n', 400],
      ['headers over 16 KiB', `GET /users/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      [
        'a bad chunk size',
        'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n',
        400,
      ],
      ['two Content-Lengths', 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg', 400],
    ];
    for (const [what, bytes, status] of cases) {
      const response = await exchange(bytes);
      assert.equal(response.status, status, `${what}: ${JSON.stringify(response)}`);
      assertSecurityHeaders(response, what);
      const body = JSON.parse(response.body) as Record<string, string>;
      assert.equal(body.error, 'invalid_request', what);
      assert.equal(body.detail, body.error_description, what);
    }
  });

  test('an HTTP/1.1 request without Host is refused 400 by the app, with its headers and body (was a bare 400)', async () => {
    const me = await exchange('GET /users/me HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(me.status, 400);
    assertSecurityHeaders(me, 'GET /users/me without Host');
    assert.deepEqual(JSON.parse(me.body), { detail: 'The request has no Host header' });
    const logins = t.logs.filter((line) => line.audit === 'login.success').length;
    const form = 'username=johndoe&password=secret';
    const token = await exchange(
      `POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\nConnection: close\r\n\r\n${form}`,
    );
    assert.equal(token.status, 400);
    assertSecurityHeaders(token, 'POST /token without Host');
    assert.equal(JSON.parse(token.body).error, 'invalid_request');
    assert.equal(t.logs.filter((line) => line.audit === 'login.success').length, logins, 'nothing was processed');
  });

  test('HTTP/1.0 needs no Host', async () => {
    const response = await exchange('GET /healthz HTTP/1.0\r\n\r\n');
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { status: 'ok' });
  });

  test('an Expect other than 100-continue is refused 417 by the app, with its headers and body (was a bare 417)', async () => {
    const me = await exchange(`GET /users/me HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nConnection: close\r\n\r\n`);
    assert.equal(me.status, 417);
    assertSecurityHeaders(me, 'GET /users/me with Expect');
    assert.deepEqual(JSON.parse(me.body), { detail: 'Only the expectation 100-continue is supported' });
    const token = await exchange('POST /token HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.equal(token.status, 417);
    assertSecurityHeaders(token, 'POST /token with Expect');
    assert.equal(JSON.parse(token.body).error, 'invalid_request');
  });

  test('Expect: 100-continue still gets 100 Continue, then the answer', async () => {
    const body = 'username=johndoe&password=secret';
    const { socket, received, closed } = await open(
      `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    for (let i = 0; i < 50 && !received().includes('100 Continue'); i++) await sleep(20);
    assert.match(received(), /^HTTP\/1\.1 100 Continue\r\n\r\n/);
    socket.write(body);
    await closed;
    const answer = parse(received().slice(received().indexOf('\r\n\r\n') + 4));
    assert.equal(answer.status, 200);
    assert.equal(typeof JSON.parse(answer.body).access_token, 'string');
  });
});

describe('a request refused before its body, whose body then comes malformed', () => {
  test('gets one answer, the refusal, and the connection closes (a 400 used to follow it)', async () => {
    // No token: 401 is decided before the body is read; then the chunked framing breaks.
    const { socket, received, closed } = await open(
      'PUT /users/me/password HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    for (let i = 0; i < 40 && !received().includes('}'); i++) await sleep(25);
    assert.match(received(), /^HTTP\/1\.1 401 /);
    socket.write('not-a-chunk-size\r\n\r\n');
    await closed;
    assert.equal(received().match(/HTTP\/1\.1 \d{3} /g)?.length, 1, received());
  });
});

describe('a request body that trickles in', () => {
  test('is cut off with 408 after GATEHOUSE_REQUEST_TIMEOUT (the socket stayed open over 100 s)', async (c) => {
    const slow = await createTestApp({ env: { GATEHOUSE_REQUEST_TIMEOUT: '1' } });
    c.after(() => slow.close());
    await slow.app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect((slow.app.server.address() as { port: number }).port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    socket.write('POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n');
    // One byte every 200 ms: never idle long, never done.
    const drip = setInterval(() => socket.writable && socket.write('a'), 200);
    const deadline = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearInterval(drip);
    clearTimeout(deadline);
    const elapsed = Date.now() - started;
    // The timeout, plus up to one check interval (1 s), plus slack for a slow machine.
    assert.ok(elapsed >= 900 && elapsed < 4000, `closed after ${elapsed} ms`);
    const response = parse(data);
    assert.equal(response.status, 408, data);
    assertSecurityHeaders(response, '408');
    assert.equal(response.headers.get('connection'), 'close');
    await sleep(100);
    assert.deepEqual(slow.logs.filter((line) => (line.level as number) >= 40), [], 'a slow client is not a server problem');
  });

  test('the timeout is configurable, 30 s by default', () => {
    assert.equal(t.config.requestTimeout, 30);
  });
});

describe('header fields that make a request ambiguous', () => {
  const loginForm = 'username=johndoe&password=secret';
  const logins = () => t.logs.filter((line) => line.audit === 'login.success').length;

  test('more than one Host header is refused 400, in HTTP/1.1 and 1.0 (the first was used)', async () => {
    for (const bytes of [
      'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: a\r\nHOST: a\r\nConnection: close\r\n\r\n',
      'GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n',
    ]) {
      const response = await exchange(bytes);
      assert.equal(response.status, 400, bytes);
      assertSecurityHeaders(response, bytes);
      assert.deepEqual(JSON.parse(response.body), { detail: 'The request has more than one Host header' });
    }
    const before = logins();
    const token = await exchange(
      `POST /token HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${loginForm.length}\r\nConnection: close\r\n\r\n${loginForm}`,
    );
    assert.equal(token.status, 400);
    assert.deepEqual(JSON.parse(token.body), {
      error: 'invalid_request',
      error_description: 'The request has more than one Host header',
      detail: 'The request has more than one Host header',
    });
    assert.equal(logins(), before, 'nothing was processed');
  });

  test('a Host that is not host[:port] is refused 400; an empty one, an IP literal or a port are served', async () => {
    for (const host of ['a b', 'a, b', 'x:abc', 'a@b', 'a/b', 'x:80:80', '[zz]', 'a%zz']) {
      const response = await exchange(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(response.status, 400, host);
      assertSecurityHeaders(response, host);
      assert.deepEqual(JSON.parse(response.body), { detail: 'The Host header is not a valid host and port' }, host);
    }
    for (const host of ['', 'gatehouse.test', '127.0.0.1:8000', '[::1]:80', '[v1.x]', 'x:', 'a%20b', 'a_b~c']) {
      const response = await exchange(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(response.status, 200, `Host: ${host}`);
    }
  });

  test('more than one Authorization header is refused 400 invalid_request (the first was used)', async () => {
    const me = await exchange(`GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nauthorization: Bearer other\r\nConnection: close\r\n\r\n`);
    assert.equal(me.status, 400);
    assertSecurityHeaders(me, 'GET /users/me');
    assert.deepEqual(JSON.parse(me.body), { detail: 'The request has more than one Authorization header' });
    const before = logins();
    const basic = `Basic ${Buffer.from('gatehouse:').toString('base64')}`;
    const token = await exchange(
      `POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nAuthorization: ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `Content-Length: ${loginForm.length}\r\nConnection: close\r\n\r\n${loginForm}`,
    );
    assert.equal(token.status, 400);
    assert.equal(JSON.parse(token.body).error, 'invalid_request');
    assert.equal(JSON.parse(token.body).detail, 'The request has more than one Authorization header');
    assert.equal(logins(), before, 'nothing was processed');
  });

  test('a transfer coding other than chunked is refused 400 (the body was read as if only chunked)', async () => {
    const before = logins();
    const chunked = `${loginForm.length.toString(16)}\r\n${loginForm}\r\n0\r\n\r\n`;
    for (const codings of ['Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked', 'Transfer-Encoding: identity, chunked']) {
      const response = await exchange(
        `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n${codings}\r\nConnection: close\r\n\r\n${chunked}`,
      );
      assert.equal(response.status, 400, codings);
      assertSecurityHeaders(response, codings);
      assert.deepEqual(JSON.parse(response.body), {
        error: 'invalid_request',
        error_description: 'Only the chunked transfer coding is supported',
        detail: 'Only the chunked transfer coding is supported',
      });
    }
    assert.equal(logins(), before, 'nothing was processed');
    const plain = await exchange(
      `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n${chunked}`,
    );
    assert.equal(plain.status, 200, plain.body);
  });

  test('CONNECT is answered 405 with an empty Allow and the error body, and the connection closed (it was dropped unanswered)', async () => {
    for (const target of ['example.com:443', '127.0.0.1:8000']) {
      const started = Date.now();
      const response = await exchange(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      assert.ok(Date.now() - started < 3000, 'the server closed the connection');
      assert.equal(response.status, 405, target);
      assert.equal(response.headers.get('allow'), '');
      assertSecurityHeaders(response, `CONNECT ${target}`);
      assert.equal(response.headers.get('connection'), 'close');
      assert.deepEqual(JSON.parse(response.body), { error: 'invalid_request', error_description: 'Method Not Allowed', detail: 'Method Not Allowed' });
    }
  });
});
