import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthServices } from '../src/auth/auth-services.js';
import { retryAt } from '../src/auth/login-throttle.js';
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

  test('the hourly window restarts after an hour', async () => {
    const t = await createTestApp();
    try {
      const store = t.services.store;
      let counts = await store.recordLoginFailure('k', 0, 3_600_000);
      counts = await store.recordLoginFailure('k', 1_000, 3_600_000);
      assert.equal(counts.windowFailures, 2);
      counts = await store.recordLoginFailure('k', 3_600_000, 3_600_000);
      assert.deepEqual(counts, { consecutiveFailures: 3, lastFailureAt: 3_600_000, windowStart: 3_600_000, windowFailures: 1 });
    } finally {
      await t.close();
    }
  });
});
