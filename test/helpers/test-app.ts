import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAuthServices, type AuthServices } from '../../src/auth/auth-services.js';
import { seedDemoUsers } from '../../src/auth/demo-users.js';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openStore } from '../../src/store/open-store.js';
import { TestClock } from './test-clock.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly services: AuthServices;
  readonly config: Config;
  readonly clock: TestClock;
  /** Every log line the app wrote, as parsed JSON objects. */
  readonly logs: Record<string, unknown>[];
  /** The raw log text, for grepping secrets. */
  logText(): string;
  close(): Promise<void>;
}

/**
 * An app on a real SQLite file in a fresh temp folder, with a frozen clock, demo users seeded
 * (unless `demo: false`) and logs captured at debug level.
 */
export async function createTestApp(options: { env?: Record<string, string>; demo?: boolean } = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({
    DATABASE_URL: join(dir, 'gatehouse.db'),
    GATEHOUSE_ISSUER: 'http://gatehouse.test',
    // Many tests fail logins on purpose from one address; test/ip-rate-limit.test.ts sets its own.
    GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '100000',
    ...options.env,
  });
  const clock = new TestClock();
  const store = await openStore(config.databaseUrl);
  const services = await createAuthServices(config, store, clock);
  if (options.demo !== false) await seedDemoUsers(services.users);
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const app = await buildApp(config, services, { logger: { level: 'debug', stream } });
  await app.ready();
  return {
    app,
    services,
    config,
    clock,
    get logs() {
      return chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => chunks.join(''),
    async close() {
      await app.close();
      await services.hasher.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs a form to /token; `fields` may repeat a name by giving an array. */
export function postToken(app: FastifyInstance, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
  }
  return app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: body.toString(),
  });
}

/** Logs in and returns the access token; fails the test on any other answer. */
export async function login(app: FastifyInstance, username = 'johndoe', password = 'secret', scope?: string): Promise<string> {
  const response = await postToken(app, { username, password, ...(scope === undefined ? {} : { scope }) });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return (response.json() as { access_token: string }).access_token;
}

/** Starts `testApp` listening on a free loopback port, for tests that speak raw HTTP; returns the port. */
export async function listenOnLoopback(testApp: TestApp): Promise<number> {
  await testApp.app.listen({ port: 0, host: '127.0.0.1' });
  return (testApp.app.server.address() as { port: number }).port;
}
