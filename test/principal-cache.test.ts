import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { runCli } from './helpers/run-cli.js';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

/**
 * On SQLite a token seen before is admitted from memory while nothing in the database has changed.
 * A change made by another process on the same file (the CLI, another instance) must still take
 * effect at the very next request; here a second store handle on the file plays that process.
 */
let t: TestApp;
let other: Store;
before(async () => {
  t = await createTestApp();
  other = await openStore(t.config.databaseUrl);
});
after(async () => {
  await other.close();
  await t.close();
});

const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });

async function warm(token: string): Promise<void> {
  // Twice: the second answer comes from memory, so the next one would too if nothing noticed the change.
  for (let i = 0; i < 2; i++) assert.equal((await me(token)).statusCode, 200);
}

test('a user disabled by another process is refused at the next request, and admitted again once enabled', async () => {
  const token = await login(t.app);
  await warm(token);
  assert.equal(await other.setUserDisabled('johndoe', true, t.clock.now()), true);
  assert.deepEqual((await me(token)).json(), { detail: 'Inactive user' });
  assert.equal(await other.setUserDisabled('johndoe', false, t.clock.now()), true);
  assert.equal((await me(token)).statusCode, 200);
});

test('a user disabled by the CLI, a real other process, is refused at the next request', async () => {
  // The data version is read once per turn of the event loop, so only a commit from outside this
  // process shows whether the remembered value is ever read again.
  const token = await login(t.app);
  await warm(token);
  const env = { DATABASE_URL: t.config.databaseUrl };
  assert.equal((await runCli(['users', 'disable', 'johndoe'], env)).code, 0);
  assert.deepEqual((await me(token)).json(), { detail: 'Inactive user' });
  assert.equal((await runCli(['users', 'enable', 'johndoe'], env)).code, 0);
  assert.equal((await me(token)).statusCode, 200);
});

test('a session ended by another process is refused at the next request', async () => {
  const token = await login(t.app);
  await warm(token);
  const { sid } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sid: string };
  assert.equal(await other.revokeSession(sid, t.clock.now()), true);
  assert.equal((await me(token)).statusCode, 401);
});

test('a scope removed by another process is missing at the next request', async () => {
  const token = await login(t.app);
  await warm(token);
  assert.equal(await other.setUserScopes('johndoe', ['items'], t.clock.now()), true);
  assert.equal((await me(token)).statusCode, 403);
  assert.equal(await other.setUserScopes('johndoe', ['me', 'items'], t.clock.now()), true);
  assert.equal((await me(token)).statusCode, 200);
});

test('a remembered token still expires on time', async () => {
  const token = await login(t.app);
  await warm(token);
  // Access tokens last 900 s, with 30 s of leeway.
  t.clock.advance(929_000);
  assert.equal((await me(token)).statusCode, 200);
  t.clock.advance(1_000);
  assert.equal((await me(token)).statusCode, 401);
});
