import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { createAuthServices } from '../src/auth/auth-services.js';
import { countFailure, retryAt, WAITING_PER_ACCOUNT } from '../src/auth/login-throttle.js';
import { buildApp } from '../src/app.js';
import { openStore } from '../src/store/open-store.js';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

const fail = (t: TestApp, username = 'johndoe') => postToken(t.app, { username, password: 'wrong' });
const good = (t: TestApp) => postToken(t.app, { username: 'johndoe', password: 'secret' });

describe('per-account throttling', () => {
  test('after 5 consecutive failures the account waits 1 s; meanwhile even the right password gets the generic answer', async () => {
    const t = await createTestApp();
    try {
      const wrong = await fail(t);
      for (let i = 0; i < 4; i++) await fail(t);
      const throttled = await good(t);
      assert.equal(throttled.statusCode, 400);
      assert.equal(throttled.body, wrong.body, 'byte-identical to a wrong password');
      t.clock.advance(999);
      assert.equal((await good(t)).statusCode, 400);
      t.clock.advance(1);
      assert.equal((await good(t)).statusCode, 200);
      // Success clears the streak: four more failures do not lock.
      for (let i = 0; i < 4; i++) await fail(t);
      assert.equal((await good(t)).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('each further failure doubles the wait; attempts during a wait do not extend it', async () => {
    const t = await createTestApp();
    try {
      for (let i = 0; i < 5; i++) await fail(t);
      t.clock.advance(1_000);
      await fail(t); // 6th failure: 2 s
      for (let i = 0; i < 10; i++) await fail(t); // refused unseen, not counted
      t.clock.advance(1_999);
      assert.equal((await good(t)).statusCode, 400);
      t.clock.advance(1);
      assert.equal((await good(t)).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('unknown usernames are throttled like real ones, and answer the same', async () => {
    const t = await createTestApp();
    try {
      const answers = [];
      for (let i = 0; i < 7; i++) answers.push(await fail(t, 'nobody-here'));
      assert.equal(new Set(answers.map((a) => a.body)).size, 1);
      assert.equal((await t.services.throttle.waitFor('nobody-here', t.clock.now())) > 0, true);
      assert.equal(await t.services.throttle.waitFor('someone-else', t.clock.now()), 0);
    } finally {
      await t.close();
    }
  });

  test('the throttle state survives a restart and is shared by instances on one database', async () => {
    const t = await createTestApp();
    try {
      for (let i = 0; i < 5; i++) await fail(t);
      const store = await openStore(t.config.databaseUrl);
      const services = await createAuthServices(t.config, store, t.clock);
      const other = await buildApp(t.config, services, { logger: false });
      try {
        const response = await postToken(other, { username: 'johndoe', password: 'secret' });
        assert.equal(response.statusCode, 400);
        assert.equal(response.json().error, 'invalid_grant');
      } finally {
        await other.close();
        await store.close();
      }
    } finally {
      await t.close();
    }
  });

  test('waits grow 1 s, 2 s, 4 s ... and never exceed 15 minutes', () => {
    const at = (consecutive: number) => retryAt({ consecutiveFailures: consecutive, lastFailureAt: 0, windowStart: 0, windowFailures: 1 });
    assert.equal(at(4), 0);
    assert.equal(at(5), 1_000);
    assert.equal(at(6), 2_000);
    assert.equal(at(7), 4_000);
    assert.equal(at(14), 512_000);
    assert.equal(at(15), 900_000);
    assert.equal(at(80), 900_000);
  });

  test('at most 100 failures per account per hour, whatever the pace', () => {
    const failures = { consecutiveFailures: 1, lastFailureAt: 5_000, windowStart: 1_000, windowFailures: 100 };
    assert.equal(retryAt(failures), 1_000 + 3_600_000);
    assert.equal(retryAt({ ...failures, windowFailures: 99 }), 0);
  });

  test('the hourly window restarts after an hour; a throttled attempt never extends a wait', () => {
    let counts = countFailure(undefined, 0);
    counts = countFailure(counts, 1_000);
    assert.deepEqual(counts, { consecutiveFailures: 2, lastFailureAt: 1_000, windowStart: 0, windowFailures: 2 });
    counts = countFailure(counts, 3_600_000);
    assert.deepEqual(counts, { consecutiveFailures: 3, lastFailureAt: 3_600_000, windowStart: 3_600_000, windowFailures: 1 });
  });

  test('a concurrent burst gets no more tries than a sequence: at most 5 pass, and the right password only among them', async () => {
    // Enough hashing queue for the whole burst, so every attempt reaches the throttle, and a burst
    // that fits the account's queue in this process (one checked, WAITING_PER_ACCOUNT waiting).
    const t = await createTestApp({ env: { GATEHOUSE_HASH_QUEUE: '200' } });
    try {
      const BURST = WAITING_PER_ACCOUNT;
      const right = Math.floor(BURST / 2);
      const answers = await Promise.all(
        Array.from({ length: BURST + 1 }, (_, i) => postToken(t.app, { username: 'johndoe', password: i === right ? 'secret' : `wrong-${i}` })),
      );
      const audited = (event: string) => t.logs.filter((line) => line.audit === event && line.user === 'johndoe');
      const checked = audited('login.failure').length + audited('login.success').length;
      assert.ok(checked <= 5, `${checked} attempts got past the throttle`);
      assert.equal(audited('login.throttled').length, BURST + 1 - checked);
      // The store counted exactly the wrong passwords that were checked.
      const counts = await t.services.store.findLoginFailures(createHash('sha256').update('johndoe').digest('base64url'));
      assert.equal(counts!.windowFailures, audited('login.failure').length);
      const succeeded = answers[right]!.statusCode === 200;
      assert.equal(succeeded, audited('login.success').length === 1, 'a 200 only for a claim that got past the throttle');
      assert.equal(answers.filter((a) => a.statusCode === 200).length, succeeded ? 1 : 0);
      for (const [i, answer] of answers.entries()) if (i !== right) assert.equal(answer.statusCode, 400);
    } finally {
      await t.close();
    }
  });

  test('a burst spread over two instances on one database is bounded alike', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_HASH_QUEUE: '200' } });
    const store = await openStore(t.config.databaseUrl);
    try {
      const services = await createAuthServices(t.config, store, t.clock);
      const other = await buildApp(t.config, services, { logger: false });
      try {
        const apps = [t.app, other];
        // As many as each instance's queue for the account holds, so none is refused as busy.
        const burst = 2 * (WAITING_PER_ACCOUNT + 1);
        const answers = await Promise.all(Array.from({ length: burst }, (_, i) => postToken(apps[i % 2]!, { username: 'ghost', password: `wrong-${i}` })));
        assert.ok(answers.every((a) => a.statusCode === 400));
        const counts = await store.findLoginFailures(createHash('sha256').update('ghost').digest('base64url'));
        assert.ok(counts!.windowFailures <= 5, `${counts!.windowFailures} failures counted`);
        assert.equal(counts!.consecutiveFailures, counts!.windowFailures);
      } finally {
        await other.close();
        await services.hasher.close();
      }
    } finally {
      await store.close();
      await t.close();
    }
  });

  test('rows that no longer restrict anyone are swept after a success', async () => {
    const t = await createTestApp();
    try {
      const key = (name: string) => createHash('sha256').update(name).digest('base64url');
      await fail(t, 'passer-by');
      await fail(t);
      await good(t);
      assert.equal((await t.services.store.findLoginFailures(key('johndoe')))!.consecutiveFailures, 0);
      t.clock.advance(60 * 60_000);
      // The passer-by's streak is kept; johndoe's window has run out and his streak is over.
      await postToken(t.app, { username: 'alice', password: 'secret2' });
      assert.equal(await t.services.store.findLoginFailures(key('johndoe')), undefined);
      assert.equal((await t.services.store.findLoginFailures(key('passer-by')))!.consecutiveFailures, 1);
    } finally {
      await t.close();
    }
  });
});
