/**
 * The servers under test, each a real child process on the server core: Gatehouse from the built
 * dist/ (as `npm start` runs it), and the bare node:http ceiling. A fresh process per scenario,
 * so each scenario's peak RSS and caches are its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pinning } from './pinning.js';
import { cpuSeconds, RssMonitor } from './process-stats.js';
import { spawnChild, waitForOutput, type Child } from './processes.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A fixed issuer (and so audience), so fixture tokens are valid for every server whatever its port. */
export const BENCH_ISSUER = 'http://gatehouse.bench';
const START_TIMEOUT_MS = 30_000;

export interface ServerSettings {
  readonly databaseUrl: string;
  /** GATEHOUSE_HASH_CONCURRENCY: the cores the server may use. */
  readonly hashConcurrency: number;
}

/** The servers' whole environment (nothing is inherited but PATH), also used to build the fixtures. */
export function gatehouseEnv(settings: ServerSettings): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'development',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: settings.databaseUrl,
    LOG_LEVEL: 'warn',
    GATEHOUSE_ISSUER: BENCH_ISSUER,
    // Every request comes from 127.0.0.1: the per-address failure limit would otherwise measure
    // itself. The per-account throttle stays as shipped; (c) and (d) log in with right passwords.
    GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '1000000',
    GATEHOUSE_HASH_CONCURRENCY: String(settings.hashConcurrency),
  };
}

export interface RunningServer {
  readonly name: string;
  readonly url: string;
  readonly child: Child;
  /** Peak RSS of the process since it started, MiB. */
  peakRssMiB(): number | undefined;
  /** CPU seconds the process has used so far. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

async function start(name: string, args: string[], env: Record<string, string>, pinning: Pinning): Promise<RunningServer> {
  const { command, args: wrapped } = pinning.wrap(process.execPath, args);
  const child = spawnChild({ name, command, args: wrapped, env, cwd: ROOT });
  let rss: RssMonitor | undefined;
  try {
    const [, url] = await waitForOutput(child, /listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
    rss = new RssMonitor(child.pid);
    const monitor = rss;
    return {
      name,
      url: url!,
      child,
      peakRssMiB: () => monitor.peakMiB(),
      cpuSeconds: () => cpuSeconds(child.pid),
      async stop() {
        monitor.stop();
        await child.stop();
      },
    };
  } catch (err) {
    rss?.stop();
    await child.stop();
    throw err;
  }
}

/** What `npm start` runs after `node`: the same flags and arguments, so the bench measures what users run. */
export function startScriptArgs(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = scripts.start.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`npm start does not run node: ${scripts.start}`);
  return args;
}

/** Gatehouse in demo mode on the given database, started as `npm start` starts it. */
export function startGatehouse(settings: ServerSettings, pinning: Pinning): Promise<RunningServer> {
  return start('gatehouse', startScriptArgs(), gatehouseEnv(settings), pinning);
}

/** The bare node:http ceiling. */
export function startCeiling(pinning: Pinning): Promise<RunningServer> {
  return start('ceiling', ['--import', 'tsx', 'bench/ceiling-server.ts'], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, pinning);
}

/** Runs `body` against a fresh server and always stops it; returns the body's result and the server's peak RSS. */
export async function withServer<T>(
  starting: Promise<RunningServer>,
  body: (server: RunningServer) => Promise<T>,
): Promise<{ result: T; peakRssMiB: number | undefined; serverLog: string }> {
  const server = await starting;
  try {
    const result = await body(server);
    if (!server.child.alive()) throw new Error(`${server.name} exited during the scenario:\n${server.child.output()}`);
    return { result, peakRssMiB: server.peakRssMiB(), serverLog: server.child.output() };
  } finally {
    await server.stop();
  }
}
