import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { createTestSchema } from './helpers/postgres.js';
import { ClientExists, UserExists } from '../src/errors.js';
import { openStore } from '../src/store/open-store.js';
import { isStoreUnavailable } from '../src/store/store-unavailable.js';
import type { Store } from '../src/store/store.js';

/**
 * The Store contract, written once and run against every backend (DESIGN.md §2). Each backend
 * gets a fresh database so runs never see each other's data.
 */
interface OpenedBackend {
  store: Store;
  /** Another handle on the same database, as a second instance or the CLI would open it. */
  openAnother(): Promise<Store>;
  dispose(): Promise<void>;
}

const BACKENDS: { name: string; open(): Promise<OpenedBackend | { unavailable: string }> }[] = [
  {
    name: 'SQLite file',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'));
      const path = join(dir, 'sub', 'store.db');
      const store = await openStore(path);
      return { store, openAnother: () => openStore(path), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const schema = await createTestSchema();
      if ('unavailable' in schema) return schema;
      const store = await openStore(schema.url, { migrate: true });
      return { store, openAnother: () => openStore(schema.url), dispose: () => schema.drop() };
    },
  },
];
const only = process.env.GATEHOUSE_TEST_BACKEND;

const NOW = 1_767_268_800_000;
const alice = { username: 'alice', email: 'a@example.com', fullName: 'Alice', disabled: false, passwordHash: '$argon2id$x', scopes: ['me', 'items'] };

