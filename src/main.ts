import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createAuthServices } from './auth/auth-services.js';
import { BUILT_IN_CLIENT } from './auth/clients.js';
import { systemClock } from './auth/clock.js';
import { checkDemoUsers, seedDemoUsers, type DemoUserState } from './auth/demo-users.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { isPostgresUrl } from './store/database-url.js';
import { openStore } from './store/open-store.js';

export interface ServeOptions {
  /** Seed the tutorial's users (refused in production). */
  readonly demo?: boolean;
}

/**
 * Reads configuration, opens the store, builds the app and listens; closes everything on
 * SIGTERM or SIGINT. Returns the address it listens on.
 */
export async function serve(env: Record<string, string | undefined> = process.env, options: ServeOptions = {}): Promise<string> {
  // `npm start` asks for demo mode; production overrides it rather than failing to start.
  const demo = options.demo === true && env.NODE_ENV !== 'production';
  if (options.demo && !demo) process.stderr.write('gatehouse: NODE_ENV=production, so demo users are not seeded\n');
  const effectiveEnv = demo ? { ...env, GATEHOUSE_DEMO: 'true' } : env;
  let config = loadConfig(effectiveEnv);
  if (config.port === 0) config = loadConfig({ ...effectiveEnv, PORT: String(await freePort(config.host)) });
  // Until the app (and its JSON logger) exists, a lost connection is reported on stderr.
  let reportLostConnection: (err: Error) => void = (err) => void process.stderr.write(`gatehouse: database connection lost: ${err.message}\n`);
  const store = await openStore(config.databaseUrl, {
    poolSize: config.pgPoolSize,
    // A dropped idle connection is expected during a database restart; the pool replaces it.
    onIdleError: (err) => reportLostConnection(err),
  });
  const services = await createAuthServices(config, store, systemClock);
  const demoUsers = config.demo ? await checkDemoUsers(services.users, services.hasher, await seedDemoUsers(services.users)) : [];
  await services.hasher.warmUp();
  const app = await buildApp(config, services);
  reportLostConnection = (err) => app.log.warn({ err }, 'database connection lost');
  const stopKeyReload = services.keys.startAutoReload((err) => app.log.error({ err }, 'reloading signing keys failed'));
  app.addHook('onClose', async () => stopKeyReload());

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await services.hasher.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  const signing = services.keys.current;
  app.log.info({ kid: signing.kid, alg: signing.alg }, 'signing access tokens with the current key');
  if (config.hs256Secret === undefined && signing.alg !== config.signingAlg) {
    // Not an error: after `keys rotate` with another algorithm, every server signs with that key.
    // But an operator who changed GATEHOUSE_SIGNING_ALG alone expects new tokens to follow.
    app.log.warn(
      { kid: signing.kid, alg: signing.alg },
      `the current signing key is ${signing.alg}, so tokens are ${signing.alg}: GATEHOUSE_SIGNING_ALG=${config.signingAlg} applies to keys generated later; run "gatehouse keys rotate" to make a new ${config.signingAlg} key current`,
    );
  }
  if (Array.isArray(config.passwordGrant)) {
    // A typo in the list locks that client out of logging in with nothing else to say why; the
    // built-in client needs no registration.
    for (const id of config.passwordGrant) {
      if (id !== BUILT_IN_CLIENT.id && (await store.findClient(id)) === undefined) {
        app.log.warn({ client: id }, `GATEHOUSE_PASSWORD_GRANT names ${id}, which is no registered client: register it with "gatehouse clients add ${id}"`);
      }
    }
  }
  if (config.issuerDefaulted && (config.production || WILDCARD_HOSTS.has(config.host))) {
    // Every token names its issuer, and verifiers compare it exactly: behind a load balancer,
    // instances that each derive it from their own HOST and PORT refuse one another's tokens, and
    // an issuer naming all interfaces (http://0.0.0.0:8000) is an address no client can use.
    app.log.warn(
      { issuer: config.issuer },
      `GATEHOUSE_ISSUER is not set, so tokens name ${config.issuer} as their issuer: set it to the public URL clients use, the same on every instance`,
    );
  }
  await app.listen({ port: config.port, host: config.host }).catch((err: NodeJS.ErrnoException) => {
    // Node's own message names the address but not the setting that chose it.
    if (err.code === 'EADDRINUSE') {
      throw new ConfigError(`${config.host}:${config.port} is already in use: set PORT (or HOST) to a free one, e.g. PORT=${config.port + 1}`);
    }
    throw err;
  });
  printBanner(config, demoUsers);
  return config.issuer;
}

/** Listening addresses meaning every interface: no client reaches the server by them. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

// PORT=0 asks for any free port; find it first so the issuer (and so every token) names it.
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function printBanner(config: Config, demoUsers: readonly DemoUserState[]): void {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${config.port}`;
  const lines = [`Gatehouse is listening on ${base}`, `Interactive docs: ${base}/docs`];
  if (config.demo) {
    lines.push('Demo mode. Users (fixtures: never use them in production):');
    // Credentials are printed only while they are still the fixture's: a banner that offers a
    // changed password, or calls an enabled user disabled, sends the user chasing a wrong answer.
    for (const { fixture: user, changes } of demoUsers) {
      lines.push(
        changes.length > 0
          ? `  ${user.username}: changed since demo mode created it (${changes.join(', ')})`
          : `  ${user.username} / ${user.password}${user.disabled ? '  (disabled: gets "Inactive user")' : `  (scopes: ${user.scopes.join(' ')})`}`,
      );
    }
    if (demoUsers.some((user) => user.changes.length > 0)) lines.push(demoResetHint(config.databaseUrl));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

// Demo users are created only when missing, so the way back to the fixtures is a fresh database.
function demoResetHint(databaseUrl: string): string {
  const how = isPostgresUrl(databaseUrl)
    ? 'start with a fresh database'
    : `stop the server and delete ${databaseUrl} with its -wal and -shm files`;
  return `Demo users are created only when missing: to reset them, ${how}.`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  serve(process.env, { demo: process.argv.includes('--demo') }).catch((err: unknown) => {
    process.stderr.write(`gatehouse: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exit(1);
  });
}
