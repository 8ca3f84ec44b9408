import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CompactSign, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let good: string;
let claims: JWTPayload & Record<string, unknown>;
let header: Record<string, unknown>;
before(async () => {
  t = await createTestApp();
  good = await login(t.app);
  header = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString());
  claims = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString());
});
after(() => t.close());

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const hs256 = (secret: string | Buffer, h: object, p: object) => {
  const input = `${b64(h)}.${b64(p)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
/** Signs `payload` with Gatehouse's own current key, so only the altered part can be at fault. */
const signWithOurKey = (payload: object, h: Record<string, unknown> = {}) =>
  new SignJWT({ ...payload } as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', kid: header.kid as string, typ: 'at+jwt', ...h } as never)
    .sign(t.services.keys.current.key);

async function assertRejected(token: string, label: string) {
  const response = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.statusCode, 401, `${label}: ${response.statusCode} ${response.body}`);
  assert.deepEqual(response.json(), { detail: 'Could not validate credentials' }, label);
  assert.match(String(response.headers['www-authenticate']), /^Bearer error="invalid_token"/, label);
}

describe('JWT attack corpus: every forgery is 401 invalid_token', () => {
  test('the untouched token is accepted (control)', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${good}` } });
    assert.equal(response.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${await signWithOurKey(claims)}` } })).statusCode, 200);
  });

  test('alg "none" in every casing, with and without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64({ ...header, alg })}.${b64(claims)}.`;
      await assertRejected(unsigned, `alg ${alg}`);
      await assertRejected(`${unsigned}${good.split('.')[2]}`, `alg ${alg} with signature`);
    }
  });

  test('HS256 signed with the published public key as the HMAC secret (algorithm confusion)', async () => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Record<string, string>[] };
    const jwk = jwks.keys[0]!;
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [pem, JSON.stringify(jwk), jwk.x!]) {
      await assertRejected(hs256(secret, { ...header, alg: 'HS256' }, claims), 'HS256 with public key');
    }
  });

  test('a token signed with the FastAPI tutorial\'s published secret', async () => {
    const secret = '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7';
    await assertRejected(hs256(secret, { alg: 'HS256', typ: 'JWT' }, { sub: 'johndoe', exp: claims.exp }), 'tutorial token');
    await assertRejected(hs256(secret, { ...header, alg: 'HS256' }, claims), 'tutorial secret with our header');
  });

  test('an edited payload keeps the old signature', async () => {
    const [h, , s] = good.split('.');
    for (const edit of [{ sub: 'alice' }, { scope: 'me items admin' }, { exp: (claims.exp as number) + 3600 }]) {
      await assertRejected(`${h}.${b64({ ...claims, ...edit })}.${s}`, `edited ${Object.keys(edit)[0]}`);
    }
  });

  test('a forged or truncated signature', async () => {
    const [h, p, s] = good.split('.');
    await assertRejected(`${h}.${p}.${Buffer.alloc(64, 1).toString('base64url')}`, 'forged signature');
    await assertRejected(`${h}.${p}.${s!.slice(0, 20)}`, 'truncated signature');
    await assertRejected(`${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`, 'flipped signature');
  });

  test('a key the attacker made, under our kid, or embedded in the header (jwk), or pointed to (jku, x5u, x5c)', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const sign = (h: Record<string, unknown>) =>
      new SignJWT({ ...claims } as JWTPayload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid, ...h } as never).sign(attacker.privateKey);
    await assertRejected(await sign({}), 'attacker key under our kid');
    await assertRejected(await sign({ jwk: attackerJwk }), 'embedded jwk');
    await assertRejected(await sign({ jku: 'http://127.0.0.1:1/jwks.json' }), 'jku');
    await assertRejected(await sign({ x5u: 'http://127.0.0.1:1/cert.pem' }), 'x5u');
    await assertRejected(await sign({ x5c: ['MIIB'] }), 'x5c');
    // Even with our own key, a header that carries a key is refused outright.
    await assertRejected(await signWithOurKey(claims, { jwk: attackerJwk }), 'our signature, embedded jwk');
  });

  test('an RS256 token under an unknown kid, and under ours', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const kid of ['unknown-kid', header.kid]) {
      const forged = await new SignJWT({ ...claims } as JWTPayload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: kid as string }).sign(privateKey);
      await assertRejected(forged, `RS256 kid ${kid}`);
    }
  });

  test('unknown kid, or no kid, with our own signature', async () => {
    await assertRejected(await signWithOurKey(claims, { kid: 'not-a-key' }), 'unknown kid');
    const noKid = await new SignJWT({ ...claims } as JWTPayload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(t.services.keys.current.key);
    await assertRejected(noKid, 'no kid');
  });

  test('an unknown critical header parameter', async () => {
    const withCrit = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES256', kid: header.kid as string, typ: 'at+jwt', crit: ['x-gatehouse'], 'x-gatehouse': 1 } as never)
      .sign(t.services.keys.current.key, { crit: { 'x-gatehouse': true } });
    await assertRejected(withCrit, 'crit');
  });

  test('wrong or missing typ (RFC 9068 §4: at+jwt only)', async () => {
    await assertRejected(await signWithOurKey(claims, { typ: 'JWT' }), 'typ JWT');
    const noTyp = await new SignJWT({ ...claims } as JWTPayload).setProtectedHeader({ alg: 'ES256', kid: header.kid as string }).sign(t.services.keys.current.key);
    await assertRejected(noTyp, 'no typ');
  });

  test('wrong issuer or audience', async () => {
    await assertRejected(await signWithOurKey({ ...claims, iss: 'http://evil.test' }), 'iss');
    await assertRejected(await signWithOurKey({ ...claims, aud: 'http://other-api.test' }), 'aud');
  });

  test('expired, not yet valid, or missing required claims', async () => {
    const now = Math.floor(t.clock.now() / 1000);
    await assertRejected(await signWithOurKey({ ...claims, exp: now - 31 }), 'expired beyond leeway');
    await assertRejected(await signWithOurKey({ ...claims, nbf: now + 60 }), 'nbf in the future');
    await assertRejected(await signWithOurKey({ ...claims, iat: now + 3600 }), 'iat in the future');
    for (const missing of ['sub', 'exp', 'sid', 'jti', 'scope', 'client_id', 'iat', 'iss', 'aud']) {
      const partial: Record<string, unknown> = { ...claims };
      delete partial[missing];
      await assertRejected(await signWithOurKey(partial), `missing ${missing}`);
    }
    await assertRejected(await signWithOurKey({ ...claims, scope: ['me'] }), 'scope not a string');
  });

  test('a cached token still expires: the cache re-checks exp on every hit', async () => {
    const fresh = await login(t.app);
    const use = () => t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${fresh}` } });
    assert.equal((await use()).statusCode, 200);
    t.clock.advance(900_000 + 31_000);
    await assertRejected(fresh, 'cached then expired');
  });
});
