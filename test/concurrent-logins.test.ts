import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WAITING_PER_ACCOUNT } from '../src/auth/login-throttle.js';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

/**
 * The per-account throttle counts an attempt as a failure before checking it. Attempts at one
 * account in one instance take turns, so concurrent right passwords (a load test, an app retrying)
 * never count against each other, while concurrent wrong ones are throttled exactly as in a row.
 */

const attempts = (t: TestApp, count: number, password: (i: number) => string, username = 'johndoe') =>
  Promise.all(Array.from({ length: count }, (_, i) => postToken(t.app, { username, password: password(i) })));

describe('concurrent attempts at one account', () => {
  test('10 concurrent logins with the right password all succeed', async () => {
    const t = await createTestApp();
    try {
      const answers = await attempts(t, 10, () => 'secret');
      assert.deepEqual(answers.map((r) => r.statusCode), Array(10).fill(200));
      assert.equal(await t.services.throttle.waitFor('johndoe', t.clock.now()), 0);
      assert.equal(t.services.throttle.busyAccounts, 0);
    } finally {
      await t.close();
    }
  });

  test('7 concurrent wrong passwords: 5 are checked, the rest throttled, as in a row', async () => {
    const t = await createTestApp();
    try {
      const answers = await attempts(t, 7, (i) => `wrong-${i}`);
      assert.equal(new Set(answers.map((r) => `${r.statusCode} ${r.body}`)).size, 1, 'one identical answer');
      assert.equal(answers[0]!.json().error, 'invalid_grant');
      const audited = (event: string) => t.logs.filter((line) => line.audit === event && line.user === 'johndoe').length;
      assert.deepEqual([audited('login.failure'), audited('login.throttled')], [5, 2]);
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret' })).statusCode, 400, 'the account waits');
      t.clock.advance(1_000);
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('beyond 16 attempts waiting at one account, the next gets 503 with Retry-After at once', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_HASH_QUEUE: '200' } });
    try {
      const answers = await attempts(t, WAITING_PER_ACCOUNT + 3, () => 'secret');
      const busy = answers.filter((r) => r.statusCode === 503);
      assert.equal(busy.length, 2, answers.map((r) => r.statusCode).join(','));
      assert.equal(answers.filter((r) => r.statusCode === 200).length, WAITING_PER_ACCOUNT + 1);
      for (const r of busy) {
        assert.equal(r.headers['retry-after'], '1');
        assert.equal(r.json().error, 'temporarily_unavailable');
      }
      // Other accounts have queues of their own.
      assert.equal((await postToken(t.app, { username: 'alice', password: 'wrong' })).statusCode, 400);
      assert.equal(t.services.throttle.busyAccounts, 0);
    } finally {
      await t.close();
    }
  });

  test('an account is forgotten once its attempts are done: names tried once leave nothing behind', async () => {
    const t = await createTestApp();
    try {
      const names = Array.from({ length: 20 }, (_, i) => `passer-by-${i}`);
      let done = false;
      const pending = Promise.all(names.flatMap((username) => [0, 1].map(() => postToken(t.app, { username, password: 'guess' })))).finally(
        () => (done = true),
      );
      // While they are checked, each name has a queue.
      let peak = 0;
      while (!done) {
        peak = Math.max(peak, t.services.throttle.busyAccounts);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(peak > 1, `at most ${peak} accounts were queued at once`);
      assert.ok((await pending).every((r) => r.statusCode === 400));
      assert.equal(t.services.throttle.busyAccounts, 0);
    } finally {
      await t.close();
    }
  });

  test('concurrent password changes with the right current password are not refused as throttled: one wins, the rest find it changed', async () => {
    const t = await createTestApp();
    try {
      await t.services.users.create({ username: 'gina', password: 'gina-first-password', scopes: ['me'] });
      const token = await login(t.app, 'gina', 'gina-first-password');
      const changes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.app.inject({
            method: 'PUT',
            url: '/users/me/password',
            headers: { authorization: `Bearer ${token}` },
            payload: { current_password: 'gina-first-password', new_password: `gina-new-password-${i}` },
          }),
        ),
      );
      assert.deepEqual(changes.map((r) => r.statusCode).sort(), [204, ...Array(7).fill(400)], changes.map((r) => r.body).join(','));
      const failures = t.logs.filter((line) => line.audit === 'password.change_failure' && line.user === 'gina');
      assert.deepEqual(failures.map((line) => line.reason), Array(7).fill('password_changed'), 'none throttled');
      assert.equal(await t.services.throttle.waitFor('gina', t.clock.now()), 0);
      assert.equal(t.services.throttle.busyAccounts, 0);
    } finally {
      await t.close();
    }
  });
});
