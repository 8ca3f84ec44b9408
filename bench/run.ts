/**
 * `npm run bench`: the ceiling and scenarios (a)-(d) in one run, on loopback, each against a fresh
 * server process; prints a Markdown table and writes bench/results/latest.{md,json}. Exits 0 when
 * it measured, whether or not targets were met (it is a measurement); 1 when it could not measure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createFixtures } from './fixtures.js';
import { parseOptions } from './options.js';
import { choosePinning } from './pinning.js';
import { installCleanup, onCleanup } from './processes.js';
import { markdownReport, writeResults } from './report.js';
import { ceiling, FLOOD_CONNECTIONS, scenarioA, scenarioB, scenarioC, scenarioD, type BenchContext } from './scenarios.js';
import { gatehouseEnv, ROOT, startScriptArgs } from './servers.js';
import { evaluate, rawRate, TARGETS, type BenchResults } from './targets.js';

const started = performance.now();
const log = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);

const options = parseOptions(process.argv.slice(2));
// Whole-run bound: 174 s with the defaults (10 s measured and 2 s of warm-up per scenario, 15 s for (c) and (d)).
installCleanup((60 + 7 * (options.duration + options.warmup) + 2 * options.loginWarmup) * 1000);
const pinning = choosePinning(options.pin);
log(pinning.description);

if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run build` (npm run bench does)');

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
onCleanup(() => rmSync(dir, { recursive: true, force: true }));
const settings = { databaseUrl: join(dir, 'bench.db'), hashConcurrency: pinning.serverCores };
const env = gatehouseEnv(settings);
const config = loadConfig(env);

log(`fixtures: ${options.users} users, ${options.tokens} tokens`);
const fixtures = await createFixtures(env, options.users, options.tokens);
log(`fixtures ready in ${fixtures.seconds.toFixed(1)} s`);

const ctx: BenchContext = { options, pinning, settings, argon2: config.argon2, fixtures, log };
const top = await ceiling(ctx, 'first');
const a = await scenarioA(ctx);
const b = await scenarioB(ctx);
const c = await scenarioC(ctx);
const d = await scenarioD(ctx, c.login.load.rps);
const topAgain = await ceiling(ctx, 'last');
const results: BenchResults = {
  ceiling: top,
  ceilingAgain: topAgain,
  a,
  bFirstPass: b.firstPass,
  b: b.steady,
  raw: c.raw,
  c: c.login,
  d: d.me,
  flood: d.flood,
  floodRate: d.floodRate,
};

const rows = evaluate(results, config.argon2, settings.hashConcurrency);
const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
const info = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}`,
  placement: pinning.description,
  loadGenerator: `autocannon ${autocannonVersion}, programmatic, in the bench process; latencies from each response's own timing (float ms)`,
  setup: [
    `Per scenario: a fresh server process, ${options.warmup} s warm-up (${options.loginWarmup} s for (c) and (d), so V8 has optimized the login path), ${options.duration} s measured. Connections: ${options.connections} (ceiling, a, b, d), ${options.loginConnections} (c), ${FLOOD_CONNECTIONS} (flood, rate-limited to ${options.floodFactor}x (c)'s logins/s).`,
    `Gatehouse: node ${startScriptArgs().join(' ')} (as npm start), SQLite in a temp dir, ${config.signingAlg} tokens, LOG_LEVEL=warn, GATEHOUSE_HASH_CONCURRENCY=${settings.hashConcurrency} (the cores it may use), hash queue ${config.hashQueue}, token cache ${config.tokenCacheSize}, per-address failure limit off (${env.GATEHOUSE_LOGIN_FAILURES_PER_MINUTE}/min).`,
    `Fixtures: ${fixtures.usernames.length} users sharing one argon2id hash, ${fixtures.tokens.length} tokens each with its own session, written to the database in ${fixtures.seconds.toFixed(1)} s; (c) and the flood log these users in with their right password, in turn.`,
    `Raw argon2id: @node-rs/argon2 verify, m=${config.argon2.memoryCost} t=${config.argon2.timeCost} p=${config.argon2.parallelism}, ${settings.hashConcurrency} in flight, on the server core, before and after (c): ${c.raw.map((r) => r.perSecond.toFixed(1)).join(' and ')}/s, mean ${rawRate(c.raw).toFixed(1)}/s.`,
  ],
  wallSeconds: (performance.now() - started) / 1000,
};
const markdown = markdownReport(info, results, rows);
const written = writeResults(resolve(ROOT, options.outDir), markdown, {
  ...info,
  options,
  targets: TARGETS,
  server: { hashConcurrency: settings.hashConcurrency, env: { ...env, PATH: undefined, DATABASE_URL: undefined } },
  fixtures: { users: fixtures.usernames.length, tokens: fixtures.tokens.length, seconds: fixtures.seconds },
  results,
  rows,
  failures: rows.flatMap((r) => r.failures),
});
process.stdout.write(`\n${markdown}\nwritten: ${written.md}, ${written.json}\n`);
process.exit(0);
