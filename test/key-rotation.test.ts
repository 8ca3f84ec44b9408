import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { createAuthServices } from '../src/auth/auth-services.js';
import { KeyRing } from '../src/auth/key-ring.js';
import { buildApp } from '../src/app.js';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

const me = (app: TestApp['app'], token: string) => app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
const jwksKids = async (app: TestApp['app']) =>
  ((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('signing key rotation', () => {
  test('a rotated key becomes current; tokens of the old key verify until they expire, then the old key leaves the JWKS', async () => {
    const before = await login(t.app);
    const oldKid = decodeProtectedHeader(before).kid!;
    const newKid = await KeyRing.rotate(t.services.store, 'ES256', t.clock);
    await t.services.keys.reload();

    const after = await login(t.app);
    assert.equal(decodeProtectedHeader(after).kid, newKid);
    assert.deepEqual((await jwksKids(t.app)).sort(), [oldKid, newKid].sort());
    assert.equal((await me(t.app, before)).statusCode, 200);
    assert.equal((await me(t.app, after)).statusCode, 200);

    // Past one token lifetime, plus reload interval and leeway, the old key is no longer trusted.
    t.clock.advance(900_000 + 30_000 + 30_000 + 1);
    await t.services.keys.reload();
    assert.deepEqual(await jwksKids(t.app), [newKid]);
    assert.equal((await me(t.app, before)).statusCode, 401);
  });

  test('another instance on the same database accepts a new key\'s tokens at once, without waiting for its reload', async () => {
    const otherServices = await createAuthServices(t.config, t.services.store, t.clock);
    const other = await buildApp(t.config, otherServices, { logger: false });
    try {
      t.clock.advance(10_000);
      const newKid = await KeyRing.rotate(t.services.store, 'ES256', t.clock);
      await t.services.keys.reload();
      const token = await login(t.app);
      assert.equal(decodeProtectedHeader(token).kid, newKid);
      assert.equal((await me(other, token)).statusCode, 200);
      assert.equal(otherServices.keys.current.kid, newKid);
    } finally {
      await other.close();
    }
  });

  test('an unknown kid does not make the server re-read its keys more than once per few seconds', async () => {
    let reads = 0;
    const store = t.services.store;
    const original = store.listSigningKeys.bind(store);
    store.listSigningKeys = async () => {
      reads += 1;
      return original();
    };
    try {
      const [h, p, s] = (await login(t.app)).split('.');
      const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
      for (let i = 0; i < 20; i++) {
        const forged = `${Buffer.from(JSON.stringify({ ...header, kid: `nope-${i}` })).toString('base64url')}.${p}.${s}`;
        assert.equal((await me(t.app, forged)).statusCode, 401);
      }
      assert.ok(reads <= 1, `${reads} reloads`);
    } finally {
      store.listSigningKeys = original;
    }
  });
});
