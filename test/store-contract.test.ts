import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { createTestSchema } from './helpers/postgres.js';
import { ClientExists, UserExists } from '../src/errors.js';
import { openStore } from '../src/store/open-store.js';
import { isStoreUnavailable } from '../src/store/store-unavailable.js';
import type { SessionRecord, Store, UserRecord } from '../src/store/store.js';

/**
 * The Store contract, written once and run against every backend (DESIGN.md §2). Each backend
 * gets a fresh database so runs never see each other's data.
 */
interface OpenedBackend {
  store: Store;
  /** Another handle on the same database, as a second instance or the CLI would open it. */
  openAnother(): Promise<Store>;
  /**
   * Runs one statement in a transaction of another connection and leaves it open until `commit`:
   * a concurrent change caught mid-flight. Absent on SQLite, whose driver is synchronous: waiting
   * for a lock held in this process would block the very thread that has to release it.
   */
  beginChange?(statement: string, parameters: unknown[]): Promise<{ commit(): Promise<void> }>;
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
      const beginChange = async (statement: string, parameters: unknown[]) => {
        const client = new pg.Client({ connectionString: schema.url });
        await client.connect();
        await client.query('begin');
        await client.query(statement, parameters);
        return { commit: () => client.query('commit').then(() => client.end()) };
      };
      return { store, openAnother: () => openStore(schema.url), beginChange, dispose: () => schema.drop() };
    },
  },
];
const only = process.env.GATEHOUSE_TEST_BACKEND;

const NOW = 1_767_268_800_000;
/** What a login that just proved `user`'s password asks of its session. */
const proven = (user: UserRecord, registeredClient = false) => ({ passwordHash: user.passwordHash, registeredClient });
const alice = { username: 'alice', email: 'a@example.com', fullName: 'Alice', disabled: false, passwordHash: '$argon2id$x', scopes: ['me', 'items'] };

