/**
 * The scenarios of `npm run bench`. Each starts its own server process, warms it up, measures one
 * window of load and stops it. The (d) baseline is (a): same token kind, load and connections.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Argon2Params } from '../src/auth/password-hasher.js';
import type { Fixtures } from './fixtures.js';
import { runLoad, type LoadResult, type LoadSpec } from './load.js';
import { runLoadInProcess, startLoadInProcess } from './load-process.js';
import type { BenchOptions } from './options.js';
import type { Pinning } from './pinning.js';
import { runToCompletion } from './processes.js';
import { assertTokenWorks, dealt, fetchToken, login, usersMe } from './requests.js';
import { ROOT, startCeiling, startGatehouse, withServer, type RunningServer, type ServerSettings } from './servers.js';

export interface BenchContext {
  readonly options: BenchOptions;
  readonly pinning: Pinning;
  readonly settings: ServerSettings;
  readonly argon2: Argon2Params;
  readonly fixtures: Fixtures;
  log(line: string): void;
}

export interface ScenarioResult {
  readonly id: string;
  readonly label: string;
  readonly load: LoadResult;
  readonly peakRssMiB: number | undefined;
  /** Share of one core the server used during the measured window. */
  readonly serverCpu: number | undefined;
}

export interface RawArgon2 {
  readonly verifies: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Mean time of one verify with `concurrency` in flight. */
  readonly meanMs: number;
}

/** Demo user of scenario (a) and of (d)'s /users/me load. */
const DEMO = { username: 'johndoe', password: 'secret' } as const;
/** Upper bound of (b)'s first pass over every token. */
const FIRST_PASS_BOUND_S = 20;
/** (d): the flood starts this long before /users/me is measured, so the hash queue is full by then. */
const FLOOD_LEAD_S = 1;
/** (d): flood connections: more than the hash slots plus queue (1 + 32 by default), so excess is offered, not held back by the client. */
export const FLOOD_CONNECTIONS = 64;

type Spec = Omit<LoadSpec, 'url' | 'duration' | 'title'>;

/** Warms the server with `spec` for `warmup` seconds, then measures it for the duration, with the server's CPU share. */
async function warmAndMeasure(
  ctx: BenchContext,
  server: RunningServer,
  title: string,
  spec: Spec,
  warmup = ctx.options.warmup,
): Promise<{ load: LoadResult; serverCpu: number | undefined }> {
  if (warmup > 0) await runLoad({ ...spec, title: `${title} (warm-up)`, url: server.url, duration: warmup });
  return measure(server, { ...spec, title, url: server.url, duration: ctx.options.duration });
}

async function measure(server: RunningServer, spec: LoadSpec): Promise<{ load: LoadResult; serverCpu: number | undefined }> {
  const cpuBefore = server.cpuSeconds();
  const started = performance.now();
  const load = await runLoad(spec);
  const cpuAfter = server.cpuSeconds();
  const wall = (performance.now() - started) / 1000;
  return { load, serverCpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / wall };
}

function meSpec(ctx: BenchContext, tokens: readonly string[]): Spec {
  const { connections } = ctx.options;
  return { connections, requests: (i) => dealt(tokens, connections, i).map(usersMe) };
}

function loginSpec(ctx: BenchContext, connections: number): Spec {
  const { usernames, password } = ctx.fixtures;
  return { connections, requests: (i) => dealt(usernames, connections, i).map((u) => login(u, password)) };
}

/**
 * The ceiling: same requests as (a) (a real token's size in the header), answered by bare
 * node:http. Measured first and last (`when`): on a shared virtual machine it varied by half
 * between runs, and the targets are judged against the mean of both.
 */
export async function ceiling(ctx: BenchContext, when: 'first' | 'last'): Promise<ScenarioResult> {
  ctx.log(`ceiling: bare node:http (${when})`);
  const token = ctx.fixtures.tokens[0]!;
  const { result, peakRssMiB } = await withServer(startCeiling(ctx.pinning), (server) => warmAndMeasure(ctx, server, 'ceiling', meSpec(ctx, [token])));
  return { id: `ceiling-${when}`, label: `ceiling: bare node:http, fixed JSON (${when})`, ...result, peakRssMiB };
}

/** (a) GET /users/me with one token, obtained by a real login. */
export async function scenarioA(ctx: BenchContext): Promise<ScenarioResult> {
  ctx.log('(a) GET /users/me, one token');
  const { result, peakRssMiB } = await withServer(startGatehouse(ctx.settings, ctx.pinning), async (server) => {
    const token = await fetchToken(server.url, DEMO.username, DEMO.password);
    await assertTokenWorks(server.url, token, DEMO.username);
    return warmAndMeasure(ctx, server, '(a)', meSpec(ctx, [token]));
  });
  return { id: 'a', label: '(a) GET /users/me, 1 token', ...result, peakRssMiB };
}

/**
 * (b) GET /users/me with every fixture token, dealt round-robin to the connections. First one pass
 * over all tokens (each verified once: cache misses), reported on its own; then the usual
 * warm-up and measurement of the steady state.
 */
