import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ConfigError, loadConfig } from '../src/config.js';
import { cspHash } from '../src/http/security-headers.js';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

/**
 * Security headers on every response (helmet), CORS only for configured origins, and no stack
 * trace in any error. The CSP's effect on /docs in a real browser is test/docs-browser.test.ts.
 */

const ALLOWED_ORIGIN = 'https://app.example.com';

async function withApp(t: TestContext, env: Record<string, string> = {}): Promise<TestApp> {
  const testApp = await createTestApp({ env });
  t.after(() => testApp.close());
  return testApp;
}

function cspDirectives(response: LightMyRequestResponse): Map<string, string[]> {
  const header = String(response.headers['content-security-policy'] ?? '');
  const directives = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

function assertSecurityHeaders(response: LightMyRequestResponse, what: string): void {
  const h = response.headers;
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(h['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.equal(h['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(h['x-powered-by'], undefined, `${what}: no X-Powered-By`);
  const csp = cspDirectives(response);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${what}: frame-ancestors 'none'`);
  assert.ok(csp.has('default-src'), `${what}: CSP default-src`);
  for (const [name, sources] of csp) {
    for (const source of sources) {
      // Only keywords, hashes and data: — no host or scheme source, so no CDN.
      assert.match(source, /^('self'|'none'|'sha256-[A-Za-z0-9+/=]+'|data:)$/, `${what}: ${name} ${source}`);
    }
  }
  assert.ok(!String(h['content-security-policy']).includes('unsafe'), `${what}: nothing unsafe in the CSP`);
}

function assertNoCors(response: LightMyRequestResponse, what: string): void {
  const cors = Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
  assert.deepEqual(cors, [], `${what}: no CORS headers`);
}

describe('security headers', () => {
  test('on every kind of response: token success and errors, user routes, docs, 404, 405, bad URLs', async (t) => {
    const { app } = await withApp(t);
    const token = await login(app);
    const responses: [string, LightMyRequestResponse, number][] = [
      ['POST /token (success)', await postToken(app, { username: 'johndoe', password: 'secret' }), 200],
      ['POST /token (wrong password)', await postToken(app, { username: 'johndoe', password: 'nope' }), 400],
      ['POST /token (not a form)', await app.inject({ method: 'POST', url: '/token', payload: { a: 1 } }), 400],
      ['GET /token', await app.inject({ method: 'GET', url: '/token' }), 405],
      ['OPTIONS /token', await app.inject({ method: 'OPTIONS', url: '/token' }), 405],
      ['GET /users/me', await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } }), 200],
      ['GET /users/me (no token)', await app.inject({ method: 'GET', url: '/users/me' }), 401],
      ['GET /docs', await app.inject({ method: 'GET', url: '/docs' }), 200],
      ['GET /docs/static/swagger-ui-bundle.js', await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' }), 200],
      ['GET /openapi.json', await app.inject({ method: 'GET', url: '/openapi.json' }), 200],
      ['GET /.well-known/jwks.json', await app.inject({ method: 'GET', url: '/.well-known/jwks.json' }), 200],
      ['GET /nowhere', await app.inject({ method: 'GET', url: '/nowhere' }), 404],
      ['GET a URL that does not decode', await app.inject({ method: 'GET', url: '/%E0%A4%A' }), 400],
    ];
    for (const [what, response, status] of responses) {
      assert.equal(response.statusCode, status, `${what}: ${response.body.slice(0, 200)}`);
      if (what === 'GET a URL that does not decode') {
        // Answered before any hook runs; the same protections are set by hand.
        assert.equal(response.headers['x-content-type-options'], 'nosniff');
        assert.equal(response.headers['x-frame-options'], 'DENY');
        assert.equal(response.headers['referrer-policy'], 'no-referrer');
        assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/);
        continue;
      }
      assertSecurityHeaders(response, what);
      assertNoCors(response, what);
    }
  });

  test("the CSP allows Swagger UI's scripts and styles from the server only, and each inline style it renders by hash", async (t) => {
    const { app } = await withApp(t);
    const csp = cspDirectives(await app.inject({ method: 'GET', url: '/docs' }));
    assert.deepEqual(csp.get('script-src'), ["'self'"]);
    assert.deepEqual(csp.get('object-src'), ["'none'"]);
    assert.deepEqual(csp.get('base-uri'), ["'self'"]);
    // Swagger UI's React components render <style> elements whose text is in the package; each
    // must be allowed by hash, or the docs render without it (a package update may change them).
    const staticDir = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui')), 'static');
    const inlineStyles: string[] = [];
    for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
      const source = readFileSync(join(staticDir, file), 'utf8');
      for (const match of source.matchAll(/createElement\("style",null,("(?:[^"\\]|\\.)*")\)/g)) {
        inlineStyles.push(JSON.parse(match[1]!) as string);
      }
    }
    assert.ok(inlineStyles.length > 0, 'found the inline styles Swagger UI renders');
    for (const style of inlineStyles) assert.ok(csp.get('style-src')?.includes(cspHash(style)), `style allowed: ${style}`);
  });

  test('no stack trace or file path in a 500', async (t) => {
    const testApp = await withApp(t);
    const token = await login(testApp.app);
    // A bug (not an outage) inside the store: a plain Error with a stack full of file paths.
    const store = testApp.services.store;
    for (const method of ['findSessionWithUser', 'findUserByUsername'] as const) {
      const original = store[method];
      t.after(() => { store[method] = original as never; });
      store[method] = (async () => { throw new Error(`boom at ${import.meta.url}`); }) as never;
    }
    for (const [what, response] of [
      ['GET /users/me', await testApp.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })],
      ['POST /token', await postToken(testApp.app, { username: 'johndoe', password: 'secret' })],
    ] as const) {
      assert.equal(response.statusCode, 500, `${what}: ${response.body}`);
      assert.deepEqual(response.json(), { detail: 'Internal Server Error' }, what);
      assert.doesNotMatch(response.body, /\bat\s|\/work\/|node_modules|\.ts\b|\.js\b|boom/, what);
      assertSecurityHeaders(response, what);
    }
    // The cause is logged for operators.
    assert.ok(testApp.logs.some((l) => l.msg === 'unhandled error' && l.err !== undefined));
  });

  test('a database that is gone gives 503 with Retry-After, the documented body and no trace', async (t) => {
    const testApp = await withApp(t);
    const token = await login(testApp.app);
    await testApp.services.store.close();
    const me = await testApp.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
    const tokenResponse = await postToken(testApp.app, { username: 'johndoe', password: 'secret' });
    assert.equal(me.statusCode, 503, me.body);
    assert.deepEqual(me.json(), { detail: 'Service Unavailable' });
    assert.equal(tokenResponse.statusCode, 503, tokenResponse.body);
    assert.deepEqual(tokenResponse.json(), { error: 'temporarily_unavailable', error_description: 'Service Unavailable', detail: 'Service Unavailable' });
    for (const [what, response] of [['GET /users/me', me], ['POST /token', tokenResponse]] as const) {
      assert.equal(response.headers['retry-after'], '1', what);
      assert.equal(response.headers['cache-control'], 'no-store', what);
      assert.doesNotMatch(response.body, /\bat\s|node_modules|\.ts\b|\.js\b/, what);
      assertSecurityHeaders(response, what);
    }
  });
});

describe('CORS', () => {
  const preflight = (origin: string, url = '/token') => ({
    method: 'OPTIONS' as const,
    url,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

  test('off by default: no Access-Control-* header, and a preflight is refused as an unrouted method', async (t) => {
    const { app } = await withApp(t);
    const post = await postToken(app, { username: 'johndoe', password: 'secret' }, { origin: ALLOWED_ORIGIN });
    assert.equal(post.statusCode, 200);
    assertNoCors(post, 'POST /token with an Origin');
    const options = await app.inject(preflight(ALLOWED_ORIGIN));
    assert.equal(options.statusCode, 405);
    assert.equal(options.headers.allow, 'POST');
    assertNoCors(options, 'preflight');
  });

  test('GATEHOUSE_CORS_ORIGINS allows exactly the listed origins', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_CORS_ORIGINS: `${ALLOWED_ORIGIN}, http://localhost:3000` });

    const allowed = await app.inject(preflight(ALLOWED_ORIGIN));
    assert.equal(allowed.statusCode, 204, allowed.body);
    assert.equal(allowed.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
    assert.equal(allowed.headers['access-control-allow-methods'], 'GET, POST, PUT');
    assert.equal(allowed.headers['access-control-allow-headers'], 'Authorization, Content-Type');
    assert.equal(allowed.headers['access-control-allow-credentials'], undefined);
    assertSecurityHeaders(allowed, 'allowed preflight');

    const post = await postToken(app, { username: 'johndoe', password: 'secret' }, { origin: 'http://localhost:3000' });
    assert.equal(post.statusCode, 200);
    assert.equal(post.headers['access-control-allow-origin'], 'http://localhost:3000');
    assert.match(String(post.headers.vary), /Origin/);
    const token = (post.json() as { access_token: string }).access_token;
    const me = await app.inject({ method: 'GET', url: '/users/me', headers: { origin: ALLOWED_ORIGIN, authorization: `Bearer ${token}` } });
    assert.equal(me.statusCode, 200);
    assert.equal(me.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
    const error = await postToken(app, { username: 'johndoe', password: 'nope' }, { origin: ALLOWED_ORIGIN });
    assert.equal(error.statusCode, 400);
    assert.equal(error.headers['access-control-allow-origin'], ALLOWED_ORIGIN, 'a browser app can read the error');

    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com', 'null']) {
      const other = await app.inject(preflight(origin));
      assert.equal(other.statusCode, 405, `preflight from ${origin}`);
      assertNoCors(other, `preflight from ${origin}`);
      const otherPost = await postToken(app, { username: 'johndoe', password: 'secret' }, { origin });
      assertNoCors(otherPost, `POST from ${origin}`);
    }
    // Without CORS in the picture, OPTIONS behaves as before.
    assert.equal((await app.inject({ method: 'OPTIONS', url: '/token' })).statusCode, 405);
    assert.equal((await app.inject({ method: 'OPTIONS', url: '/nowhere' })).statusCode, 404);
  });

  test('configuration: exact http(s) origins only', () => {
    assert.deepEqual(loadConfig({}).corsOrigins, []);
    assert.deepEqual(loadConfig({ GATEHOUSE_CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins, [
      'https://a.example',
      'http://localhost:3000',
    ]);
    for (const bad of ['*', 'https://a.example/', 'https://a.example/app', 'a.example', 'ftp://a.example', 'null']) {
      assert.throws(() => loadConfig({ GATEHOUSE_CORS_ORIGINS: bad }), ConfigError, bad);
    }
  });
});
