import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserExists } from '../src/errors.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';

/**
 * The Store contract, written once and run against every backend (DESIGN.md §2). Each backend
 * gets a fresh database so runs never see each other's data.
 */
const BACKENDS: { name: string; open(): Promise<{ store: Store; dispose(): void }> }[] = [
  {
    name: 'SQLite file',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'));
      const store = await openStore(join(dir, 'sub', 'store.db'));
      return { store, dispose: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];

const NOW = 1_767_268_800_000;
const alice = { username: 'alice', email: 'a@example.com', fullName: 'Alice', disabled: false, passwordHash: '$argon2id$x', scopes: ['me', 'items'] };

for (const backend of BACKENDS) {
  describe(`Store contract: ${backend.name}`, () => {
    let store: Store;
    let dispose: () => void;
    before(async () => {
      ({ store, dispose } = await backend.open());
    });
    after(async () => {
      await store.close();
      dispose();
    });

    test('migrate is idempotent', async () => {
      await store.migrate();
      await store.migrate();
    });

    test('a created user reads back with normalized types', async () => {
      const created = await store.createUser(alice, NOW);
      const found = await store.findUserByUsername('alice');
      assert.deepEqual(found, created);
      assert.equal(found!.disabled, false);
      assert.deepEqual(found!.scopes, ['me', 'items']);
      assert.equal(found!.createdAt, NOW);
      assert.equal(typeof found!.createdAt, 'number');
    });

    test('usernames are unique and exact', async () => {
      await assert.rejects(store.createUser(alice, NOW), UserExists);
      assert.equal(await store.findUserByUsername('ALICE'), undefined);
    });

    test('a user with no scopes and no email reads back as empty and null', async () => {
      await store.createUser({ ...alice, username: 'bare', email: null, fullName: null, scopes: [] }, NOW);
      const bare = await store.findUserByUsername('bare');
      assert.deepEqual(bare!.scopes, []);
      assert.equal(bare!.email, null);
    });

    test('disable and enable report whether the user exists', async () => {
      assert.equal(await store.setUserDisabled('alice', true, NOW + 1), true);
      assert.equal((await store.findUserByUsername('alice'))!.disabled, true);
      assert.equal(await store.setUserDisabled('alice', false, NOW + 2), true);
      assert.equal(await store.setUserDisabled('nobody', true, NOW), false);
    });

    test('a hash upgrade applies only if the hash is unchanged since it was read', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      await store.upgradePasswordHash(user.id, 'stale', '$argon2id$upgraded');
      assert.equal((await store.findUserByUsername('alice'))!.passwordHash, '$argon2id$x');
      await store.upgradePasswordHash(user.id, '$argon2id$x', '$argon2id$upgraded');
      assert.equal((await store.findUserByUsername('alice'))!.passwordHash, '$argon2id$upgraded');
      assert.equal(await store.setPasswordHash('nobody', 'h', NOW), false);
    });

    test('a session reads back with its user in one call', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      await store.createSession({ id: 's1', userId: user.id, clientId: 'gatehouse', scope: 'me', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'rt1');
      const found = await store.findSessionWithUser('s1');
      assert.equal(found!.session.revokedAt, null);
      assert.equal(found!.session.createdAt, NOW);
      assert.equal(found!.user.username, 'alice');
      assert.equal(await store.findSessionWithUser('nope'), undefined);
    });

    test('signing keys list oldest first', async () => {
      await store.insertSigningKey({ kid: 'b', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: NOW + 10, retiredAt: null });
      await store.insertSigningKey({ kid: 'a', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: NOW, retiredAt: null });
      assert.deepEqual((await store.listSigningKeys()).map((k) => k.kid), ['a', 'b']);
    });

    test('users list in username order', async () => {
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['alice', 'bare']);
    });
  });
}
