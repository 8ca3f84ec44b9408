import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let doc: Record<string, any>;
before(async () => {
  t = await createTestApp();
  const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  doc = response.json();
});
after(() => t.close());

describe('GET /openapi.json', () => {
  test('is OpenAPI 3.1 with the oauth2 password flow, a relative tokenUrl and the known scopes', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.OAuth2PasswordBearer, {
      type: 'oauth2',
      flows: {
        password: {
          tokenUrl: 'token',
          scopes: {
            me: 'Read information about the current user.',
            items: 'Read items.',
            admin: 'Administer users: create, disable, set scopes, reset passwords.',
          },
        },
      },
    });
  });

  test('declares HTTP Basic client authentication (RFC 6749 §2.3.1) as a security scheme', () => {
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['OAuth2PasswordBearer', 'clientBasic']);
    const { description, ...scheme } = doc.components.securitySchemes.clientBasic;
    assert.deepEqual(scheme, { type: 'http', scheme: 'basic' });
    assert.match(description, /client_id and client_secret/);
  });

  test('pins the security requirement of every route, so a change to who may call what is deliberate', () => {
    const bearer = (...scopes: string[]) => [{ OAuth2PasswordBearer: scopes }];
    const admin = bearer('admin');
    // A registered client authenticates with Basic (or form fields); `{}`: no client authentication.
    const clientOrNone = [{ clientBasic: [] }, {}];
    const expected: Record<string, unknown> = {
      'POST /token': clientOrNone,
      'POST /revoke': clientOrNone,
      // RFC 7662 §2.1: an admin's token or a confidential client, never an anonymous caller.
      'POST /introspect': [{ OAuth2PasswordBearer: ['admin'] }, { clientBasic: [] }],
      'POST /logout': bearer(),
      'POST /logout/all': bearer(),
      'GET /users/me': bearer('me'),
      'GET /users/me/items': bearer('items', 'me'),
      'PUT /users/me/password': bearer('me'),
      'POST /admin/users': admin,
      'GET /admin/users': admin,
      'GET /admin/users/{username}': admin,
      'POST /admin/users/{username}/disable': admin,
      'POST /admin/users/{username}/enable': admin,
      'PUT /admin/users/{username}/scopes': admin,
      'PUT /admin/users/{username}/password': admin,
      'GET /.well-known/jwks.json': undefined,
      'GET /.well-known/oauth-authorization-server': undefined,
      'GET /healthz': undefined,
      'GET /readyz': undefined,
    };
    const actual: Record<string, unknown> = {};
    for (const [path, operations] of Object.entries<Record<string, { security?: unknown }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) actual[`${method.toUpperCase()} ${path}`] = operation.security;
    }
    assert.deepEqual(actual, expected);
    // No document-wide requirement: a route without its own is public.
    assert.equal(doc.security, undefined);
  });

  test('documents /token as a form post and hides the 405 stubs and itself', () => {
    const post = doc.paths['/token'].post;
    assert.ok(post.requestBody.content['application/x-www-form-urlencoded']);
    assert.deepEqual(Object.keys(doc.paths['/token']), ['post']);
    assert.equal(doc.paths['/openapi.json'], undefined);
    assert.ok(doc.paths['/.well-known/jwks.json'].get);
  });

  test('never describes a password hash in any response', () => {
    assert.equal(JSON.stringify(doc).includes('hashed_password'), false);
    assert.deepEqual(Object.keys(doc.paths['/users/me'].get.responses['200'].content['application/json'].schema.properties).sort(), [
      'disabled',
      'email',
      'full_name',
      'username',
    ]);
  });
});

describe('GET /docs', () => {
  test('serves Swagger UI whose scripts and styles come from this server, not a CDN', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    const html = page.statusCode === 302 ? (await t.app.inject({ method: 'GET', url: String(page.headers.location) })).body : page.body;
    assert.match(html, /swagger-ui/);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length > 0);
    for (const asset of assets) {
      assert.doesNotMatch(asset, /^(https?:)?\/\//, `asset ${asset} must be local`);
    }
    const bundle = assets.find((a) => a.endsWith('swagger-ui-bundle.js'));
    assert.ok(bundle, 'the Swagger UI bundle is referenced');
    const js = await t.app.inject({ method: 'GET', url: bundle.startsWith('/') ? bundle : `/docs/${bundle.replace(/^\.\//, '')}` });
    assert.equal(js.statusCode, 200);
  });
});
