import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ConfigError, loadConfig } from '../src/config.js';
import { createTestApp, postToken, type TestApp } from './helpers/test-app.js';
import { inCi } from './helpers/in-ci.js';

/**
 * The per-address limit on failed attempts at /token, /revoke and /introspect: 429 with
 * Retry-After once an address has failed GATEHOUSE_LOGIN_FAILURES_PER_MINUTE times in a minute.
 * The limiter's window runs on real time (not the test clock), so no test here waits it out.
 */

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** An address no other test (or earlier run sharing the Redis) uses. */
function randomAddress(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

function login(
  app: FastifyInstance,
  password: string,
  options: { remoteAddress?: string; forwardedFor?: string; username?: string } = {},
) {
  const body = new URLSearchParams({ username: options.username ?? 'johndoe', password }).toString();
  return app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...FORM, ...(options.forwardedFor === undefined ? {} : { 'x-forwarded-for': options.forwardedFor }) },
    payload: body,
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
}

/**
 * Fails `count` logins, each at another unknown username, so the per-account throttle (which
 * runs on the frozen test clock) never steps in: only the per-address limit is tested here.
 */
async function failLogins(app: FastifyInstance, count: number, options: { remoteAddress?: string; forwardedFor?: () => string } = {}) {
  for (let i = 1; i <= count; i++) {
    const response = await login(app, 'wrong', {
      username: `intruder-${randomInt(1e9)}`,
      ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
      ...(options.forwardedFor === undefined ? {} : { forwardedFor: options.forwardedFor() }),
    });
    assert.equal(response.statusCode, 400, `failure ${i} is an ordinary invalid_grant: ${response.body}`);
    assert.equal(response.json().error, 'invalid_grant');
  }
}

function assertThrottled(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 429, `${what}: ${response.statusCode} ${response.body}`);
  const retryAfter = String(response.headers['retry-after']);
  assert.match(retryAfter, /^[1-9]\d*$/, `${what}: Retry-After is a positive integer`);
  assert.ok(Number(retryAfter) <= 60, `${what}: Retry-After within the one-minute window`);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers.pragma, 'no-cache');
  const body = response.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['detail', 'error', 'error_description']);
  assert.equal(body.error, 'slow_down');
  assert.equal(typeof body.error_description, 'string');
  assert.equal(body.detail, body.error_description);
}

async function withApp(t: TestContext, env: Record<string, string>): Promise<TestApp> {
  const testApp = await createTestApp({ env });
  t.after(() => testApp.close());
  return testApp;
}

