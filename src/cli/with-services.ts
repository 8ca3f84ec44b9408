import type { AuthServices } from '../auth/auth-services.js';

/**
 * Runs `action` on services built from the environment's configuration and closes the store
 * and the hashing threads afterwards, whether `action` succeeds or throws. Audit events
 * (`services.audit.record`, and a key the services generate on an empty database) go to stderr as
 * JSON lines.
 */
export async function withServices<T>(
  action: (services: AuthServices) => Promise<T>,
  env: Record<string, string | undefined> = process.env,
): Promise<T> {
  // Loaded on demand, so `--help` and usage errors answer without loading the database drivers.
  const [{ createAuthServices }, { systemClock }, { loadConfig }, { openStore }, { cliAudit }] = await Promise.all([
    import('../auth/auth-services.js'),
    import('../auth/clock.js'),
    import('../config.js'),
    import('../store/open-store.js'),
    import('./cli-audit.js'),
  ]);
  const config = loadConfig(env);
  const store = await openStore(config.databaseUrl, { poolSize: 2 });
  let services: AuthServices | undefined;
  try {
    services = await createAuthServices(config, store, systemClock);
    services.audit.attach(cliAudit(config.logLevel));
    return await action(services);
  } finally {
    await services?.hasher.close();
    await store.close();
  }
}
