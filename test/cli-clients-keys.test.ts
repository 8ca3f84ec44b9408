import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createAuthServices, type AuthServices } from '../src/auth/auth-services.js';
import { systemClock } from '../src/auth/clock.js';
import { seedDemoUsers } from '../src/auth/demo-users.js';
import { buildApp } from '../src/app.js';
import { run } from '../src/cli/dispatch.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/open-store.js';
import { spawnServer } from './helpers/spawn-server.js';
import { splitAudit } from './helpers/audit-lines.js';
import { postToken } from './helpers/test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function freshDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-ck-'));
  dirs.push(dir);
  return join(dir, 'gatehouse.db');
}

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns the real CLI with only DATABASE_URL (and `env`) in its environment. */
function gatehouse(db: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function assertFails(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^gatehouse: [^\n]+\n$/);
  assert.match(result.stderr, message);
}

/**
 * Runs `action` on an in-process app over the CLI's database, with the demo users seeded. Opening
 * it first also migrates the database, so the CLI processes started inside may run concurrently.
 */
async function withApp<T>(db: string, action: (app: FastifyInstance, services: AuthServices) => Promise<T>): Promise<T> {
  const config = loadConfig({ DATABASE_URL: db, LOG_LEVEL: 'silent' });
  const store = await openStore(config.databaseUrl);
  try {
    const services = await createAuthServices(config, store, systemClock);
    await seedDemoUsers(services.users);
    const app = await buildApp(config, services);
    try {
      return await action(app, services);
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function introspect(app: FastifyInstance, token: string, authorization: string) {
  return app.inject({
    method: 'POST',
    url: '/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    payload: new URLSearchParams({ token }).toString(),
  });
}

const me = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });

async function accessToken(response: { statusCode: number; body: string; json(): unknown }): Promise<string> {
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { access_token: string }).access_token;
}

