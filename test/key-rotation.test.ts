import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import { createAuthServices } from '../src/auth/auth-services.js';
import { KEY_RELOAD_INTERVAL_MS, KeyRing } from '../src/auth/key-ring.js';
import { buildApp } from '../src/app.js';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

// A retired key verifies for a reload interval, a token lifetime and the leeway after retirement.
const RETIRED_KEY_HORIZON_MS = KEY_RELOAD_INTERVAL_MS + 900_000 + 30_000;

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

  test('the old key stays in the JWKS and verifies its last token until that token expires, and leaves after', async (t) => {
    // No verified-token cache: every check below goes through the key.
    const app = await createTestApp({ env: { GATEHOUSE_TOKEN_CACHE_SIZE: '0' } });
    t.after(() => app.close());
    const LEEWAY_MS = 30_000;
    const first = await login(app.app);
    const oldKid = decodeProtectedHeader(first).kid!;
    const retiredAt = app.clock.now();
    const newKid = await KeyRing.rotate(app.services.store, 'ES256', app.clock);

    // The old key's last token: signed by an instance that has not reloaded yet, at the last moment.
    app.clock.advance(KEY_RELOAD_INTERVAL_MS - 1);
    const last = await login(app.app);
    assert.equal(decodeProtectedHeader(last).kid, oldKid);
    await app.services.keys.reload();
    const current = await login(app.app);
    assert.equal(decodeProtectedHeader(current).kid, newKid);

    // One millisecond before the last token expires (its exp plus the verifier's leeway)...
    const lastEnds = (decodeJwt(last).exp! * 1000) + LEEWAY_MS;
    app.clock.advance(lastEnds - 1 - app.clock.now());
    await app.services.keys.reload();
    const jwks = (await app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet;
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
    assert.equal((await me(app.app, last)).statusCode, 200);
    // ...and for another service holding only the published JWKS.
    const verified = await jwtVerify(last, createLocalJWKSet(jwks), {
      issuer: app.config.issuer,
      audience: app.config.audience,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      clockTolerance: LEEWAY_MS / 1000,
      currentDate: new Date(app.clock.now()),
    });
    assert.equal(verified.protectedHeader.kid, oldKid);

    app.clock.advance(1);
    assert.equal((await me(app.app, last)).statusCode, 401, 'the last token has expired');

    // Once no token the old key could have signed is still valid, it leaves the JWKS and the verifier.
    app.clock.advance(retiredAt + KEY_RELOAD_INTERVAL_MS + app.config.accessTokenTtl * 1000 + LEEWAY_MS - app.clock.now());
    await app.services.keys.reload();
    assert.deepEqual(await jwksKids(app.app), [newKid]);
    const refused = await me(app.app, last);
    assert.equal(refused.statusCode, 401);
    assert.equal((await me(app.app, current)).statusCode, 401, 'the new key\'s token of then has expired too');
    assert.equal((await me(app.app, await login(app.app))).statusCode, 200);
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

  test('a key of another algorithm made current elsewhere is used, never replaced by one of GATEHOUSE_SIGNING_ALG', async () => {
    const es256 = await createTestApp();
    try {
      assert.equal(es256.config.signingAlg, 'ES256');
      const before = await login(es256.app);
      es256.clock.advance(1_000);
      const rsaKid = await KeyRing.rotate(es256.services.store, 'RS256', es256.clock);
      // What the 30 s timer does: before, this made a new ES256 key and retired the RS256 one.
      await es256.services.keys.reload();
      await es256.services.keys.reload();
      assert.deepEqual(
        (await es256.services.store.listSigningKeys()).map((k) => [k.alg, k.retiredAt === null]),
        [['ES256', false], ['RS256', true]],
        'no key was generated',
      );
      const after = await login(es256.app);
      assert.deepEqual([decodeProtectedHeader(after).alg, decodeProtectedHeader(after).kid], ['RS256', rsaKid]);
      assert.deepEqual([...es256.services.keys.algorithms].sort(), ['ES256', 'RS256']);
      assert.equal((await me(es256.app, before)).statusCode, 200, 'ES256 tokens verify until they expire');
      assert.equal((await me(es256.app, after)).statusCode, 200);

      // Once its last token has expired the ES256 key leaves, and ES256 is no longer accepted.
      es256.clock.advance(RETIRED_KEY_HORIZON_MS + 1);
      await es256.services.keys.reload();
      assert.deepEqual(es256.services.keys.algorithms, ['RS256']);
      assert.deepEqual(await jwksKids(es256.app), [rsaKid]);
      assert.equal((await me(es256.app, before)).statusCode, 401);
      assert.equal(decodeProtectedHeader(await login(es256.app)).alg, 'RS256');
    } finally {
      await es256.close();
    }
  });

  test('another instance accepts tokens of a new algorithm at once, without waiting for its reload', async () => {
    const otherServices = await createAuthServices(t.config, t.services.store, t.clock);
    const other = await buildApp(t.config, otherServices, { logger: false });
    try {
      assert.deepEqual(otherServices.keys.algorithms, ['ES256']);
      t.clock.advance(10_000);
      await KeyRing.rotate(t.services.store, 'EdDSA', t.clock);
      await t.services.keys.reload();
      const token = await login(t.app);
      assert.equal(decodeProtectedHeader(token).alg, 'EdDSA');
      assert.equal((await me(other, token)).statusCode, 200);
      assert.equal(otherServices.keys.current.alg, 'EdDSA');
    } finally {
      await other.close();
    }
  });

  test('verification pins algorithms to the keys: an algorithm no key has, or not its key\'s, is refused', async () => {
    const token = await login(t.app);
    const { kid, alg } = decodeProtectedHeader(token);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const claims = decodeJwt(token) as JWTPayload;
    // RS256 under the current key's kid, and under an unknown kid, signed with a key not in the ring.
    for (const forgedKid of [kid!, 'not-a-key']) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: forgedKid, typ: 'at+jwt' }).sign(rsa);
      const response = await me(t.app, forged);
      assert.equal(response.statusCode, 401, `${alg} ring, RS256 token, kid ${forgedKid}`);
    }
    assert.ok(!t.services.keys.algorithms.includes('RS256'));
  });

  test('tokens naming an algorithm the ring lacks make it re-read its keys at most once per few seconds', async () => {
    let reads = 0;
    const store = t.services.store;
    const original = store.listSigningKeys.bind(store);
    store.listSigningKeys = async () => {
      reads += 1;
      return original();
    };
    try {
      t.clock.advance(10_000);
      const [h, p, s] = (await login(t.app)).split('.');
      const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
      for (const alg of ['RS256', 'ES384', 'HS256', 'PS256', 'ES256', 'RS512']) {
        const forged = `${Buffer.from(JSON.stringify({ ...header, alg })).toString('base64url')}.${p}.${s}`;
        assert.equal((await me(t.app, forged)).statusCode, 401, alg);
      }
      assert.ok(reads <= 1, `${reads} reloads`);
    } finally {
      store.listSigningKeys = original;
    }
  });
});
