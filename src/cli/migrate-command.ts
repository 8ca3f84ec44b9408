import { noPositionals, parseCommandArgs } from './parse-command-args.js';
import { printUsage } from './usage.js';

/** `gatehouse migrate`: brings the configured database's schema up to date. */
export async function migrateCommand(args: readonly string[]): Promise<number> {
  const { positionals, help } = parseCommandArgs('migrate', args, {});
  if (help) return printUsage('migrate');
  noPositionals('migrate', positionals);
  // Loaded on demand, so `--help` answers without loading the database drivers.
  const [{ loadConfig }, { openStore }] = await Promise.all([import('../config.js'), import('../store/open-store.js')]);
  const config = loadConfig(process.env);
  // openStore refuses a schema newer than this version before migrating anything.
  const store = await openStore(config.databaseUrl, { poolSize: 1, migrate: true });
  await store.close();
  process.stdout.write('database schema is up to date\n');
  return 0;
}
