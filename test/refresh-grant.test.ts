import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

const DAY = 86_400_000;

async function loginFull(scope?: string, username = 'johndoe', password = 'secret') {
  const response = await postToken(t.app, { username, password, ...(scope === undefined ? {} : { scope }) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; refresh_token: string; scope: string };
}

const refresh = (refresh_token: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  postToken(t.app, { grant_type: 'refresh_token', refresh_token, ...extra }, headers);

const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } });

function assertInvalidGrant(response: Awaited<ReturnType<typeof refresh>>, description = 'The refresh token is invalid or expired') {
  assert.equal(response.statusCode, 400, response.body);
  assert.equal(response.json().error, 'invalid_grant');
  assert.equal(response.json().error_description, description);
  assert.equal(response.headers['cache-control'], 'no-store');
}

describe('refresh grant (RFC 6749 §6, RFC 9700 §4.14.2)', () => {
  test('a refresh returns a new access token and a new refresh token', async () => {
    const first = await loginFull();
    const response = await refresh(first.refresh_token);
    assert.equal(response.statusCode, 200, response.body);
    const next = response.json();
    assert.deepEqual(Object.keys(next).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    assert.notEqual(next.refresh_token, first.refresh_token);
    assert.equal(next.scope, 'me items');
    assert.equal((await me(next.access_token)).statusCode, 200);
  });

  test('reusing a rotated refresh token fails and revokes the whole session', async () => {
    const first = await loginFull();
    const second = (await refresh(first.refresh_token)).json();
    assertInvalidGrant(await refresh(first.refresh_token));
    assertInvalidGrant(await refresh(second.refresh_token));
    for (const access of [first.access_token, second.access_token]) {
      const response = await me(access);
      assert.equal(response.statusCode, 401);
      assert.match(String(response.headers['www-authenticate']), /invalid_token/);
    }
  });

  test('other sessions of the same user survive a reuse in one session', async () => {
    const victim = await loginFull();
    const other = await loginFull();
    await refresh(victim.refresh_token);
    await refresh(victim.refresh_token);
    assert.equal((await me(other.access_token)).statusCode, 200);
  });

  test('of concurrent refreshes with one token exactly one succeeds, and the losers\' reuse ends the winner\'s session too', async () => {
    const { refresh_token } = await loginFull();
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(refresh_token)));
    const winners = answers.filter((a) => a.statusCode === 200);
    assert.equal(winners.length, 1, answers.map((a) => a.statusCode).join(' '));
    const losers = answers.filter((a) => a.statusCode !== 200);
    assert.equal(losers.length, 9);
    for (const r of losers) assertInvalidGrant(r);
    // RFC 9700 §4.14.2, kept strict on purpose: a second use, even a concurrent one, is reuse.
    const winner = winners[0]!.json() as { access_token: string; refresh_token: string };
    const refused = await me(winner.access_token);
    assert.equal(refused.statusCode, 401, refused.body);
    assert.match(String(refused.headers['www-authenticate']), /error="invalid_token"/);
    assertInvalidGrant(await refresh(winner.refresh_token));
  });

  test('an unknown, empty or missing refresh token', async () => {
    assertInvalidGrant(await refresh('x'.repeat(43)));
    const missing = await postToken(t.app, { grant_type: 'refresh_token' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'invalid_request');
    assert.equal(missing.json().error_description, 'Missing required parameter: refresh_token');
  });

  test('scopes can be narrowed, never widened', async () => {
    const full = await loginFull();
    const narrowed = await refresh(full.refresh_token, { scope: 'me' });
    assert.equal(narrowed.statusCode, 200);
    assert.equal(narrowed.json().scope, 'me');
    // The session keeps its original scope: the next refresh may go back up to it.
    const back = await refresh(narrowed.json().refresh_token);
    assert.equal(back.json().scope, 'me items');

    const meOnly = await loginFull('me');
    const widened = await refresh(meOnly.refresh_token, { scope: 'me items' });
    assert.equal(widened.statusCode, 400);
    assert.equal(widened.json().error, 'invalid_scope');
  });

  test('a refresh re-checks the user: disabled users are refused, lost scopes are dropped', async () => {
    await t.services.users.create({ username: 'erin', password: 'erin-long-password', scopes: ['me', 'items'] });
    const session = await loginFull(undefined, 'erin', 'erin-long-password');
    await t.services.users.setScopes('erin', ['me']);
    const dropped = await refresh(session.refresh_token);
    assert.equal(dropped.json().scope, 'me');
    await t.services.users.setDisabled('erin', true);
    assertInvalidGrant(await refresh(dropped.json().refresh_token), 'Inactive user');
  });

  test('the idle lifetime (14 days) ends an unused session', async () => {
    const { refresh_token } = await loginFull();
    t.clock.advance(14 * DAY);
    assertInvalidGrant(await refresh(refresh_token));
  });

  test('the absolute lifetime (30 days) ends a session however active, to the millisecond', async () => {
    let { refresh_token } = await loginFull();
    // Refreshed weekly, the session never reaches its idle lifetime (14 days).
    for (let day = 7; day < 30; day += 7) {
      t.clock.advance(7 * DAY);
      const response = await refresh(refresh_token);
      assert.equal(response.statusCode, 200, `day ${day}`);
      refresh_token = response.json().refresh_token;
    }
    // Day 28: one millisecond before 30 days since login, a refresh still works...
    t.clock.advance(2 * DAY - 1);
    const last = await refresh(refresh_token);
    assert.equal(last.statusCode, 200, last.body);
    assert.equal((await me(last.json().access_token)).statusCode, 200);
    // ...and from 30 days on, neither the new refresh token nor its access token does.
    t.clock.advance(1);
    assertInvalidGrant(await refresh(last.json().refresh_token));
    const refused = await me(last.json().access_token);
    assert.equal(refused.statusCode, 401, refused.body);
    assert.match(String(refused.headers['www-authenticate']), /error="invalid_token"/);
  });

  test('a refresh token cannot be used as an access token', async () => {
    const { refresh_token } = await loginFull();
    const response = await me(refresh_token);
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['www-authenticate']), /invalid_token/);
  });

  test('a refresh token is bound to the client it was issued to', async () => {
    await t.services.store.createClient({
      id: 'mobile',
      name: 'Mobile app',
      secretHash: null,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['me', 'items'],
      createdAt: t.clock.now(),
    });
    const viaMobile = (await postToken(t.app, { username: 'johndoe', password: 'secret', client_id: 'mobile' })).json();
    assertInvalidGrant(await refresh(viaMobile.refresh_token));
    const ok = await refresh(viaMobile.refresh_token, { client_id: 'mobile' });
    assert.equal(ok.statusCode, 200);
  });

  test('changing a password ends every session of the user at once', async () => {
    await t.services.users.create({ username: 'frank', password: 'frank-long-password', scopes: ['me'] });
    const session = await loginFull(undefined, 'frank', 'frank-long-password');
    await t.services.users.setPassword('frank', 'frank-new-long-password');
    assert.equal((await me(session.access_token)).statusCode, 401);
    assertInvalidGrant(await refresh(session.refresh_token));
  });

  test('the refresh token is stored only as a hash: no column of any table holds it, one holds its SHA-256', async () => {
    const first = await loginFull();
    const rotated = (await refresh(first.refresh_token)).json() as { refresh_token: string };
    const database = new Database(t.config.databaseUrl, { readonly: true, fileMustExist: true });
    try {
      const tables = database.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[];
      assert.ok(tables.includes('refresh_tokens'), tables.join(' '));
      const values: unknown[] = [];
      for (const table of tables) {
        for (const row of database.prepare(`select * from "${table}"`).raw().all() as unknown[][]) values.push(...row);
      }
      const text = (value: unknown) => (Buffer.isBuffer(value) ? [value.toString('utf8'), value.toString('hex')] : [String(value)]);
      for (const token of [first.refresh_token, rotated.refresh_token]) {
        assert.equal(values.some((v) => text(v).some((s) => s.includes(token))), false, 'the raw token is stored');
        const digest = createHash('sha256').update(token).digest();
        const forms = [digest.toString('base64url'), digest.toString('base64'), digest.toString('hex')];
        assert.ok(
          values.some((v) => (Buffer.isBuffer(v) ? v.equals(digest) : forms.includes(String(v)))),
          'the token\'s SHA-256 is stored',
        );
      }
    } finally {
      database.close();
    }
    // Nor anywhere in the files, write-ahead log included.
    for (const file of [t.config.databaseUrl, `${t.config.databaseUrl}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const token of [first.refresh_token, rotated.refresh_token]) assert.equal(bytes.includes(token), false, `${token} in ${file}`);
    }
  });
});

describe('access tokens end with their session', () => {
  test('an access token outliving its session\'s absolute lifetime is refused when the session ends', async (t) => {
    const short = await createTestApp({ env: { GATEHOUSE_REFRESH_IDLE_TTL: '60', GATEHOUSE_REFRESH_ABSOLUTE_TTL: '120', GATEHOUSE_ACCESS_TOKEN_TTL: '900' } });
    t.after(() => short.close());
    const response = await postToken(short.app, { username: 'johndoe', password: 'secret' });
    const { access_token } = response.json() as { access_token: string };
    const get = () => short.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${access_token}` } });
    assert.equal((await get()).statusCode, 200);
    short.clock.advance(121_000);
    const refused = await get();
    assert.equal(refused.statusCode, 401, refused.body);
    assert.match(String(refused.headers['www-authenticate']), /error="invalid_token"/);
  });

  test('a scope taken from a user stops working at once on tokens issued before', async () => {
    await t.services.users.create({ username: 'gina', password: 'gina-long-password', scopes: ['me', 'items'] });
    const { access_token } = await loginFull(undefined, 'gina', 'gina-long-password');
    const items = () => t.app.inject({ method: 'GET', url: '/users/me/items', headers: { authorization: `Bearer ${access_token}` } });
    assert.equal((await items()).statusCode, 200);
    await t.services.users.setScopes('gina', ['me']);
    const refused = await items();
    assert.equal(refused.statusCode, 403, refused.body);
    assert.deepEqual(refused.json(), { detail: 'Not enough permissions' });
    assert.equal((await me(access_token)).statusCode, 200, 'the scope it still holds works');
  });
});
