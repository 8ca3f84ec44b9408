import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet } from 'jose';
import { spawnServer } from './helpers/spawn-server.js';

type Entry = typeof import('../src/index.js');
type ServerEntry = typeof import('../src/server.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The public URL in tokens differs from the address the server listens on, as behind a proxy.
const ISSUER = 'https://auth.example.test';
// Imported by name, as another service would, through package.json's exports. A variable keeps
// the type check independent of a build: the types are the sources'.
const PACKAGE = 'gatehouse';

let entry: Entry;
let serverEntry: ServerEntry;
let app: FastifyInstance;
let base: string;
let dir: string;

const login = async (username: string, password: string): Promise<string> => {
  const response = await fetch(`${base}/token`, { method: 'POST', body: new URLSearchParams({ username, password }) });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { access_token: string }).access_token;
};

describe('the built package', () => {
  before(async () => {
    // The entries are dist/ files: build them from the current sources first.
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
    entry = (await import(PACKAGE)) as Entry;
    serverEntry = (await import(`${PACKAGE}/server`)) as ServerEntry;

    dir = mkdtempSync(join(tmpdir(), 'gatehouse-package-'));
    const config = serverEntry.loadConfig({ DATABASE_URL: join(dir, 'g.db'), GATEHOUSE_ISSUER: ISSUER });
    const store = await serverEntry.openStore(config.databaseUrl);
    const services = await serverEntry.createAuthServices(config, store, serverEntry.systemClock);
    await services.users.create({ username: 'carol', password: 'carol-long-password', scopes: ['me'] });
    app = await serverEntry.buildApp(config, services, { logger: false });
    app.addHook('onClose', async () => store.close());
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('main, types and every export name a file the build produced', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))];
    for (const target of targets) assert.ok(existsSync(join(ROOT, target)), `${target} exists`);
  });

  test('another service verifies a Gatehouse token with the keys it fetches from the JWKS', async () => {
    const token = await login('carol', 'carol-long-password');
    const verifier = new entry.AccessTokenVerifier({
      key: createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`)),
      issuer: ISSUER,
      audience: ISSUER,
      algorithms: ['ES256'],
    });
    const claims = await verifier.verify(entry.parseBearer(`Bearer ${token}`));
    assert.equal(claims.sub, 'carol');
    assert.equal(claims.scope, 'me');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.client_id, 'gatehouse');
  });

  test('a tampered token, or one for another audience, is an InvalidToken', async () => {
    const token = await login('carol', 'carol-long-password');
    const key = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const verifier = new entry.AccessTokenVerifier({ key, issuer: ISSUER, audience: ISSUER, algorithms: ['ES256'] });
    const [header, payload] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: 'me admin' })).toString('base64url')}.${token.split('.')[2]}`;
    await assert.rejects(verifier.verify(forged), (err) => err instanceof entry.InvalidToken && err instanceof entry.ResourceError);
    const elsewhere = new entry.AccessTokenVerifier({ key, issuer: ISSUER, audience: 'https://other.example.test', algorithms: ['ES256'] });
    await assert.rejects(elsewhere.verify(token), entry.InvalidToken);
  });

  test('bearer parsing answers NotAuthenticated without a Bearer header, InvalidToken for a malformed one', () => {
    assert.throws(() => entry.parseBearer(undefined), entry.NotAuthenticated);
    assert.throws(() => entry.parseBearer('Basic dXNlcjpwYXNz'), entry.NotAuthenticated);
    assert.throws(() => entry.parseBearer('Bearer not a token'), entry.InvalidToken);
    assert.equal(entry.parseBearer('bearer   abc.def.ghi '), 'abc.def.ghi');
  });

  test("the README's example for another service verifies a token from a running Gatehouse", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Verifying tokens in another service'));
    const code = /```js\n([\s\S]*?)```/.exec(section)![1]!;
    const expected = /```console\n\$ [^\n]*\n([\s\S]*?)```/.exec(section)![1]!;
    const demo = await spawnServer(['--demo'], { DATABASE_URL: join(dir, 'demo.db') });
    try {
      const response = await fetch(`${demo.url}/token`, { method: 'POST', body: new URLSearchParams({ username: 'johndoe', password: 'secret' }) });
      const { access_token } = (await response.json()) as { access_token: string };
      const port = new URL(demo.url).port;
      // Run from the package's folder, where `gatehouse` resolves to this package as it would in a dependent.
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--input-type=module', '-e', code.replaceAll(':8000', `:${port}`)],
          { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TOKEN: access_token } },
          (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
        ),
      );
      assert.equal(stdout, expected);
    } finally {
      await demo.stop();
    }
  });
});
