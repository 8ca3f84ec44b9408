import { noPositionals, parseCommandArgs } from './parse-command-args.js';
import { printUsage } from './usage.js';

/** `gatehouse migrate`: brings the configured database's schema up to date. */
export async function migrateCommand(args: readonly string[]): Promise<number> {
  const { positionals, help } = parseCommandArgs('migrate', args, {});
  if (help) return printUsage('migrate');
  noPositionals('migrate', positionals);
  // Loaded on demand, so `--help` answers without loading the database drivers.
  const [{ loadConfig }, { migrateDatabase }] = await Promise.all([import('../config.js'), import('../store/open-store.js')]);
  const config = loadConfig(process.env);
  // Refuses a schema newer than this version before migrating anything.
  const applied = await migrateDatabase(config.databaseUrl, { poolSize: 1 });
  process.stdout.write(applied.length === 0 ? 'database schema already up to date\n' : applied.map((name) => `applied ${name}\n`).join(''));
  return 0;
}