describe('failed-login limit per client address', () => {
  test('the default is 20 failures per minute; the 21st attempt is 429, even with the right password', async (t) => {
    // An empty value is unset, so the default applies (the helper otherwise raises the limit).
    const { app, config } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '' });
    assert.equal(config.loginFailuresPerMinute, 20);
    await failLogins(app, 20);
    assertThrottled(await login(app, 'wrong'), '21st failure');
    assertThrottled(await login(app, 'secret'), 'right password after the limit');
    // Other addresses are not affected.
    const other = await login(app, 'secret', { remoteAddress: '192.0.2.44' });
    assert.equal(other.statusCode, 200, other.body);
  });

  test('successful logins do not count', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '' });
    for (let i = 1; i <= 25; i++) {
      const response = await login(app, 'secret');
      assert.equal(response.statusCode, 200, `success ${i}: ${response.body}`);
    }
    await failLogins(app, 20);
    assertThrottled(await login(app, 'secret'), 'after 20 failures');
  });

  test('malformed requests are refused as before and do not count', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '2' });
    for (let i = 0; i < 5; i++) {
      const response = await postToken(app, { username: 'johndoe' });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'invalid_request');
    }
    assert.equal((await login(app, 'secret')).statusCode, 200);
  });

  test('without GATEHOUSE_TRUST_PROXY, X-Forwarded-For is ignored: rotating it does not escape the limit', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '3' });
    await failLogins(app, 3, { forwardedFor: randomAddress });
    assertThrottled(await login(app, 'secret', { forwardedFor: randomAddress() }), 'a fresh X-Forwarded-For');
  });

  test('behind a trusted proxy, the X-Forwarded-For address is what counts', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '3', GATEHOUSE_TRUST_PROXY: '127.0.0.1' });
    await failLogins(app, 3, { forwardedFor: () => '203.0.113.5' });
    assertThrottled(await login(app, 'secret', { forwardedFor: '203.0.113.5' }), 'the forwarded address that failed');
    // The proxy's own address, and other clients behind it, are unaffected.
    assert.equal((await login(app, 'secret', { forwardedFor: '203.0.113.6' })).statusCode, 200);
    assert.equal((await login(app, 'secret')).statusCode, 200);
    // A client that is not the trusted proxy cannot choose its address with the header.
    const direct = await login(app, 'secret', { remoteAddress: '198.51.100.7', forwardedFor: '203.0.113.6' });
    assert.equal(direct.statusCode, 200);
    await failLogins(app, 3, { remoteAddress: '198.51.100.7', forwardedFor: randomAddress });
    assertThrottled(await login(app, 'secret', { remoteAddress: '198.51.100.7', forwardedFor: randomAddress() }), 'an untrusted sender');
  });

  test('client authentication failures at /revoke and /introspect count, in the same budget as /token', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '3' });
    const badClient = { authorization: `Basic ${Buffer.from('no-such-client:secret').toString('base64')}` };
    const post = (url: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: 'token=abc' });

    const revoke = await post('/revoke', badClient);
    assert.equal(revoke.statusCode, 401, revoke.body);
    assert.equal(revoke.json().error, 'invalid_client');
    const introspect = await post('/introspect', badClient);
    assert.equal(introspect.statusCode, 401, introspect.body);
    // The public client may not introspect: also invalid_client.
    const publicIntrospect = await post('/introspect');
    assert.equal(publicIntrospect.statusCode, 401, publicIntrospect.body);
    assert.equal(publicIntrospect.json().error, 'invalid_client');

    assertThrottled(await login(app, 'secret'), '/token after three client failures');
    assertThrottled(await post('/revoke'), '/revoke');
    assertThrottled(await post('/introspect'), '/introspect');
    assert.equal((await login(app, 'secret', { remoteAddress: '192.0.2.45' })).statusCode, 200);
  });

  test('other routes are not limited', async (t) => {
    const { app } = await withApp(t, { GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '1' });
    await failLogins(app, 1);
    assertThrottled(await login(app, 'secret'), '/token');
    const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(jwks.statusCode, 200);
    const me = await app.inject({ method: 'GET', url: '/users/me' });
    assert.equal(me.statusCode, 401);
  });

  test('configuration: limit at least 1; trusted proxies must be addresses or CIDRs', () => {
    assert.equal(loadConfig({}).loginFailuresPerMinute, 20);
    assert.equal(loadConfig({}).trustProxy, undefined);
    assert.throws(() => loadConfig({ GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '0' }), ConfigError);
    assert.throws(() => loadConfig({ GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: 'many' }), ConfigError);
    assert.deepEqual(loadConfig({ GATEHOUSE_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1,loopback' }).trustProxy, [
      '10.0.0.1',
      '192.168.0.0/16',
      '::1',
      'loopback',
    ]);
    for (const bad of ['true', '*', 'proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/8', ',']) {
      assert.throws(() => loadConfig({ GATEHOUSE_TRUST_PROXY: bad }), ConfigError, bad);
    }
  });
});

const REDIS_URL = 'redis://127.0.0.1:6379';

function redisReachable(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 6379, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('connection timed out');
    });
    socket.once('error', (err) => resolve(err.message));
  });
}

describe('failed-login limit shared through Redis (REDIS_URL)', () => {
  test('two instances share the count of one address', async (t) => {
    const unreachable = await redisReachable();
    if (unreachable !== undefined) {
      const message = `redis not reachable at ${REDIS_URL}: ${unreachable}`;
      if (inCi()) assert.fail(`${message}; CI must run the shared rate-limit test`);
      process.stderr.write(`\n*** ip-rate-limit.test.ts: Redis case SKIPPED: ${message} ***\n\n`);
      t.skip(message);
      return;
    }
    const env = { REDIS_URL, GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '3' };
    const first = await withApp(t, env);
    const second = await withApp(t, env);
    const address = randomAddress();
    await failLogins(first.app, 2, { remoteAddress: address });
    await failLogins(second.app, 1, { remoteAddress: address });
    assertThrottled(await login(first.app, 'secret', { remoteAddress: address }), 'first instance');
    assertThrottled(await login(second.app, 'secret', { remoteAddress: address }), 'second instance');
    const other = await login(second.app, 'secret', { remoteAddress: randomAddress() });
    assert.equal(other.statusCode, 200, other.body);
    // Another deployment on the same Redis (another issuer) keeps its own counts.
    const elsewhere = await withApp(t, { ...env, GATEHOUSE_ISSUER: 'https://staging.example.com' });
    const unshared = await login(elsewhere.app, 'secret', { remoteAddress: address });
    assert.equal(unshared.statusCode, 200, unshared.body);
  });

  test('a Redis that is down does not lock anyone out (fail open), and says so in the log', async (t) => {
    // Nothing listens on port 1: every Redis command fails at once.
    const testApp = await withApp(t, { REDIS_URL: 'redis://127.0.0.1:1', GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '1' });
    await failLogins(testApp.app, 3);
    const response = await login(testApp.app, 'secret');
    assert.equal(response.statusCode, 200, response.body);
    const warnings = testApp.logs.filter((l) => l.level === 40).map((l) => String(l.msg));
    assert.ok(warnings.some((m) => /rate limit unavailable/.test(m)), `warned: ${warnings.join(' | ')}`);
    // Logged once per outage, not once per request.
    assert.equal(warnings.filter((m) => /rate limit unavailable/.test(m)).length, 1);
  });
});