export async function scenarioB(ctx: BenchContext): Promise<{ firstPass: ScenarioResult; steady: ScenarioResult }> {
  const { tokens, usernames } = ctx.fixtures;
  ctx.log(`(b) GET /users/me, ${tokens.length} tokens of ${usernames.length} users`);
  const { result, peakRssMiB } = await withServer(startGatehouse(ctx.settings, ctx.pinning), async (server) => {
    await assertTokenWorks(server.url, tokens[0]!, usernames[0]!);
    await assertTokenWorks(server.url, tokens.at(-1)!, usernames[(tokens.length - 1) % usernames.length]!);
    const spec = meSpec(ctx, tokens);
    const firstPass = await measure(server, {
      ...spec,
      title: '(b) first pass',
      url: server.url,
      duration: FIRST_PASS_BOUND_S,
      maxConnectionRequests: Math.ceil(tokens.length / ctx.options.connections),
    });
    const steady = await warmAndMeasure(ctx, server, '(b)', spec);
    return { firstPass, steady };
  });
  return {
    firstPass: { id: 'b-first-pass', label: `(b) first pass: each of ${tokens.length} tokens verified once`, ...result.firstPass, peakRssMiB: undefined },
    steady: { id: 'b', label: `(b) GET /users/me, ${tokens.length} tokens / ${usernames.length} users`, ...result.steady, peakRssMiB },
  };
}

/**
 * The raw argon2id rate: `verify` at the server's parameters with the server's hash concurrency
 * in flight, in a process on the server's core.
 */
export async function rawArgon2(ctx: BenchContext, seconds: number): Promise<RawArgon2> {
  const { memoryCost, timeCost, parallelism } = ctx.argon2;
  const args = ['--import', 'tsx', 'bench/argon2-rate.ts', ...[ctx.settings.hashConcurrency, seconds, memoryCost, timeCost, parallelism].map(String)];
  const { command, args: wrapped } = ctx.pinning.wrap(process.execPath, args);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const output = await runToCompletion({ name: 'argon2-rate', command, args: wrapped, env, cwd: ROOT }, (seconds + 30) * 1000);
  const line = output.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as RawArgon2;
}

/** (c) POST /token, right passwords of the fixture users in turn, bracketed by two raw argon2id measurements. */
export async function scenarioC(ctx: BenchContext): Promise<{ login: ScenarioResult; raw: RawArgon2[] }> {
  const rawSeconds = Math.min(5, Math.max(2, ctx.options.duration / 2));
  ctx.log(`(c) raw argon2id rate, ${rawSeconds} s`);
  const before = await rawArgon2(ctx, rawSeconds);
  ctx.log(`(c) POST /token logins, ${ctx.options.loginConnections} connections`);
  const { result, peakRssMiB } = await withServer(startGatehouse(ctx.settings, ctx.pinning), (server) =>
    warmAndMeasure(ctx, server, '(c)', loginSpec(ctx, ctx.options.loginConnections), ctx.options.loginWarmup),
  );
  ctx.log(`(c) raw argon2id rate again, ${rawSeconds} s`);
  const after = await rawArgon2(ctx, rawSeconds);
  return { login: { id: 'c', label: '(c) POST /token logins', ...result, peakRssMiB }, raw: [before, after] };
}

/** (d) (a)'s load measured while logins flood at `floodFactor` times (c)'s throughput. */
export async function scenarioD(ctx: BenchContext, loginRps: number): Promise<{ me: ScenarioResult; flood: ScenarioResult; floodRate: number }> {
  const floodRate = Math.max(1, Math.round(ctx.options.floodFactor * loginRps));
  ctx.log(`(d) GET /users/me during a login flood of ${floodRate}/s`);
  const { result, peakRssMiB } = await withServer(startGatehouse(ctx.settings, ctx.pinning), async (server) => {
    const token = await fetchToken(server.url, DEMO.username, DEMO.password);
    await assertTokenWorks(server.url, token, DEMO.username);
    const me = meSpec(ctx, [token]);
    // Both loads are warmed together, for as long as (c): a cold login path would put its JIT
    // compilation into the flood's latencies and /users/me's.
    const warmup = Math.max(ctx.options.warmup, ctx.options.loginWarmup);
    if (warmup > 0) {
      await Promise.all([
        runLoad({ ...me, title: '(d) warm-up', url: server.url, duration: warmup }),
        runLoadInProcess({ ...loginSpec(ctx, FLOOD_CONNECTIONS), title: '(d) flood warm-up', url: server.url, duration: warmup, overallRate: floodRate }),
      ]);
    }
    // The flood runs in a process of its own, so its latencies are not those of this event loop.
    // It is measured in the same window as /users/me: its lead begins with its connections opening
    // together, each sending its first login at once, a burst of FLOOD_CONNECTIONS logins at many
    // times the offered rate (docs/performance.md), not the steady flood (d) asks about.
    const flood = startLoadInProcess({
      ...loginSpec(ctx, FLOOD_CONNECTIONS),
      title: '(d) flood',
      url: server.url,
      lead: FLOOD_LEAD_S,
      duration: ctx.options.duration,
      overallRate: floodRate,
    });
    const flooding = flood.done.then((load) => ({ load, serverCpu: undefined }));
    // Observed below; this keeps a failure of the other load from leaving it unhandled meanwhile.
    flooding.catch(() => undefined);
    await Promise.race([flood.started, flood.done]);
    await sleep(FLOOD_LEAD_S * 1000);
    const measured = await measure(server, { ...me, title: '(d)', url: server.url, duration: ctx.options.duration });
    return { me: measured, flood: await flooding };
  });
  return {
    floodRate,
    me: { id: 'd', label: '(d) GET /users/me during login flood', ...result.me, peakRssMiB },
    flood: { id: 'd-flood', label: `(d) the flood: POST /token at ${floodRate}/s offered`, ...result.flood, peakRssMiB },
  };
}
