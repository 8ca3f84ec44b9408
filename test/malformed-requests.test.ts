import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

function assertOAuthBody(response: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, error: string) {
  assert.equal(response.statusCode, status);
  const body = response.json();
  assert.equal(body.error, error);
  assert.equal(body.detail, body.error_description);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers.pragma, 'no-cache');
}

/** Sends raw bytes to a listening server and returns the raw response. */
async function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
  });
}

describe('malformed requests (regressions from the attack review)', () => {
  test('any other method on /token, even TRACE or PROPFIND, is 405 Allow: POST with the OAuth body', async () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'] as const) {
      const response = await t.app.inject({ method, url: '/token' });
      assert.equal(response.statusCode, 405, method);
      assert.equal(response.headers.allow, 'POST', method);
      assert.equal(response.headers['cache-control'], 'no-store', method);
      if (method !== 'HEAD') assert.equal(response.json().error, 'invalid_request', method);
    }
  });

  test('a percent-encoded OAuth path refused with 405 gets the OAuth body, as the router serves it as that path', async () => {
    for (const [url, allow] of [['/%74oken', 'POST'], ['/toke%6E', 'POST'], ['/%72evoke', 'POST'], ['/introspec%74', 'POST']] as const) {
      const response = await t.app.inject({ method: 'GET', url });
      assertOAuthBody(response, 405, 'invalid_request');
      assert.equal(response.headers.allow, allow, url);
    }
    const served = await t.app.inject({
      method: 'POST',
      url: '/%74oken',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=johndoe&password=secret',
    });
    assert.equal(served.statusCode, 200, 'the router serves it as /token');
  });

  test('a path with characters the router gives meaning to (* : ( )) is a 404 or 405, never a 500', async () => {
    for (const [method, url, status, allow] of [
      ['GET', '/admin/users/*/password', 405, 'PUT'],
      ['GET', '/admin/users/a(b)/disable', 405, 'POST'],
      ['POST', '/token*', 404, undefined],
      ['GET', '/users/me/*', 404, undefined],
      ['POST', '/docs/(a)', 404, undefined],
    ] as const) {
      const response = await t.app.inject({ method, url });
      assert.equal(response.statusCode, status, `${method} ${url}: ${response.body}`);
      assert.equal(response.headers.allow, allow, `${method} ${url}`);
    }
  });

  test('another method on a route with a path parameter is 405 naming the methods it has, like a fixed path', async () => {
    for (const [method, url, allow] of [
      ['GET', '/admin/users/johndoe/password', 'PUT'],
      ['DELETE', '/admin/users/johndoe', 'GET, HEAD'],
      ['PATCH', '/admin/users/no%20body/disable', 'POST'],
      ['PUT', '/users/me', 'GET, HEAD'],
    ] as const) {
      const response = await t.app.inject({ method, url });
      assert.equal(response.statusCode, 405, `${method} ${url}: ${response.body}`);
      assert.equal(response.headers.allow, allow, `${method} ${url}`);
    }
  });

  test('a method with a body is 405 before the body is read, not a content-type or size error', async () => {
    const json = await t.app.inject({ method: 'PUT', url: '/token', headers: { 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(json.statusCode, 405);
    const big = await t.app.inject({ method: 'PATCH', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a='.padEnd(20_000, 'x') });
    assert.equal(big.statusCode, 405);
  });

  test('a malformed URL gets the catalog error body and no-store, not Fastify\'s', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/token%', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=johndoe&password=secret' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.body.includes('FST_'), false);
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('broken HTTP framing gets a JSON 400 with no-store from the raw socket handler', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const response = await raw(
      port,
      'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg',
    );
    assert.match(response, /^HTTP\/1\.1 400 /);
    assert.match(response, /\r\nCache-Control: no-store\r\n/);
    assert.match(response, /"error":"invalid_request"/);
  });

  test('a Basic header separated by a tab is still client authentication, and a wrong one fails', async () => {
    const response = await postToken(t.app, { username: 'johndoe', password: 'secret' }, { authorization: `Basic\t${Buffer.from('evil:wrong').toString('base64')}` });
    assertOAuthBody(response, 401, 'invalid_client');
  });

  test('a scope of only spaces is invalid_scope, not an empty grant', async () => {
    for (const scope of [' ', '   ']) {
      assertOAuthBody(await postToken(t.app, { username: 'johndoe', password: 'secret', scope }), 400, 'invalid_scope');
    }
  });

  test('a form in another charset, or compressed, is invalid_request', async () => {
    for (const headers of [
      { 'content-type': 'application/x-www-form-urlencoded; charset=ISO-8859-1' },
      { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' },
      { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/token', headers, payload: 'username=johndoe&password=secret' });
      assertOAuthBody(response, 400, 'invalid_request');
    }
    const utf8 = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset="utf-8"' },
      payload: 'username=johndoe&password=secret',
    });
    assert.equal(utf8.statusCode, 200);
  });

  test('/docs/ and /docs/static/ lead to /docs, where the relative tokenUrl resolves to /token', async () => {
    for (const url of ['/docs/', '/docs/static/']) {
      const response = await t.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 302, url);
      assert.equal(new URL(String(response.headers.location), `http://x${url}`).pathname, '/docs');
    }
  });
});