for (const backend of BACKENDS.filter((b) => only === undefined || b.name.toLowerCase().includes(only.toLowerCase()))) {
  describe(`Store contract: ${backend.name}`, () => {
    let store: Store;
    let openAnother: () => Promise<Store>;
    let beginChange: OpenedBackend['beginChange'];
    let dispose: () => Promise<void>;
    let skipped: string | undefined;
    before(async () => {
      const opened = await backend.open();
      if ('unavailable' in opened) skipped = opened.unavailable;
      else ({ store, openAnother, beginChange, dispose } = opened);
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

    test('a username or client id with U+0000 is not found, never an error (PostgreSQL failed with 22021)', async () => {
      for (const key of ['a\0b', 'alice\0', '\0']) {
        assert.equal(await store.findUserByUsername(key), undefined);
        assert.equal(await store.setUserDisabled(key, true, NOW), false);
        assert.equal(await store.setPasswordHash(key, '$argon2id$y', NOW), false);
        assert.equal(await store.setUserScopes(key, ['me'], NOW), false);
        assert.equal(await store.findClient(key), undefined);
        assert.equal(await store.deleteClient(key, NOW), false);
      }
      assert.equal((await store.findUserByUsername('alice'))!.passwordHash, alice.passwordHash, 'alice is untouched');
    });

    test('a hash upgrade applies only if the hash is unchanged since it was read', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      assert.equal(await store.upgradePasswordHash(user.id, 'stale', '$argon2id$upgraded'), false);
      assert.equal((await store.findUserByUsername('alice'))!.passwordHash, '$argon2id$x');
      assert.equal(await store.upgradePasswordHash(user.id, '$argon2id$x', '$argon2id$upgraded'), true);
      assert.equal((await store.findUserByUsername('alice'))!.passwordHash, '$argon2id$upgraded');
      assert.equal(await store.setPasswordHash('nobody', 'h', NOW), false);
    });

    test('a password change over a given hash applies only if the hash is still that one', async () => {
      await store.createUser({ ...alice, username: 'dana', passwordHash: '$argon2id$dana' }, NOW);
      assert.equal(await store.setPasswordHash('dana', '$argon2id$late', NOW + 1, '$argon2id$since-replaced'), false);
      assert.equal((await store.findUserByUsername('dana'))!.passwordHash, '$argon2id$dana');
      assert.equal(await store.setPasswordHash('dana', '$argon2id$changed', NOW + 2, '$argon2id$dana'), true);
      const dana = (await store.findUserByUsername('dana'))!;
      assert.deepEqual([dana.passwordHash, dana.updatedAt], ['$argon2id$changed', NOW + 2]);
    });

    test('a session reads back with its user in one call', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      await store.createSession({ id: 's1', userId: user.id, clientId: 'gatehouse', scope: 'me', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'rt1', proven(user));
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
        await store.createSession({ id: 'sc', userId: user.id, clientId: 'gatehouse', scope: 'me', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'rtc', proven(user));
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
      await store.createSession({ id: 's2', userId: user.id, clientId: 'gatehouse', scope: 'me', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, 'r0', proven(user));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.rotateRefreshToken('r0', `r1-${i}`, 's2', NOW + 5)));
      assert.deepEqual(results.filter((r) => r !== undefined), Array(7).fill('reused'));
      const old = await store.findRefreshToken('r0');
      assert.equal(old!.token.rotatedAt, NOW + 5);
      assert.equal(old!.session.refreshedAt, NOW + 5);
      const winner = results.indexOf(undefined);
      assert.equal((await store.findRefreshToken(`r1-${winner}`))!.token.rotatedAt, null);
    });

    test('a session is stored only if the password proved is still the hash, the user enabled and the client registered', async () => {
      const user = await store.createUser({ ...alice, username: 'erin' }, NOW);
      await store.createClient({ id: 'erin-app', name: 'Erin app', secretHash: null, grantTypes: ['password'], scopes: [], createdAt: NOW });
      const session = (id: string, clientId = 'gatehouse'): SessionRecord => ({ id, userId: user.id, clientId, scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null });
      const stored = async (id: string) => (await store.findSessionWithUser(id)) !== undefined || (await store.findRefreshToken(`rt-${id}`)) !== undefined;

      assert.equal(await store.createSession(session('e1'), 'rt-e1', { passwordHash: 'a hash since replaced', registeredClient: false }), 'password_changed');
      assert.equal(await store.createSession(session('e2', 'no-such-app'), 'rt-e2', proven(user, true)), 'client_removed');
      await store.setUserDisabled('erin', true, NOW + 1);
      assert.equal(await store.createSession(session('e3'), 'rt-e3', proven(user)), 'user_disabled');
      // A stale password says nothing about the account's state, whatever else changed.
      assert.equal(await store.createSession(session('e4'), 'rt-e4', { passwordHash: 'a hash since replaced', registeredClient: false }), 'password_changed');
      for (const id of ['e1', 'e2', 'e3', 'e4']) assert.equal(await stored(id), false, `${id} left nothing behind`);

      await store.setUserDisabled('erin', false, NOW + 2);
      assert.equal(await store.createSession(session('e5', 'erin-app'), 'rt-e5', proven(user, true)), undefined);
      assert.equal(await stored('e5'), true);
      // The built-in client has no row: a session of it does not ask for one.
      assert.equal(await store.createSession(session('e6'), 'rt-e6', proven(user)), undefined);
      await store.deleteClient('erin-app', NOW + 3);
    });

    test('a refresh token is not exchanged once its session has ended or its user is disabled', async () => {
      const user = await store.createUser({ ...alice, username: 'gwen' }, NOW);
      for (const id of ['g1', 'g2']) {
        await store.createSession({ id, userId: user.id, clientId: 'gatehouse', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, `rt-${id}`, proven(user));
      }
      await store.revokeSession('g1', NOW + 1);
      assert.equal(await store.rotateRefreshToken('rt-g1', 'rt-g1-next', 'g1', NOW + 2), 'session_ended');
      await store.setUserDisabled('gwen', true, NOW + 3);
      assert.equal(await store.rotateRefreshToken('rt-g2', 'rt-g2-next', 'g2', NOW + 4), 'user_disabled');
      for (const id of ['g1', 'g2']) {
        const old = (await store.findRefreshToken(`rt-${id}`))!;
        assert.equal(old.token.rotatedAt, null, `${id}: nothing changed`);
        assert.equal(old.session.refreshedAt, NOW);
        assert.equal(await store.findRefreshToken(`rt-${id}-next`), undefined);
      }
      await store.setUserDisabled('gwen', false, NOW + 5);
      assert.equal(await store.rotateRefreshToken('rt-g2', 'rt-g2-next', 'g2', NOW + 6), undefined);
    });

    /** Starts `write` and reports whether it settled before the change in flight commits. */
    async function racingAChange(statement: string, parameters: unknown[], write: () => Promise<unknown>) {
      const change = await beginChange!(statement, parameters);
      let settledFirst = false;
      const outcome = write().finally(() => (settledFirst = true));
      await delay(300);
      const waited = !settledFirst;
      await change.commit();
      return { waited, outcome: await outcome };
    }

    test('a login\'s session waits for a password change or client removal in flight, then refuses', async (t) => {
      if (!beginChange) return t.skip('PostgreSQL only: SQLite runs write transactions whole, one at a time');
      const user = await store.createUser({ ...alice, username: 'hana' }, NOW);
      await store.createClient({ id: 'hana-app', name: 'Hana app', secretHash: null, grantTypes: ['password'], scopes: [], createdAt: NOW });
      const session = (id: string, clientId: string): SessionRecord => ({ id, userId: user.id, clientId, scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null });

      const removal = await racingAChange('delete from clients where id = $1', ['hana-app'], () =>
        store.createSession(session('h1', 'hana-app'), 'rt-h1', proven(user, true)),
      );
      assert.deepEqual(removal, { waited: true, outcome: 'client_removed' });
      const reset = await racingAChange('update users set password_hash = $1 where id = $2', ['$argon2id$reset', user.id], () =>
        store.createSession(session('h2', 'gatehouse'), 'rt-h2', proven(user)),
      );
      assert.deepEqual(reset, { waited: true, outcome: 'password_changed' });
      assert.equal(await store.findSessionWithUser('h1'), undefined);
      assert.equal(await store.findSessionWithUser('h2'), undefined);
    });

    test('a refresh waits for a revocation or disable in flight, then refuses', async (t) => {
      if (!beginChange) return t.skip('PostgreSQL only: SQLite runs write transactions whole, one at a time');
      const user = await store.createUser({ ...alice, username: 'iris' }, NOW);
      for (const id of ['i1', 'i2']) {
        await store.createSession({ id, userId: user.id, clientId: 'gatehouse', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, `rt-${id}`, proven(user));
      }
      const revocation = await racingAChange('update sessions set revoked_at = $1 where id = $2', [NOW + 1, 'i1'], () =>
        store.rotateRefreshToken('rt-i1', 'rt-i1-next', 'i1', NOW + 2),
      );
      assert.deepEqual(revocation, { waited: true, outcome: 'session_ended' });
      const disable = await racingAChange('update users set disabled = 1 where id = $1', [user.id], () =>
        store.rotateRefreshToken('rt-i2', 'rt-i2-next', 'i2', NOW + 2),
      );
      assert.deepEqual(disable, { waited: true, outcome: 'user_disabled' });
    });

    test('sessions end one at a time or all of a user\'s but one', async () => {
      const user = (await store.findUserByUsername('alice'))!;
      for (const id of ['s3', 's4', 's5']) {
        await store.createSession({ id, userId: user.id, clientId: 'gatehouse', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null }, `rt-${id}`, proven(user));
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
      await store.createSession(
        { id: 's6', userId: user.id, clientId: 'app', scope: '', createdAt: NOW, refreshedAt: NOW, revokedAt: null },
        'rt-s6',
        proven(user, true),
      );
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
        createSession: () => gone.createSession(session, 'h', { passwordHash: 'x', registeredClient: false }),
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
      const racers = beginChange ? ['hana', 'iris'] : [];
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['aaron', 'alice', 'bare', 'carol', 'dana', 'erin', 'gwen', ...racers]);
    });
  });
}
