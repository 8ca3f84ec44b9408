import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hash, parseOptions } from '@node-rs/argon2';
import { PasswordHasher } from '../src/auth/password-hasher.js';
import { assertAcceptablePassword } from '../src/auth/password-policy.js';
import { createTestApp, postToken } from './helpers/test-app.js';

const POLICY = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

describe('password hashing', () => {
  test('new hashes are argon2id at m=19456 KiB, t=2, p=1', async () => {
    const stored = await new PasswordHasher(POLICY).hash('correct horse battery');
    assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test('stronger configured parameters are used for new hashes', async () => {
    const stored = await new PasswordHasher({ memoryCost: 32768, timeCost: 3, parallelism: 1 }).hash('correct horse battery');
    assert.match(stored, /\$m=32768,t=3,p=1\$/);
  });

  test('NFKC-equivalent passwords verify alike', async () => {
    const hasher = new PasswordHasher(POLICY);
    const stored = await hasher.hash('ﬁsh and chips 2024'); // U+FB01 ligature
    assert.equal((await hasher.verify(stored, 'fish and chips 2024')).ok, true);
  });

  test('a corrupt or unknown hash format fails verification without throwing', async () => {
    const hasher = new PasswordHasher(POLICY);
    assert.equal((await hasher.verify('$argon2id$garbage', 'x')).ok, false);
    assert.equal((await hasher.verify('plaintext', 'plaintext')).ok, false);
  });

  test('a login re-hashes a weaker stored hash at the configured parameters, and the password keeps working', async () => {
    const t = await createTestApp({ demo: false });
    try {
      const user = await t.services.users.create({ username: 'weak', password: 'a-good-long-password', scopes: ['me'] });
      const weakHash = await hash('a-good-long-password', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
      await t.services.store.setPasswordHash('weak', weakHash, t.clock.now());
      assert.equal((await postToken(t.app, { username: 'weak', password: 'a-good-long-password' })).statusCode, 200);
      const upgraded = (await t.services.store.findUserByUsername('weak'))!.passwordHash;
      assert.notEqual(upgraded, weakHash);
      assert.deepEqual({ ...parseOptions(upgraded) }.memoryCost, 19456);
      assert.equal(parseOptions(upgraded).timeCost, 2);
      assert.equal((await postToken(t.app, { username: 'weak', password: 'a-good-long-password' })).statusCode, 200);
      assert.ok(user.id);
    } finally {
      await t.close();
    }
  });

  test('a wrong password never triggers a re-hash', async () => {
    const t = await createTestApp({ demo: false });
    try {
      await t.services.users.create({ username: 'weak2', password: 'a-good-long-password' });
      const weakHash = await hash('a-good-long-password', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
      await t.services.store.setPasswordHash('weak2', weakHash, t.clock.now());
      assert.equal((await postToken(t.app, { username: 'weak2', password: 'wrong' })).statusCode, 400);
      assert.equal((await t.services.store.findUserByUsername('weak2'))!.passwordHash, weakHash);
    } finally {
      await t.close();
    }
  });
});

describe('password policy for new passwords', () => {
  test('12 to 128 characters, counted in code points after NFKC', () => {
    assert.throws(() => assertAcceptablePassword('elevenchars', 'bob'), /at least 12/);
    assertAcceptablePassword('twelve chars', 'bob');
    assertAcceptablePassword('x'.repeat(128), 'bob');
    assert.throws(() => assertAcceptablePassword('x'.repeat(129), 'bob'), /at most 128/);
    assertAcceptablePassword('😀'.repeat(12), 'bob'); // 24 UTF-16 units, 12 characters
    assert.throws(() => assertAcceptablePassword('😀'.repeat(11), 'bob'), /at least 12/);
  });

  test('a commonly breached password is refused, whatever its case', () => {
    for (const common of ['1qaz2wsx3edc', 'qwerty123456', 'QWERTY123456', 'leavemealone']) {
      assert.throws(() => assertAcceptablePassword(common, 'bob'), /breached/, common);
    }
    assertAcceptablePassword('correct horse battery staple', 'bob');
  });

  test('no composition rules, but never the username', () => {
    assertAcceptablePassword('all lowercase words here', 'bob');
    assert.throws(() => assertAcceptablePassword('bob-the-builder', 'bob-the-builder'), /username/);
  });

  test('the username rule ignores case and Unicode form', () => {
    assert.throws(() => assertAcceptablePassword('bob-the-builder', 'Bob-The-Builder'), /username/);
    assert.throws(() => assertAcceptablePassword('BOB-THE-BUILDER', 'bob-the-builder'), /username/);
    // Fullwidth letters are NFKC-equivalent to ASCII ones.
    assert.throws(() => assertAcceptablePassword('\uff22\uff2f\uff22-the-builder', 'bob-the-builder'), /username/);
    assertAcceptablePassword('bob-the-builder!', 'bob-the-builder');
  });
});
