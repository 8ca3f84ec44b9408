import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PasswordHasher } from '../src/auth/password-hasher.js';
import { WorkLimiter } from '../src/auth/work-limiter.js';
import { ServerBusy } from '../src/errors.js';
import { createTestApp, postToken } from './helpers/test-app.js';

/** Resolves once `hasher` refuses more work: its hashing is busy and its queue full. */
async function saturated(hasher: PasswordHasher): Promise<void> {
  for (;;) {
    try {
      hasher.assertRoom();
    } catch {
      return;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('password hashing is bounded', () => {
  test('beyond the queue, /token answers 503 with Retry-After at once, and the server recovers', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_HASH_CONCURRENCY: '1', GATEHOUSE_HASH_QUEUE: '2' } });
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => postToken(t.app, { username: `flood${i}`, password: 'x' })));
      const busy = answers.filter((r) => r.statusCode === 503);
      assert.equal(busy.length, 9, answers.map((r) => r.statusCode).join(','));
      for (const r of busy) {
        assert.equal(r.headers['retry-after'], '1');
        assert.equal(r.headers['cache-control'], 'no-store');
        assert.deepEqual(r.json(), {
          error: 'temporarily_unavailable',
          error_description: 'The server is busy; retry shortly',
          detail: 'The server is busy; retry shortly',
        });
      }
      assert.equal(answers.filter((r) => r.statusCode === 400).length, 3);
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('a login refused because hashing is saturated reads and counts nothing: the account is not throttled by it', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_HASH_CONCURRENCY: '1', GATEHOUSE_HASH_QUEUE: '2' } });
    try {
      const findUser = t.services.store.findUserByUsername.bind(t.services.store);
      let reads = 0;
      t.services.store.findUserByUsername = async (username) => {
        if (username === 'johndoe') reads += 1;
        return findUser(username);
      };
      // Three other accounts fill the hashing (one running, two waiting); attempts at one account
      // take turns, so only other accounts' attempts can saturate it.
      const floods = Array.from({ length: 3 }, (_, i) => postToken(t.app, { username: `flood${i}`, password: 'x' }));
      await saturated(t.services.hasher);
      const guesses = Array.from({ length: 9 }, () => postToken(t.app, { username: 'johndoe', password: 'wrong' }));
      assert.deepEqual((await Promise.all(floods)).map((r) => r.statusCode), [400, 400, 400]);
      assert.deepEqual((await Promise.all(guesses)).map((r) => r.statusCode), Array(9).fill(503));
      assert.equal(reads, 0, 'the refused attempts did not read the user');
      // Nothing was counted against johndoe: the right password works at once.
      assert.equal(await t.services.throttle.waitFor('johndoe', t.clock.now()), 0);
      assert.equal((await postToken(t.app, { username: 'johndoe', password: 'secret' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('the limiter runs at most N jobs, queues at most M, and hands slots on in order', async () => {
    const limiter = new WorkLimiter(2, 1);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (id: number) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running -= 1;
      order.push(id);
      return id;
    };
    const results = await Promise.allSettled([1, 2, 3, 4].map((id) => limiter.run(job(id))));
    assert.equal(peak, 2);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    assert.ok((results[3] as PromiseRejectedResult).reason instanceof ServerBusy);
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
    assert.equal(order.at(-1), 3);
  });

  test('the queue is bounded in time: while jobs run slow, one that would wait longer than the bound is refused at once', async () => {
    let now = 0;
    const limiter = new WorkLimiter(1, 32, { maxExpectedWaitMs: 1_000, now: () => now });
    // A job that takes `ms` on the limiter's clock, ended by the returned function.
    const started = (ms: number) => {
      let end!: () => void;
      const done = limiter.run(() => new Promise<void>((resolve) => (end = () => ((now += ms), resolve()))));
      return { done, end: () => end() };
    };
    const first = started(400);
    assert.equal(limiter.expectedWaitMs(), 0, 'nothing measured yet');
    first.end();
    await first.done;
    // One 400 ms job measured: with one running, a second and a third may wait (400, 800 ms)...
    const running = started(400);
    const queued = [limiter.run(async () => undefined), limiter.run(async () => undefined)];
    assert.equal(limiter.expectedWaitMs(), 1_200);
    // ...a fourth would wait 1200 ms: refused admission, though the queue has room for 32. Work
    // already admitted (its caller asked before committing to it) still runs: run() keeps only the length bound.
    assert.throws(() => limiter.assertRoom(), ServerBusy);
    const admitted = limiter.run(async () => undefined);
    assert.deepEqual(limiter.load, { running: 1, waiting: 3 });
    running.end();
    await Promise.all([running.done, ...queued, admitted]);
    // A free slot is never refused, so fast jobs bring the mean back down and the queue reopens.
    assert.equal(limiter.expectedWaitMs(), 0);
    for (let i = 0; i < 20; i++) await limiter.run(async () => undefined);
    const slow = started(0);
    assert.ok(limiter.expectedWaitMs() < 10, String(limiter.expectedWaitMs()));
    limiter.assertRoom();
    slow.end();
    await slow.done;
  });

  test('a job running long raises the expected wait before it ends, and a clock gone wrong is not averaged in', async () => {
    let now = 0;
    const limiter = new WorkLimiter(1, 32, { maxExpectedWaitMs: 1_000, now: () => now });
    await limiter.run(async () => void (now += 10));
    let end!: () => void;
    const stuck = limiter.run(() => new Promise<void>((resolve) => (end = resolve)));
    assert.equal(limiter.expectedWaitMs(), 10);
    now += 5_000;
    assert.equal(limiter.expectedWaitMs(), 5_000, 'the running job has taken 5 s: the next would wait that long at least');
    assert.throws(() => limiter.assertRoom(), ServerBusy);
    now = Number.NaN;
    end();
    await stuck;
    now = 6_000;
    assert.equal(limiter.expectedWaitMs(), 0);
    const running = limiter.run(() => new Promise<void>((resolve) => (end = resolve)));
    // The mean is still the 10 ms job's (a 2 s cap also bounds what one paused job adds).
    assert.equal(limiter.expectedWaitMs(), 10);
    end();
    await running;
  });

  test('a right password with an outdated hash still logs in when the stronger hash finds the queue full: the upgrade waits for a later login', async () => {
    const weak = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
    const stored = await new PasswordHasher(weak).hash('correct horse');
    const limiter = new WorkLimiter(1, 1);
    const hasher = new PasswordHasher({ ...weak, memoryCost: 2048 }, { limiter });
    try {
      const verifying = hasher.verify(stored, 'correct horse');
      // Queued behind the verification; when it takes the slot, it queues one more job, so the
      // stronger hash the verification then asks for finds the queue full.
      let release!: () => void;
      let behind: Promise<void> | undefined;
      const other = limiter.run(() => {
        behind = limiter.run(async () => undefined);
        return new Promise<void>((resolve) => (release = resolve));
      });
      const result = await verifying;
      assert.deepEqual(result, { ok: true, upgradedHash: undefined });
      release();
      await Promise.all([other, behind]);
      // With room, the same login upgrades.
      assert.match((await hasher.verify(stored, 'correct horse')).upgradedHash ?? '', /^\$argon2id\$v=19\$m=2048,/);
    } finally {
      await hasher.close();
    }
  });
});
