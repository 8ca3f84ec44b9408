import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WEAK_SECRETS } from './helpers/hs256-secrets.js';
import { runCli } from './helpers/run-cli.js';
import { runServerToExit, spawnServer, type RunningServer } from './helpers/spawn-server.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/**
 * The first line of the server's log that contains `text`. The log is written by another stream
 * than the banner, so it may arrive just after the server says it is listening.
 */
async function logLine(server: RunningServer, text: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  const find = () => server.stdout().split('\n').find((line) => line.includes(text));
  while (find() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const line = find();
  assert.ok(line, `no log line with "${text}" in: ${server.stdout()}`);
  return line;
}

describe('running the server', () => {
  test('demo mode creates the SQLite file, seeds the tutorial users and prints the docs URL and credentials', async () => {
    const databaseUrl = join(dir, 'nested', 'demo.db');
    const server = await spawnServer(['--demo'], { DATABASE_URL: databaseUrl });
    try {
      assert.ok(existsSync(databaseUrl), 'the database file and its folder are created');
      assert.match(server.stdout(), new RegExp(`Interactive docs: ${server.url}/docs`));
      assert.match(server.stdout(), /johndoe \/ secret/);
      assert.match(server.stdout(), /alice \/ secret2/);

      const login = await fetch(`${server.url}/token`, form({ username: 'johndoe', password: 'secret' }));
      assert.equal(login.status, 200);
      const { access_token } = (await login.json()) as { access_token: string };
      const me = await fetch(`${server.url}/users/me`, { headers: { authorization: `Bearer ${access_token}` } });
      assert.deepEqual(await me.json(), { username: 'johndoe', email: 'johndoe@example.com', full_name: 'John Doe', disabled: false });

      const alice = await fetch(`${server.url}/token`, form({ username: 'alice', password: 'secret2' }));
      assert.equal(alice.status, 400);
      assert.equal(((await alice.json()) as { detail: string }).detail, 'Inactive user');

      const docs = await fetch(`${server.url}/docs`, { redirect: 'follow' });
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger-ui/i);
    } finally {
      assert.equal(await server.stop(), 0, 'SIGTERM shuts down cleanly');
    }
  });

  test('demo users survive a restart and are not re-seeded over changes', async () => {
    const databaseUrl = join(dir, 'restart.db');
    const first = await spawnServer(['--demo'], { DATABASE_URL: databaseUrl });
    await first.stop();
    const second = await spawnServer(['--demo'], { DATABASE_URL: databaseUrl });
    try {
      assert.match(second.stdout(), /^ {2}johndoe \/ secret {2}\(scopes: me items\)$/m, 'unchanged users keep their credentials in the banner');
      assert.match(second.stdout(), /^ {2}alice \/ secret2 {2}\(disabled: gets "Inactive user"\)$/m);
      assert.doesNotMatch(second.stdout(), /changed|reset/);
      const login = await fetch(`${second.url}/token`, form({ username: 'johndoe', password: 'secret' }));
      assert.equal(login.status, 200);
    } finally {
      await second.stop();
    }
  });

  test('a restart in demo mode with no hash queue starts (its check of the demo users once failed as "busy")', async () => {
    const env = { DATABASE_URL: join(dir, 'no-queue.db'), GATEHOUSE_HASH_QUEUE: '0', GATEHOUSE_HASH_CONCURRENCY: '1' };
    await (await spawnServer(['--demo'], env)).stop();
    const again = await spawnServer(['--demo'], env);
    try {
      assert.match(again.stdout(), /^ {2}johndoe \/ secret /m);
    } finally {
      await again.stop();
    }
  });

  test('the demo banner shows no credentials of demo users changed since they were seeded, and says how to reset them', async () => {
    const databaseUrl = join(dir, 'changed.db');
    await (await spawnServer(['--demo'], { DATABASE_URL: databaseUrl })).stop();
    const env = { DATABASE_URL: databaseUrl };
    for (const [args, stdin] of [[['users', 'disable', 'johndoe']], [['users', 'passwd', 'johndoe'], 'a brand new password\n'], [['users', 'enable', 'alice']]] as const) {
      const result = await runCli(args, env, stdin);
      assert.equal(result.code, 0, result.stderr);
    }
    const server = await spawnServer(['--demo'], env);
    try {
      const banner = server.stdout();
      assert.doesNotMatch(banner, /secret/, 'no stale credentials');
      assert.match(banner, /^ {2}johndoe: changed since demo mode created it \(password changed, now disabled\)$/m);
      assert.match(banner, /^ {2}alice: changed since demo mode created it \(now enabled\)$/m);
      assert.ok(banner.includes(`Demo users are created only when missing: to reset them, stop the server and delete ${databaseUrl} with its -wal and -shm files.`), banner);
      // The changes were kept: the banner describes what is stored.
      const alice = await fetch(`${server.url}/token`, form({ username: 'alice', password: 'secret2' }));
      assert.equal(alice.status, 200);
    } finally {
      await server.stop();
    }
  });

  test('production mode seeds nothing, even when asked for the demo', async () => {
    const server = await spawnServer(['--demo'], { DATABASE_URL: join(dir, 'prod.db'), NODE_ENV: 'production' });
    try {
      assert.doesNotMatch(server.stdout(), /secret/);
      assert.match(server.stderr(), /demo users are not seeded/);
      const login = await fetch(`${server.url}/token`, form({ username: 'johndoe', password: 'secret' }));
      assert.equal(login.status, 400);
      assert.equal(((await login.json()) as { error: string }).error, 'invalid_grant');
    } finally {
      await server.stop();
    }
  });

  test('production without GATEHOUSE_ISSUER warns at start that tokens name http://HOST:PORT', async () => {
    const server = await spawnServer([], { DATABASE_URL: join(dir, 'prod-issuer.db'), NODE_ENV: 'production' });
    try {
      const warning = await logLine(server, 'GATEHOUSE_ISSUER is not set');
      const { level, msg } = JSON.parse(warning) as { level: number; msg: string };
      assert.equal(level, 40, 'logged as a warning');
      assert.equal(msg, `GATEHOUSE_ISSUER is not set, so tokens name ${server.url} as their issuer: set it to the public URL clients use, the same on every instance`);
    } finally {
      await server.stop();
    }
    const configured = await spawnServer([], { DATABASE_URL: join(dir, 'prod-issuer.db'), NODE_ENV: 'production', GATEHOUSE_ISSUER: 'https://auth.example.com' });
    const development = await spawnServer([], { DATABASE_URL: join(dir, 'dev-issuer.db') });
    try {
      for (const server of [configured, development]) assert.doesNotMatch(server.stdout(), /GATEHOUSE_ISSUER/);
    } finally {
      await Promise.all([configured.stop(), development.stop()]);
    }
  });

  test('listening on all interfaces without GATEHOUSE_ISSUER warns in every mode: http://0.0.0.0 is no client\'s address', async () => {
    const server = await spawnServer([], { DATABASE_URL: join(dir, 'wildcard-issuer.db'), HOST: '0.0.0.0' });
    try {
      const warning = await logLine(server, 'GATEHOUSE_ISSUER is not set');
      assert.match((JSON.parse(warning) as { msg: string }).msg, /tokens name http:\/\/0\.0\.0\.0:\d+ as their issuer/);
    } finally {
      await server.stop();
    }
  });

  test('GATEHOUSE_PASSWORD_GRANT naming an unregistered client is warned about at start', async () => {
    const server = await spawnServer([], { DATABASE_URL: join(dir, 'grant-list.db'), GATEHOUSE_PASSWORD_GRANT: 'gatehouse, nosuch' });
    try {
      const warning = await logLine(server, 'GATEHOUSE_PASSWORD_GRANT names');
      assert.equal((JSON.parse(warning) as { client: string }).client, 'nosuch');
      // The built-in client is always there: only the unknown one is named.
      assert.equal(server.stdout().split('\n').filter((line) => line.includes('GATEHOUSE_PASSWORD_GRANT names')).length, 1);
    } finally {
      await server.stop();
    }
  });

  test('without --demo no users are created', async () => {
    const server = await spawnServer([], { DATABASE_URL: join(dir, 'plain.db') });
    try {
      const login = await fetch(`${server.url}/token`, form({ username: 'johndoe', password: 'secret' }));
      assert.equal(login.status, 400);
    } finally {
      await server.stop();
    }
  });

  test('a weak HS256 secret stops the server with exit status 1 and one line, in every mode (was accepted)', async () => {
    // The reported ones; test/signing-keys.test.ts checks every kind through loadConfig.
    for (const [i, [secret, why]] of WEAK_SECRETS.slice(0, 4).entries()) {
      // Demo and production alternate, so each mode sees a repeat and a published secret.
      const [args, env] = i % 2 === 0 ? [['--demo'], {}] : [[], { NODE_ENV: 'production' }];
      const what = `${JSON.stringify(secret)} ${JSON.stringify(env)}`;
      const result = await runServerToExit(args, { ...env, DATABASE_URL: join(dir, `weak-${i}.db`), GATEHOUSE_HS256_SECRET: secret });
      assert.equal(result.code, 1, `${what}: ${result.stderr}`);
      assert.match(result.stderr, /^gatehouse: GATEHOUSE_HS256_SECRET [^\n]+; generate one with: openssl rand -base64 48\n$/, what);
      assert.match(result.stderr, why, what);
      assert.equal(result.stdout, '', `${what}: nothing was served`);
    }
  });

  test('a port already in use stops the server with one line that says to set PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await runServerToExit([], { DATABASE_URL: join(dir, 'port-taken.db'), PORT: String(port) });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stderr, `gatehouse: 127.0.0.1:${port} is already in use: set PORT (or HOST) to a free one, e.g. PORT=${port + 1}\n`);
    } finally {
      taken.close();
    }
  });

  test('a bad configuration stops the server with a one-line message', async () => {
    await assert.rejects(spawnServer([], { DATABASE_URL: join(dir, 'bad.db'), GATEHOUSE_HS256_SECRET: 'short' }), /at least 32 bytes/);
  });
});
