import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { signCompactJws } from '../src/auth/compact-jws.js';

// Units for the signer the access tokens use: whatever node:crypto produces must be what an
// independent JWS implementation (jose) accepts, byte for byte in header and payload.
const pairs: [alg: string, sign: KeyObject, verify: KeyObject, signatureBytes: number][] = [
  ['ES256', ...keyPair(generateKeyPairSync('ec', { namedCurve: 'P-256' })), 64],
  ['RS256', ...keyPair(generateKeyPairSync('rsa', { modulusLength: 2048 })), 256],
  ['EdDSA', ...keyPair(generateKeyPairSync('ed25519')), 64],
  ['HS256', ...symmetric(createSecretKey(randomBytes(32))), 32],
];

describe('signCompactJws', () => {
  for (const [alg, signingKey, verificationKey, signatureBytes] of pairs) {
    test(`${alg}: jose verifies it, and header and payload are exactly the JSON given`, async () => {
      const header = { alg, kid: 'k1', typ: 'at+jwt' };
      const payload = { sub: 'jöhn', scope: 'me items', exp: 2_000_000_000, n: [1, 2] };
      const token = signCompactJws(alg, signingKey, header, payload);
      assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const verified = await compactVerify(token, verificationKey, { algorithms: [alg] });
      assert.deepEqual(verified.protectedHeader, header);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), payload);
      assert.deepEqual(decodeProtectedHeader(token), header);
      assert.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, signatureBytes);
    });
  }

  test('a changed payload no longer verifies', async () => {
    const [, key, publicKey] = pairs[0]!;
    const [h, , s] = signCompactJws('ES256', key, { alg: 'ES256' }, { sub: 'a' }).split('.');
    const forged = `${h}.${Buffer.from('{"sub":"b"}').toString('base64url')}.${s}`;
    await assert.rejects(compactVerify(forged, publicKey, { algorithms: ['ES256'] }));
  });

  test('an algorithm no key ring holds is refused, not signed some other way', () => {
    const [, key] = pairs[0]!;
    assert.throws(() => signCompactJws('none', key, { alg: 'none' }, {}), /cannot sign with algorithm none/);
    assert.throws(() => signCompactJws('ES384', key, { alg: 'ES384' }, {}), TypeError);
  });
});

function keyPair(pair: { privateKey: KeyObject; publicKey: KeyObject }): [KeyObject, KeyObject] {
  return [pair.privateKey, pair.publicKey];
}

function symmetric(key: KeyObject): [KeyObject, KeyObject] {
  return [key, key];
}