describe('gatehouse clients', { concurrency: true }, () => {
  test('a confidential client introspects with its secret, a public one logs in by id, and removal ends both', async () => {
    const db = freshDb();
    await withApp(db, async (app) => {
      const [confidential, pub] = await Promise.all([
        gatehouse(db, ['clients', 'add', 'svc', '--name', 'Billing service']),
        gatehouse(db, ['clients', 'add', 'spa', '--public', '--grants', 'password', '--scopes', 'me']),
      ]);
      assert.equal(confidential.code, 0, confidential.stderr);
      const [created, secretLine, ...rest] = confidential.stdout.split('\n');
      assert.equal(created, 'created client svc');
      assert.match(secretLine!, /^client_secret: [A-Za-z0-9_-]{43}$/);
      assert.deepEqual(rest, ['']);
      const confidentialErr = splitAudit(confidential.stderr);
      assert.match(confidentialErr.rest, /^[^\n]*cannot be shown again[^\n]*\n$/);
      assert.deepEqual(confidentialErr.audit.map((l) => [l.audit, l.client, l.origin]), [['client.create', 'svc', 'cli']]);
      const secret = secretLine!.slice('client_secret: '.length);
      assert.deepEqual({ ...pub, stderr: splitAudit(pub.stderr).rest }, { code: 0, stdout: 'created client spa\n', stderr: '' });

      // A confidential client may introspect; the wrong secret is invalid_client.
      const userToken = await accessToken(await postToken(app, { username: 'johndoe', password: 'secret' }));
      const active = await introspect(app, userToken, basic('svc', secret));
      assert.equal(active.statusCode, 200, active.body);
      assert.equal((active.json() as { active: boolean }).active, true);
      const wrong = await introspect(app, userToken, basic('svc', `${secret}x`));
      assert.equal(wrong.statusCode, 401);
      assert.equal((wrong.json() as { error: string }).error, 'invalid_client');

      // A public client names itself with client_id alone, and is the token's client_id.
      const spaToken = await accessToken(await postToken(app, { username: 'johndoe', password: 'secret', client_id: 'spa' }));
      assert.equal(decodeJwt(spaToken).client_id, 'spa');
      assert.equal(decodeJwt(spaToken).scope, 'me');
      assert.equal((await me(app, spaToken)).statusCode, 200);

      const [listed, table] = await Promise.all([gatehouse(db, ['clients', 'list', '--json']), gatehouse(db, ['clients', 'list'])]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(
        (JSON.parse(listed.stdout) as Record<string, unknown>[]).map(({ created_at, ...client }) => {
          assert.match(String(created_at), /^\d{4}-\d\d-\d\dT/);
          return client;
        }),
        [
          { id: 'spa', name: 'spa', type: 'public', grant_types: ['password'], scopes: ['me'] },
          { id: 'svc', name: 'Billing service', type: 'confidential', grant_types: ['password', 'refresh_token'], scopes: ['me', 'items'] },
        ],
      );
      assert.match(table.stdout, /^ID\s+NAME\s+TYPE\s+GRANTS\s+SCOPES\nspa\s+spa\s+public\s+password\s+me\nsvc\s+Billing service\s+confidential\s+password refresh_token\s+me items\n$/);
      for (const output of [listed.stdout, table.stdout]) {
        assert.ok(!output.includes(secret), 'the secret was listed');
        assert.doesNotMatch(output, /hash|secret/i);
      }

      const removed = await Promise.all([gatehouse(db, ['clients', 'remove', 'spa']), gatehouse(db, ['clients', 'remove', 'svc'])]);
      for (const [i, result] of removed.entries()) {
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(splitAudit(result.stderr).audit.map((l) => [l.audit, l.client]), [['client.remove', ['spa', 'svc'][i]]]);
      }
      const relogin = await postToken(app, { username: 'johndoe', password: 'secret', client_id: 'spa' });
      assert.equal(relogin.statusCode, 401);
      assert.equal((relogin.json() as { error: string }).error, 'invalid_client');
      assert.equal((await me(app, spaToken)).statusCode, 401, 'a removed client\'s tokens stop working');
      assert.equal((await introspect(app, userToken, basic('svc', secret))).statusCode, 401);
    });
  });

  test('bad ids, unknown scopes or grants, taken ids and unknown clients are refused with exit 1', async () => {
    const db = freshDb();
    await withApp(db, async (_app, services) => {
      await services.clientAdmin.create({ id: 'svc', confidential: true });
      const refusals: [string[], RegExp][] = [
        [['clients', 'add', 'bad id!'], /client id must be 1 to 64 characters/],
        [['clients', 'add', 'gatehouse'], /built-in client/],
        [['clients', 'add', 'x', '--scopes', 'me wizardry'], /unknown scope: wizardry/],
        [['clients', 'add', 'x', '--grants', 'password implicit'], /unknown grant type: implicit/],
        [['clients', 'add', 'svc', '--public'], /"svc" already exists/],
        [['clients', 'remove', 'nobody'], /no client named "nobody"/],
      ];
      const results = await Promise.all(refusals.map(([args]) => gatehouse(db, args)));
      results.forEach((result, i) => assertFails(result, 1, refusals[i]![1]));
      assert.deepEqual((await services.clientAdmin.list()).map((c) => c.id), ['svc'], 'nothing was created');
    });
  });
});

describe('gatehouse keys', () => {
  test('rotate makes a new key current: the server signs with it after reloading and publishes both', async () => {
    const db = freshDb();
    await withApp(db, async (app, services) => {
      const oldKid = services.keys.current.kid;
      const before = await accessToken(await postToken(app, { username: 'johndoe', password: 'secret' }));

      const [rotated, refused] = await Promise.all([
        gatehouse(db, ['keys', 'rotate']),
        gatehouse(db, ['keys', 'rotate'], { GATEHOUSE_HS256_SECRET: 'a shared secret of at least 32 bytes' }),
      ]);
      assert.equal(rotated.code, 0, rotated.stderr);
      const [first, second] = rotated.stdout.split('\n');
      const newKid = /^new signing key ([A-Za-z0-9_-]{43}) \(ES256\)$/.exec(first!)?.[1];
      assert.ok(newKid, rotated.stdout);
      assert.match(second!, /within 30 s.*until they expire/);
      assert.deepEqual(splitAudit(rotated.stderr), {
        audit: [{ ...splitAudit(rotated.stderr).audit[0], audit: 'key.rotate', kid: newKid, origin: 'cli' }],
        rest: '',
      });
      assertFails(refused, 1, /GATEHOUSE_HS256_SECRET is set.*changing it/);

      const [listed, table] = await Promise.all([gatehouse(db, ['keys', 'list', '--json']), gatehouse(db, ['keys', 'list'])]);
      assert.equal(listed.code, 0, listed.stderr);
      const keys = JSON.parse(listed.stdout) as Record<string, string | null>[];
      assert.deepEqual(keys.map((k) => [k.kid, k.status]), [[oldKid, 'retired'], [newKid, 'current']]);
      const old = keys[0]!;
      // Retirement, plus a reload interval, a token lifetime (900 s) and the verifier's leeway.
      assert.equal(Date.parse(old.verifies_until!) - Date.parse(old.retired_at!), 30_000 + 900_000 + 30_000);
      assert.match(table.stdout, new RegExp(`^KID\\s+ALG\\s+CREATED\\s+STATUS\\n${oldKid}\\s+ES256\\s+\\S+\\s+retired \\(verifies until ${old.verifies_until}\\)\\n${newKid}\\s+ES256\\s+\\S+\\s+current\\n$`));
      for (const output of [listed.stdout, table.stdout]) assert.doesNotMatch(output, /"d"|private|jwk/i);

      await services.keys.reload();
      const afterRotation = await accessToken(await postToken(app, { username: 'johndoe', password: 'secret' }));
      assert.equal(decodeProtectedHeader(afterRotation).kid, newKid);
      const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] };
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
      assert.equal((await me(app, before)).statusCode, 200, 'tokens of the old key keep verifying');
    });
  });
});