for (const backend of BACKENDS.filter((b) => only === undefined || b.name.toLowerCase().includes(only.toLowerCase()))) {
  describe(`Store contract: ${backend.name}`, () => {
    let store: Store;
    let openAnother: () => Promise<Store>;
    let dispose: () => Promise<void>;
    let skipped: string | undefined;
    before(async () => {
      const opened = await backend.open();
      if ('unavailable' in opened) skipped = opened.unavailable;
      else ({ store, openAnother, dispose } = opened);
    });
    after(async () => {
      if (skipped) return;
      await store.close();
      await dispose();
    });
    beforeEach((t) => {
      if (skipped) (t as TestContext).skip(skipped);
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

    test('a session read again after a change sees it at once, whichever handle made the change', async () => {
      const other = await openAnother();
      try {
        const user = await store.createUser({ ...alice, username: 'carol' }, NOW);
        await store.createSession({ id: 'sc', userId: user.id, clientId: 'gatehouse', scope: 'me', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'rtc');
        // Read twice first, so a cached copy would be what the next reads return.
        for (let i = 0; i < 2; i++) assert.equal((await store.findSessionWithUser('sc'))?.user.disabled, false);
        assert.equal(await other.setUserDisabled('carol', true, NOW + 1), true);
        assert.equal((await store.findSessionWithUser('sc'))?.user.disabled, true, 'a change by another handle');
        await store.setUserScopes('carol', ['me'], NOW + 2);
        assert.deepEqual((await store.findSessionWithUser('sc'))?.user.scopes, ['me'], 'a change by the same handle');
        assert.equal(await other.revokeSession('sc', NOW + 3), true);
        assert.equal((await store.findSessionWithUser('sc'))?.session.revokedAt, NOW + 3);
        assert.equal((await other.findSessionWithUser('sc'))?.session.revokedAt, NOW + 3);
      } finally {
        await other.close();
      }
    });

    test('where the store has a data version, every commit changes it, whichever handle made it', async () => {
      if (store.dataVersion === undefined) return;
      const other = await openAnother();
      try {
        const before = store.dataVersion();
        assert.equal(store.dataVersion(), before, 'reading changes nothing');
        await store.findUserByUsername('alice');
        assert.equal(store.dataVersion(), before, 'a read is not a commit');
        await other.setUserDisabled('alice', true, NOW + 1);
        const afterOther = store.dataVersion();
        assert.notEqual(afterOther, before, 'a commit by another handle');
        await store.setUserDisabled('alice', false, NOW + 2);
        assert.notEqual(store.dataVersion(), afterOther, 'a commit by the same handle');
      } finally {
        await other.close();
      }
    });

    test('signing keys list oldest first', async () => {
      await store.insertSigningKey({ kid: 'b', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: NOW + 10, retiredAt: null });
      await store.insertSigningKey({ kid: 'a', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: NOW, retiredAt: null });
      assert.deepEqual((await store.listSigningKeys()).map((k) => k.kid), ['a', 'b']);
    });

    test('a refresh token rotates exactly once, even when raced', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      await store.createSession({ id: 's2', userId: user.id, clientId: 'gatehouse', scope: 'me', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'r0');
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.rotateRefreshToken('r0', `r1-${i}`, 's2', NOW + 5)));
      assert.equal(results.filter(Boolean).length, 1);
      const old = await store.findRefreshToken('r0');
      assert.equal(old!.token.rotatedAt, NOW + 5);
      assert.equal(old!.session.refreshedAt, NOW + 5);
      const winner = results.findIndex(Boolean);
      assert.equal((await store.findRefreshToken(`r1-${winner}`))!.token.rotatedAt, null);
    });

    test('sessions end one at a time or all of a user\'s but one', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      for (const id of ['s3', 's4', 's5']) {
        await store.createSession({ id, userId: user.id, clientId: 'gatehouse', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, `rt-${id}`);
      }
      assert.equal(await store.revokeSession('s3', NOW + 1), true);
      assert.equal(await store.revokeSession('s3', NOW + 2), false);
      assert.equal((await store.findSessionWithUser('s3'))!.session.revokedAt, NOW + 1);
      const ended = await store.revokeUserSessions(user.id, NOW + 3, 's5');
      assert.ok(ended >= 1);
      assert.equal((await store.findSessionWithUser('s4'))!.session.revokedAt, NOW + 3);
      assert.equal((await store.findSessionWithUser('s5'))!.session.revokedAt, null);
    });

    test('login failures change only by compare-and-set over the counts last read', async () => {
      const first = { consecutiveFailures: 1, lastFailureAt: NOW, windowStart: NOW, windowFailures: 1 };
      const second = { consecutiveFailures: 2, lastFailureAt: NOW + 5, windowStart: NOW, windowFailures: 2 };
      assert.equal(await store.findLoginFailures('k1'), undefined);
      assert.equal(await store.compareAndSetLoginFailures('k1', undefined, first), true);
      // A first claim where there already are counts, or a claim over counts that changed: refused.
      assert.equal(await store.compareAndSetLoginFailures('k1', undefined, second), false);
      assert.equal(await store.compareAndSetLoginFailures('k1', { ...first, windowFailures: 7 }, second), false);
      assert.deepEqual(await store.findLoginFailures('k1'), first);
      assert.equal(await store.compareAndSetLoginFailures('k1', first, second), true);
      assert.deepEqual(await store.findLoginFailures('k1'), second);
      // Rewriting the counts as read succeeds and changes nothing.
      assert.equal(await store.compareAndSetLoginFailures('k1', second, second), true);
      assert.deepEqual(await store.findLoginFailures('k1'), second);
    });

    test('of concurrent claims over the same counts exactly one wins, on one handle or several', async () => {
      const other = await openAnother();
      try {
        const next = (i: number) => ({ consecutiveFailures: 1, lastFailureAt: NOW + i, windowStart: NOW, windowFailures: 1 });
        const firsts = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).compareAndSetLoginFailures('k2', undefined, next(i))));
        assert.equal(firsts.filter(Boolean).length, 1);
        const read = (await store.findLoginFailures('k2'))!;
        assert.deepEqual(read, next(firsts.indexOf(true)));
        const bumped = { ...read, consecutiveFailures: 2, windowFailures: 2 };
        const seconds = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).compareAndSetLoginFailures('k2', read, bumped)));
        assert.equal(seconds.filter(Boolean).length, 1);
        assert.deepEqual(await other.findLoginFailures('k2'), bumped);
      } finally {
        await other.close();
      }
    });

    test('forgiving a failure ends the streak and uncounts it from its own window only', async () => {
      const counts = { consecutiveFailures: 6, lastFailureAt: NOW + 9, windowStart: NOW, windowFailures: 6 };
      await store.compareAndSetLoginFailures('k3', undefined, counts);
      await store.forgiveLoginFailure('k3', NOW);
      assert.deepEqual(await store.findLoginFailures('k3'), { ...counts, consecutiveFailures: 0, windowFailures: 5 });
      // A window that has restarted since the attempt was counted keeps its count.
      await store.forgiveLoginFailure('k3', NOW - 1);
      assert.deepEqual(await store.findLoginFailures('k3'), { ...counts, consecutiveFailures: 0, windowFailures: 5 });
      await store.forgiveLoginFailure('nobody', NOW);
      assert.equal(await store.findLoginFailures('nobody'), undefined);
    });

    test('idle login failures are deleted: expired window and no streak; others stay', async () => {
      const row = (consecutiveFailures: number, windowStart: number) => ({ consecutiveFailures, lastFailureAt: windowStart, windowStart, windowFailures: 1 });
      await store.compareAndSetLoginFailures('idle', undefined, row(0, NOW - 100));
      await store.compareAndSetLoginFailures('streak', undefined, row(2, NOW - 100));
      await store.compareAndSetLoginFailures('boundary', undefined, row(0, NOW - 50));
      await store.compareAndSetLoginFailures('recent', undefined, row(0, NOW - 50 + 1));
      assert.equal(await store.deleteIdleLoginFailures(NOW - 50), 2);
      assert.equal(await store.findLoginFailures('idle'), undefined);
      assert.equal(await store.findLoginFailures('boundary'), undefined);
      assert.equal((await store.findLoginFailures('streak'))!.consecutiveFailures, 2);
      assert.equal((await store.findLoginFailures('recent'))!.windowStart, NOW - 49);
    });

    test('clients: create, find, list; deleting one ends its sessions', async () => {
      const client = { id: 'app', name: 'App', secretHash: null, grantTypes: ['password'], scopes: ['me'], createdAt: NOW };
      await store.createClient(client);
      await assert.rejects(store.createClient(client), ClientExists);
      assert.deepEqual(await store.findClient('app'), client);
      assert.deepEqual((await store.listClients()).map((c) => c.id), ['app']);
      const user = (await store.findUserByUsername('alice'))!;
      await store.createSession({ id: 's6', userId: user.id, clientId: 'app', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'rt-s6');
      assert.equal(await store.deleteClient('app', NOW + 9), true);
      assert.equal(await store.deleteClient('app', NOW + 9), false);
      assert.equal((await store.findSessionWithUser('s6'))!.session.revokedAt, NOW + 9);
    });

    test('inserting a signing key retires the others', async () => {
      await store.insertSigningKey({ kid: 'c', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: NOW + 20, retiredAt: null });
      const keys = await store.listSigningKeys();
      // b was retired when a was inserted, a now; only c is current.
      assert.deepEqual(keys.map((k) => [k.kid, k.retiredAt]), [['a', NOW + 20], ['b', NOW], ['c', null]]);
    });

    test('the schema is current and the database answers', async () => {
      assert.deepEqual(await store.schemaStatus(), { pending: [], unknown: [] });
      await store.ping();
    });

    test('every method of a store whose database is gone fails with an error classed as an outage', async () => {
      const gone = await openAnother();
      // A session read first, so the SQLite reader's statements exist before the close.
      await gone.findSessionWithUser('none');
      await gone.close();
      const session = { id: 's', userId: 'u', clientId: 'c', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null };
      const client = { id: 'c', name: 'c', secretHash: null, grantTypes: [], scopes: [], createdAt: NOW };
      const key = { kid: 'k', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: NOW, retiredAt: null };
      const calls: Record<Exclude<keyof Store, 'close' | 'dataVersion'>, () => Promise<unknown>> = {
        migrate: () => gone.migrate(),
        schemaStatus: () => gone.schemaStatus(),
        ping: () => gone.ping(),
        findUserByUsername: () => gone.findUserByUsername('alice'),
        createUser: () => gone.createUser({ ...alice, username: 'late' }, NOW),
        listUsers: () => gone.listUsers(),
        setUserDisabled: () => gone.setUserDisabled('alice', true, NOW),
        setPasswordHash: () => gone.setPasswordHash('alice', 'x', NOW),
        upgradePasswordHash: () => gone.upgradePasswordHash('u', 'x', 'y'),
        setUserScopes: () => gone.setUserScopes('alice', [], NOW),
        createSession: () => gone.createSession(session, 'h'),
        findSessionWithUser: () => gone.findSessionWithUser('s'),
        revokeSession: () => gone.revokeSession('s', NOW),
        revokeUserSessions: () => gone.revokeUserSessions('u', NOW),
        findRefreshToken: () => gone.findRefreshToken('h'),
        rotateRefreshToken: () => gone.rotateRefreshToken('h', 'i', 's', NOW),
        findLoginFailures: () => gone.findLoginFailures('k'),
        compareAndSetLoginFailures: () =>
          gone.compareAndSetLoginFailures('k', undefined, { consecutiveFailures: 1, lastFailureAt: NOW, windowStart: NOW, windowFailures: 1 }),
        forgiveLoginFailure: () => gone.forgiveLoginFailure('k', NOW),
        deleteIdleLoginFailures: () => gone.deleteIdleLoginFailures(NOW),
        createClient: () => gone.createClient(client),
        findClient: () => gone.findClient('c'),
        listClients: () => gone.listClients(),
        deleteClient: () => gone.deleteClient('c', NOW),
        listSigningKeys: () => gone.listSigningKeys(),
        insertSigningKey: () => gone.insertSigningKey(key),
      };
      // A method added to the store must be listed here, so it is checked too.
      const methods = Object.getOwnPropertyNames(gone).filter((name) => typeof (gone as unknown as Record<string, unknown>)[name] === 'function' && name !== 'close');
      assert.deepEqual(methods.sort(), Object.keys(calls).sort());
      for (const [name, call] of Object.entries(calls)) {
        await assert.rejects(call(), (err: unknown) => isStoreUnavailable(err), name);
      }
    });

    test('errors with an outage\'s code that the store did not raise are not outages', () => {
      for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', '08006', 'SQLITE_BUSY']) {
        assert.equal(isStoreUnavailable(Object.assign(new Error('aborted'), { code })), false, code);
      }
    });

    test('users list in username order', async () => {
      // The users earlier tests created, in the order of their names, not of their creation.
      await store.createUser({ ...alice, username: 'aaron' }, NOW);
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['aaron', 'alice', 'bare', 'carol']);
    });
  });
}
