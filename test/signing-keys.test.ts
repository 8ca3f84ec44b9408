import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createAuthServices } from '../src/auth/auth-services.js';
import { systemClock } from '../src/auth/clock.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { openStore } from '../src/store/open-store.js';
import { STRONG_SECRET, WEAK_SECRETS } from './helpers/hs256-secrets.js';
import { createTestApp, login } from './helpers/test-app.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe('signing keys and /.well-known/jwks.json', () => {
  test('publishes the ES256 public key only, with the kid the tokens carry', async () => {
    const t = await createTestApp();
    try {
      const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(response.statusCode, 200);
      const { keys } = response.json() as { keys: Record<string, unknown>[] };
      assert.equal(keys.length, 1);
      const [key] = keys;
      assert.equal(key!.kty, 'EC');
      assert.equal(key!.crv, 'P-256');
      assert.equal(key!.alg, 'ES256');
      assert.equal(key!.use, 'sig');
      for (const member of PRIVATE_MEMBERS) assert.equal(member in key!, false, `JWKS leaks ${member}`);
      const token = await login(t.app);
      assert.equal(decodeProtectedHeader(token).kid, key!.kid);
      // What a resource server would do: verify with nothing but the published set.
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys } as JSONWebKeySet), { typ: 'at+jwt', currentDate: new Date(t.clock.now()) });
      assert.equal(protectedHeader.alg, 'ES256');
    } finally {
      await t.close();
    }
  });

  for (const [alg, kty] of [['RS256', 'RSA'], ['EdDSA', 'OKP']] as const) {
    test(`${alg} is selectable and its tokens verify`, async () => {
      const t = await createTestApp({ env: { GATEHOUSE_SIGNING_ALG: alg } });
      try {
        const token = await login(t.app);
        assert.equal(decodeProtectedHeader(token).alg, alg);
        const { keys } = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Record<string, unknown>[] };
        assert.equal(keys[0]!.kty, kty);
        for (const member of PRIVATE_MEMBERS) assert.equal(member in keys[0]!, false);
        await jwtVerify(token, createLocalJWKSet({ keys } as JSONWebKeySet), { typ: 'at+jwt', algorithms: [alg], currentDate: new Date(t.clock.now()) });
        const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(me.statusCode, 200);
      } finally {
        await t.close();
      }
    });
  }

  test('the key pair is generated on first start, kept in the database, and reused on the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    try {
      const config = loadConfig({ DATABASE_URL: join(dir, 'g.db') });
      const kidOf = async () => {
        const store = await openStore(config.databaseUrl);
        const services = await createAuthServices(config, store, systemClock);
        const kid = services.keys.current.kid;
        await store.close();
        return kid;
      };
      const first = await kidOf();
      assert.equal(await kidOf(), first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with GATEHOUSE_HS256_SECRET tokens are HS256 and the JWKS publishes no key', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_HS256_SECRET: STRONG_SECRET } });
    try {
      const token = await login(t.app);
      const header = decodeProtectedHeader(token);
      assert.equal(header.alg, 'HS256');
      assert.equal(header.typ, 'at+jwt');
      assert.equal(typeof header.kid, 'string');
      const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      assert.deepEqual(jwks, { keys: [] });
      const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('an HS256 secret shorter than 256 bits, or the tutorial\'s published one, is refused', () => {
    assert.throws(() => loadConfig({ GATEHOUSE_HS256_SECRET: 'k'.repeat(31) }), ConfigError);
    assert.throws(
      () => loadConfig({ GATEHOUSE_HS256_SECRET: '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7' }),
      /published/,
    );
  });

  test('weak HS256 secrets of 32 bytes or more are refused in every mode, saying how to make a good one', () => {
    for (const [secret, why] of WEAK_SECRETS) {
      for (const env of [{}, { NODE_ENV: 'production' }, { GATEHOUSE_DEMO: 'true' }]) {
        assert.throws(
          () => loadConfig({ ...env, GATEHOUSE_HS256_SECRET: secret }),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError, `${JSON.stringify(secret)} ${JSON.stringify(env)}`);
            assert.match(err.message, why);
            assert.match(err.message, /generate one with: openssl rand -base64 48$/);
            assert.equal(err.message.includes(secret.trim()), false, 'the message never repeats the secret');
            return true;
          },
        );
      }
    }
  });

  test('random secrets as openssl or a password manager make them are accepted', () => {
    for (let i = 0; i < 200; i++) {
      for (const secret of [randomBytes(48).toString('base64'), randomBytes(32).toString('base64'), randomBytes(32).toString('hex'), randomBytes(32).toString('base64url')]) {
        assert.equal(loadConfig({ GATEHOUSE_HS256_SECRET: secret }).hs256Secret, secret);
      }
    }
  });
});