describe('keys of another algorithm', () => {
  test('rotate to RS256 from the CLI while an ES256 server runs: it signs RS256 from then on, and ES256 tokens verify until they expire', async () => {
    const db = freshDb();
    await withApp(db, async (app, services) => {
      const es256Token = await accessToken(await postToken(app, { username: 'johndoe', password: 'secret' }));
      assert.equal(decodeProtectedHeader(es256Token).alg, 'ES256');

      const rotated = await gatehouse(db, ['keys', 'rotate'], { GATEHOUSE_SIGNING_ALG: 'RS256' });
      assert.equal(rotated.code, 0, rotated.stderr);
      const rsaKid = /^new signing key (\S+) \(RS256\)$/m.exec(rotated.stdout)?.[1];
      assert.ok(rsaKid, rotated.stdout);

      // Two reload intervals: the server configured ES256 must not answer with a key of its own.
      await services.keys.reload();
      await services.keys.reload();
      const rs256Token = await accessToken(await postToken(app, { username: 'johndoe', password: 'secret' }));
      assert.deepEqual([decodeProtectedHeader(rs256Token).alg, decodeProtectedHeader(rs256Token).kid], ['RS256', rsaKid]);
      assert.equal((await me(app, es256Token)).statusCode, 200);
      assert.equal((await me(app, rs256Token)).statusCode, 200);

      const listed = JSON.parse((await gatehouse(db, ['keys', 'list', '--json'])).stdout) as { alg: string; status: string }[];
      assert.deepEqual(listed.map((k) => [k.alg, k.status]), [['ES256', 'retired'], ['RS256', 'current']]);

      // A server process started now with the default GATEHOUSE_SIGNING_ALG signs with the RS256
      // key too, and says why its tokens are not ES256.
      const server = await spawnServer([], { DATABASE_URL: db, LOG_LEVEL: 'info' });
      try {
        const login = await fetch(`${server.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'username=johndoe&password=secret',
        });
        const token = ((await login.json()) as { access_token: string }).access_token;
        assert.equal(decodeProtectedHeader(token).kid, rsaKid);
        assert.match(server.stdout(), /the current signing key is RS256, so tokens are RS256: GATEHOUSE_SIGNING_ALG=ES256 applies to keys generated later/);
      } finally {
        await server.stop();
      }
      assert.equal((await services.store.listSigningKeys()).length, 2, 'nobody generated a key');
    });
  });
});

describe('clients and keys usage', () => {
  // In-process: usage answers load no database, and spawning a CLI per topic costs a second each.
  test('--help prints usage on stdout and exits 0; usage errors exit 2 with one line', async (t) => {
    let stdout = '';
    let stderr = '';
    // The test runner reports through this process's stdout in Buffers; the CLI writes strings.
    const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;
    t.mock.method(process.stdout, 'write', (chunk: unknown, ...rest: unknown[]) =>
      typeof chunk === 'string' ? ((stdout += chunk), true) : write(chunk, ...rest),
    );
    t.mock.method(process.stderr, 'write', (chunk: string) => ((stderr += chunk), true));
    for (const command of [['clients'], ['clients', 'add'], ['clients', 'list'], ['clients', 'remove'], ['keys'], ['keys', 'rotate'], ['keys', 'list']]) {
      stdout = '';
      assert.equal(await run([...command, '--help']), 0);
      assert.match(stdout, new RegExp(`^Usage: gatehouse ${command.join(' ')}`));
    }
    const usageErrors: [string[], RegExp][] = [
      [['clients'], /clients: missing subcommand/],
      [['clients', 'add'], /clients add: missing <id>/],
      [['clients', 'add', 'a', 'b'], /takes one <id>/],
      [['clients', 'add', 'a', '--scopes'], /--scopes needs a value/],
      [['clients', 'list', '--yaml'], /unknown option --yaml/],
      [['keys', 'frob'], /keys: unknown subcommand "frob"/],
      [['keys', 'rotate', 'now'], /takes no arguments/],
    ];
    for (const [args, message] of usageErrors) {
      stdout = '';
      stderr = '';
      assert.equal(await run(args), 2, args.join(' '));
      assert.equal(stdout, '');
      assert.match(stderr, /^gatehouse: [^\n]+\n$/);
      assert.match(stderr, message);
    }
  });
});
