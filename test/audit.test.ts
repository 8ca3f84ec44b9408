import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { splitAudit } from './helpers/audit-lines.js';
import { runCli } from './helpers/run-cli.js';
import { createTestApp, login, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
const secrets: string[] = ['secret', 'wrong-password-here', 'a-long-admin-password', 'brand-new-long-password'];
/** Everything the CLI wrote to stderr, where its audit lines go. */
let cliStderr = '';

before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
});
after(() => t.close());

const events = (name: string) => t.logs.filter((line) => line.audit === name);
/** What the audit trail records for a name that is no user's: 16 hex characters of its SHA-256. */
const fingerprint = (username: string) => createHash('sha256').update(username).digest('hex').slice(0, 16);
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('audit trail', () => {
  test('every auth event is one structured line with user, client, IP and request id', async () => {
    const login = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json();
    secrets.push(login.access_token, login.refresh_token);
    await postToken(t.app, { username: 'johndoe', password: 'wrong-password-here' });
    await postToken(t.app, { username: 'ghost', password: 'wrong-password-here' });
    for (let i = 0; i < 6; i++) await postToken(t.app, { username: 'victim', password: 'wrong-password-here' });

    const refreshed = (await postToken(t.app, { grant_type: 'refresh_token', refresh_token: login.refresh_token })).json();
    secrets.push(refreshed.access_token, refreshed.refresh_token);
    await postToken(t.app, { grant_type: 'refresh_token', refresh_token: login.refresh_token });

    const second = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json();
    secrets.push(second.access_token, second.refresh_token);
    await t.app.inject({ method: 'POST', url: '/revoke', headers: form, payload: `token=${second.refresh_token}` });
    const third = (await postToken(t.app, { username: 'johndoe', password: 'secret' })).json();
    secrets.push(third.access_token, third.refresh_token);
    await t.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${third.access_token}` } });

    const admin = (await postToken(t.app, { username: 'root', password: 'a-long-admin-password', scope: 'admin me' })).json();
    secrets.push(admin.access_token, admin.refresh_token);
    const asAdmin = { authorization: `Bearer ${admin.access_token}` };
    await t.app.inject({ method: 'POST', url: '/admin/users/johndoe/disable', headers: asAdmin });
    await t.app.inject({ method: 'POST', url: '/admin/users/johndoe/enable', headers: asAdmin });
    await t.app.inject({
      method: 'PUT',
      url: '/users/me/password',
      headers: asAdmin,
      payload: { current_password: 'a-long-admin-password', new_password: 'brand-new-long-password' },
    });

    const expected = {
      'login.success': { user: 'johndoe', client: 'gatehouse' },
      'login.failure': { user: 'johndoe', client: 'gatehouse', reason: 'wrong_password' },
      'login.throttled': { user_fingerprint: fingerprint('victim'), client: 'gatehouse' },
      'token.refresh': { user: 'johndoe', client: 'gatehouse' },
      'refresh.reuse_detected': { user: 'johndoe', client: 'gatehouse' },
      'token.revoke': { user: 'johndoe', client: 'gatehouse' },
      logout: { user: 'johndoe', client: 'gatehouse' },
      'user.disable': { user: 'johndoe', actor: 'root', client: 'gatehouse' },
      'user.enable': { user: 'johndoe', actor: 'root', client: 'gatehouse' },
      'password.change': { user: 'root', actor: 'root' },
    } as const;
    for (const [name, fields] of Object.entries(expected)) {
      const [line] = events(name);
      assert.ok(line, `an audit line for ${name}`);
      for (const [key, value] of Object.entries(fields)) assert.equal(line[key], value, `${name}.${key}`);
      assert.equal(line.ip, '127.0.0.1', `${name} has the client IP`);
      assert.equal(typeof line.reqId, 'string', `${name} has the request id`);
    }
    assert.ok(events('login.failure').some((l) => l.user_fingerprint === fingerprint('ghost') && l.reason === 'unknown_user'));

    // A name that is no user's is never logged, only its fingerprint; a user's name always is.
    for (const line of t.logs.filter((l) => typeof l.audit === 'string' && String(l.audit).startsWith('login.'))) {
      assert.equal('user' in line && 'user_fingerprint' in line, false, JSON.stringify(line));
      if ('user_fingerprint' in line) assert.match(String(line.user_fingerprint), /^[0-9a-f]{16}$/);
    }
    assert.equal(t.logText().includes('ghost'), false);
    assert.equal(t.logText().includes('victim'), false);
  });

  test('admin changes name the admin (actor), the admin token\'s client and the changed user', async () => {
    const token = await login(t.app, 'root', 'brand-new-long-password', 'admin me');
    secrets.push(token, 'dora-first-long-password', 'dora-second-long-password');
    const call = (method: 'POST' | 'PUT', url: string, payload?: object) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });
    assert.equal((await call('POST', '/admin/users', { username: 'dora', password: 'dora-first-long-password', scopes: ['me'] })).statusCode, 201);
    assert.equal((await call('PUT', '/admin/users/dora/scopes', { scopes: ['me', 'items'] })).statusCode, 200);
    assert.equal((await call('PUT', '/admin/users/dora/password', { password: 'dora-second-long-password' })).statusCode, 204);
    assert.equal((await call('POST', '/admin/users/dora/disable')).statusCode, 200);
    assert.equal((await call('POST', '/admin/users/dora/enable')).statusCode, 200);
    for (const name of ['user.create', 'user.scopes', 'password.reset', 'user.disable', 'user.enable']) {
      const line = events(name).find((l) => l.user === 'dora');
      assert.ok(line, `an audit line for ${name} of dora`);
      assert.equal(line.actor, 'root', `${name}.actor`);
      assert.equal(line.client, 'gatehouse', `${name}.client`);
      assert.equal(line.ip, '127.0.0.1');
      assert.equal(typeof line.reqId, 'string');
    }
  });

  test('an address refused with 429 is audited with the address, the endpoint and the request id', async () => {
    const limited = await createTestApp({ env: { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '2' } });
    try {
      const attempt = () =>
        limited.app.inject({ method: 'POST', url: '/token', headers: form, payload: 'username=johndoe&password=wrong', remoteAddress: '10.9.8.7' });
      for (let i = 0; i < 2; i++) assert.equal((await attempt()).statusCode, 400);
      assert.equal((await attempt()).statusCode, 429);
      const [line, ...more] = limited.logs.filter((l) => l.audit === 'address.throttled');
      assert.deepEqual(more, []);
      assert.equal(line!.ip, '10.9.8.7');
      assert.equal(line!.endpoint, '/token');
      assert.equal(typeof line!.reqId, 'string');
    } finally {
      await limited.close();
    }
  });

  test('the signing key generated at start is audited once the logger exists', () => {
    const [line, ...more] = events('key.rotate');
    assert.deepEqual(more, []);
    assert.equal(line!.kid, t.services.keys.current.kid);
    assert.equal(line!.reason, 'no_current_key');
  });

  test('request ids differ across instances, not only within one', async () => {
    const other = await createTestApp();
    try {
      const ids = async (app: TestApp) => {
        for (let i = 0; i < 2; i++) await postToken(app.app, { username: 'nobody', password: `wrong-${i}` });
        return app.logs.filter((l) => l.audit === 'login.failure' && l.user_fingerprint === fingerprint('nobody')).map((l) => String(l.reqId));
      };
      const all = [...(await ids(t)), ...(await ids(other))];
      assert.equal(all.length, 4);
      assert.equal(new Set(all).size, 4, all.join(' '));
    } finally {
      await other.close();
    }
  });

  test('a password typed as the username is logged only as a short fingerprint (was logged verbatim, unbounded)', async () => {
    const typedPassword = 'MyS3cretPassw0rd!';
    const long = `${'p'.repeat(10_000)}-end`;
    for (const username of [typedPassword, typedPassword, long]) {
      assert.equal((await postToken(t.app, { username, password: 'whatever-was-typed' })).statusCode, 400);
    }
    const failures = events('login.failure').filter((l) => l.reason === 'unknown_user');
    const ofTyped = failures.filter((l) => l.user_fingerprint === fingerprint(typedPassword));
    assert.equal(ofTyped.length, 2, 'repeated attempts at one name share a fingerprint');
    assert.ok(failures.some((l) => l.user_fingerprint === fingerprint(long)));
    const text = t.logText();
    assert.equal(text.includes(typedPassword), false, 'the typed password is in the logs');
    assert.equal(text.includes('p'.repeat(100)), false, 'the long name is in the logs');
    for (const line of failures) assert.equal(line.user, undefined);
  });

  test('the CLI writes one JSON audit line per change on stderr, naming the operating-system user', async () => {
    const db = t.config.databaseUrl;
    const cli = async (args: string[], stdin = '') => {
      const result = await runCli(args, { DATABASE_URL: db }, stdin);
      assert.equal(result.code, 0, result.stderr);
      cliStderr += result.stderr;
      return { ...result, audit: splitAudit(result.stderr).audit };
    };
    secrets.push('cli-user-first-password', 'cli-user-second-password');
    const runs = [
      await cli(['users', 'add', 'cli-user', '--scopes', 'me'], 'cli-user-first-password\n'),
      await cli(['users', 'passwd', 'cli-user'], 'cli-user-second-password\n'),
      await cli(['users', 'disable', 'cli-user']),
      await cli(['users', 'enable', 'cli-user']),
      await cli(['users', 'scopes', 'cli-user', 'me', 'items']),
    ];
    const added = await cli(['clients', 'add', 'billing']);
    const secret = /^client_secret: (\S+)$/m.exec(added.stdout)![1]!;
    secrets.push(secret);
    // The secret at work: a login with it, an introspection, and a wrong one.
    const basic = (value: string) => `Basic ${Buffer.from(`billing:${value}`).toString('base64')}`;
    const viaClient = await postToken(t.app, { username: 'cli-user', password: 'cli-user-second-password' }, { authorization: basic(secret) });
    assert.equal(viaClient.statusCode, 200, viaClient.body);
    secrets.push(viaClient.json().access_token, viaClient.json().refresh_token);
    const introspected = await t.app.inject({
      method: 'POST',
      url: '/introspect',
      headers: { ...form, authorization: basic(secret) },
      payload: `token=${viaClient.json().access_token}`,
    });
    assert.equal(introspected.statusCode, 200);
    assert.equal((await postToken(t.app, { username: 'cli-user', password: 'x' }, { authorization: basic(`${secret}x`) })).statusCode, 401);
    runs.push(added, await cli(['clients', 'remove', 'billing']), await cli(['keys', 'rotate']));

    const expected: [string, Record<string, unknown>][] = [
      ['user.create', { user: 'cli-user', scopes: 'me' }],
      ['password.reset', { user: 'cli-user' }],
      ['user.disable', { user: 'cli-user' }],
      ['user.enable', { user: 'cli-user' }],
      ['user.scopes', { user: 'cli-user', scopes: 'me items' }],
      ['client.create', { client: 'billing', scopes: 'me items' }],
      ['client.remove', { client: 'billing' }],
      ['key.rotate', {}],
    ];
    for (const [i, [event, fields]] of expected.entries()) {
      const lines = runs[i]!.audit;
      assert.deepEqual(lines.map((l) => l.audit), [event], `one ${event} line`);
      for (const [key, value] of Object.entries(fields)) assert.equal(lines[0]![key], value, `${event}.${key}`);
      assert.equal(lines[0]!.origin, 'cli');
      assert.equal(typeof lines[0]!.actor, 'string');
      assert.equal(typeof lines[0]!.time, 'number');
    }
    assert.match(String(runs.at(-1)!.audit[0]!.kid), /^[A-Za-z0-9_-]{43}$/);
  });

  test('no password, hash, token or client secret appears in any log line, the server\'s or the CLI\'s', () => {
    const text = t.logText() + cliStderr;
    const values = text
      .split('\n')
      .filter(Boolean)
      // The CLI's stderr also carries plain lines for people (the "store the secret" notice).
      .flatMap((line) => (line.startsWith('{') ? Object.values(JSON.parse(line) as Record<string, unknown>) : [line]))
      .filter((value): value is string => typeof value === 'string');
    for (const secret of secrets) {
      // johndoe's demo password, "secret", is also a word log messages use ("wrong client secret"):
      // short ones must not be a value; longer ones must not appear anywhere.
      const found = secret.length < 12 ? values.includes(secret) : text.includes(secret);
      assert.equal(found, false, `the logs contain a secret (${secret.slice(0, 8)}...)`);
    }
    assert.equal(text.includes('$argon2'), false, 'the logs contain a password hash');
  });

});
