import type { Config } from '../config.js';
import type { SigningKeyRecord, Store } from '../store/store.js';
import { CliFailure, UsageError } from './cli-errors.js';
import { noPositionals, parseCommandArgs } from './parse-command-args.js';
import { printUsage } from './usage.js';

/** `gatehouse keys <subcommand> ...`: signing key rotation and listing. Returns the exit status. */
export async function keysCommand(args: readonly string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case '-h':
    case '--help':
      return printUsage('keys');
    case 'rotate':
      return rotateKey(rest);
    case 'list':
      return listKeys(rest);
    case undefined:
      throw new UsageError('keys: missing subcommand', 'keys');
    default:
      throw new UsageError(`keys: unknown subcommand ${JSON.stringify(subcommand)}`, 'keys');
  }
}

async function rotateKey(args: readonly string[]): Promise<number> {
  const { positionals, help } = parseCommandArgs('keys rotate', args, {});
  if (help) return printUsage('keys rotate');
  noPositionals('keys rotate', positionals);
  const config = await loadEnvConfig();
  // Stored keys are unused while a shared secret signs: a new one would change nothing.
  if (config.hs256Secret !== undefined) {
    throw new CliFailure('GATEHOUSE_HS256_SECRET is set, so tokens are signed with that secret: rotate by changing it');
  }
  return withStore(config, async (store) => {
    const [{ KeyRing, KEY_RELOAD_INTERVAL_MS }, { systemClock }, { cliAudit }] = await Promise.all([
      import('../auth/key-ring.js'),
      import('../auth/clock.js'),
      import('./cli-audit.js'),
    ]);
    const kid = await KeyRing.rotate(store, config.signingAlg, systemClock, cliAudit(config.logLevel));
    process.stdout.write(
      `new signing key ${kid} (${config.signingAlg})\n` +
        `Running servers switch to it within ${KEY_RELOAD_INTERVAL_MS / 1000} s; ` +
        'tokens signed with the old key keep verifying until they expire.\n',
    );
    return 0;
  });
}

async function listKeys(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('keys list', args, { json: { type: 'boolean' } });
  if (help) return printUsage('keys list');
  noPositionals('keys list', positionals);
  const config = await loadEnvConfig();
  return withStore(config, async (store) => {
    const { KEY_RELOAD_INTERVAL_MS } = await import('../auth/key-ring.js');
    const now = Date.now();
    const keys = (await store.listSigningKeys()).map((record) => toListedKey(record, config, KEY_RELOAD_INTERVAL_MS, now));
    if (config.hs256Secret !== undefined) {
      process.stderr.write('GATEHOUSE_HS256_SECRET is set: tokens are signed with it, not with these keys.\n');
    }
    process.stdout.write(values.json === true ? `${JSON.stringify(keys, null, 2)}\n` : formatKeysTable(keys));
    return 0;
  });
}

/** A key as `keys list --json` prints it: public facts only, never key material. */
interface ListedKey {
  readonly kid: string;
  readonly alg: string;
  readonly created_at: string;
  readonly retired_at: string | null;
  /** When servers stop trusting its tokens; null while it is current. */
  readonly verifies_until: string | null;
  readonly status: 'current' | 'retired' | 'expired';
}

// KeyRing's leeway past `exp` (CLOCK_TOLERANCE_MS in key-ring.ts, which does not export it).
const CLOCK_TOLERANCE_MS = 30_000;

function toListedKey(record: SigningKeyRecord, config: Config, reloadIntervalMs: number, now: number): ListedKey {
  const iso = (ms: number) => new Date(ms).toISOString();
  // The same horizon as KeyRing's #stillVerifies: servers that have not reloaded yet may sign with
  // a retired key for one reload interval, and those tokens live one lifetime plus the leeway.
  const until = record.retiredAt === null ? null : record.retiredAt + reloadIntervalMs + config.accessTokenTtl * 1000 + CLOCK_TOLERANCE_MS;
  return {
    kid: record.kid,
    alg: record.alg,
    created_at: iso(record.createdAt),
    retired_at: record.retiredAt === null ? null : iso(record.retiredAt),
    verifies_until: until === null ? null : iso(until),
    status: until === null ? 'current' : now < until ? 'retired' : 'expired',
  };
}

function formatKeysTable(keys: readonly ListedKey[]): string {
  const status = (k: ListedKey) =>
    k.status === 'current' ? 'current' : k.status === 'retired' ? `retired (verifies until ${k.verifies_until})` : 'retired (expired)';
  const rows = [['KID', 'ALG', 'CREATED', 'STATUS'], ...keys.map((k) => [k.kid, k.alg, k.created_at, status(k)])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `${row.map((value, column) => value.padEnd(widths[column]!)).join('  ').trimEnd()}\n`).join('');
}

/** The configuration from the environment, loaded on demand so `--help` stays fast. */
async function loadEnvConfig(): Promise<Config> {
  const { loadConfig } = await import('../config.js');
  return loadConfig(process.env);
}

/**
 * Runs `action` on the configured store, closed afterwards. Unlike withServices it builds no
 * KeyRing, which would generate a key on an empty database: listing must not change the keys,
 * and rotating there must make exactly one.
 */
async function withStore<T>(config: Config, action: (store: Store) => Promise<T>): Promise<T> {
  // Loaded on demand, so `--help` and usage errors answer without loading the database drivers.
  const { openStore } = await import('../store/open-store.js');
  const store = await openStore(config.databaseUrl);
  try {
    return await action(store);
  } finally {
    await store.close();
  }
}
