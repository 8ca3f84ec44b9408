/**
 * Enumeration check (`npm run timing-check`): do the four login failures (unknown user, wrong
 * password, disabled user with a wrong password, throttled account) look the same from outside?
 * It serves the app on loopback and fails (exit 1) unless the responses are byte-identical but for
 * Date, and their median times lie within 10% of each other.
 *
 * A busy machine drifts (other processes, CPU frequency, GC), so the measurement is built to let
 * drift hit every kind alike: the kinds are sent round-robin, one of each per round, with the
 * order rotated every round so none always follows the same neighbour; warm-up rounds run first
 * and are not counted; medians, not means, are compared; and each time is divided by the median
 * of the other kinds' times in its own round before the medians are taken, so a slow stretch,
 * which slows whole rounds, cancels out while a kind slower than the others in every round still
 * shows. The plain medians in milliseconds are printed beside them.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAuthServices } from '../src/auth/auth-services.js';
import { seedDemoUsers } from '../src/auth/demo-users.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/open-store.js';

const { values } = parseArgs({
  options: {
    tries: { type: 'string', default: '300' },
    'warm-up': { type: 'string', default: '25' },
    tolerance: { type: 'string', default: '0.10' },
  },
});
const TRIES = Number(values.tries);
const WARM_UP = Number(values['warm-up']);
const TOLERANCE = Number(values.tolerance);

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-timing-'));
const config = loadConfig({
  DATABASE_URL: join(dir, 'timing.db'),
  LOG_LEVEL: 'silent',
  GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: '1000000',
});
// Each round starts an hour after the last: the hourly windows restart and every wait (15 min at
// most) has run out, so wrong passwords never turn into throttled ones, however many rounds run.
let time = Date.UTC(2026, 0, 1);
const clock = { now: () => time };
const ROUND_MS = 60 * 60_000 + 1_000;
const store = await openStore(config.databaseUrl);
const services = await createAuthServices(config, store, clock);
await seedDemoUsers(services.users);
await services.users.create({ username: 'locked', password: 'locked-account-password', scopes: ['me'] });
for (let i = 0; i < 5; i++) await services.throttle.claim('locked', clock.now());
await services.hasher.warmUp();
const app = await buildApp(config, services, { logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };

interface Answer {
  ms: number;
  fingerprint: string;
}

function post(body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let data = '';
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const headers = Object.entries(res.headers).filter(([name]) => name !== 'date' && name !== 'keep-alive');
          resolve({ ms, fingerprint: JSON.stringify([res.statusCode, headers.sort(), data]) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const KINDS: [string, (i: number) => Promise<Answer>][] = [
  ['unknown user', (i) => post(`username=nobody-${i}&password=wrong-password`)],
  ['wrong password', () => post('username=johndoe&password=wrong-password')],
  ['disabled user, wrong password', () => post('username=alice&password=wrong-password')],
  ['throttled account, right password', () => post('username=locked&password=locked-account-password')],
];

/** The median of a few numbers: for an even count, the mean of the middle two. */
function roundMedian(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const half = sorted.length / 2;
  return Number.isInteger(half) ? (sorted[half - 1]! + sorted[half]!) / 2 : sorted[Math.floor(half)]!;
}

const samples = new Map<string, number[]>(KINDS.map(([kind]) => [kind, []]));
/**
 * Each answer's time over the median of the other kinds' times in its round: what is left once the
 * drift between rounds is divided out. Leaving the answer itself out keeps a slow kind from
 * raising its own yardstick.
 */
const relative = new Map<string, number[]>(KINDS.map(([kind]) => [kind, []]));
const fingerprints = new Map<string, Set<string>>(KINDS.map(([kind]) => [kind, new Set()]));
for (let round = -WARM_UP; round < TRIES; round++) {
  time += ROUND_MS;
  // Untimed: one more failure keeps the locked account waiting through this round.
  await services.throttle.claim('locked', clock.now());
  const offset = ((round % KINDS.length) + KINDS.length) % KINDS.length;
  const times: [string, number][] = [];
  for (let k = 0; k < KINDS.length; k++) {
    const [kind, send] = KINDS[(k + offset) % KINDS.length]!;
    const answer = await send(round);
    if (round < 0) continue; // warm-up
    samples.get(kind)!.push(answer.ms);
    fingerprints.get(kind)!.add(answer.fingerprint);
    times.push([kind, answer.ms]);
  }
  for (const [kind, ms] of times) relative.get(kind)!.push(ms / roundMedian(times.filter(([other]) => other !== kind).map(([, t]) => t)));
}
await app.close();
await services.hasher.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spreadOf = (values: number[]) => (Math.max(...values) - Math.min(...values)) / Math.min(...values);
const rows = KINDS.map(([kind]) => ({ kind, ms: median(samples.get(kind)!), relative: median(relative.get(kind)!) }));
const rawSpread = spreadOf(rows.map((r) => r.ms));
// The verdict: a kind systematically slower or faster than the others shows in every round, while
// the load of the machine, which moves whole rounds, is divided out.
const spread = spreadOf(rows.map((r) => r.relative));
const allAnswers = new Set([...fingerprints.values()].flatMap((s) => [...s]));

console.log(`${TRIES} rounds of the four kinds, after ${WARM_UP} warm-up rounds\n`);
console.log('| failure kind | median ms | median of time / median of the other kinds in its round |\n|---|---|---|');
for (const { kind, ms, relative: r } of rows) console.log(`| ${kind} | ${ms.toFixed(2)} | ${r.toFixed(3)} |`);
console.log(`\nspread of the medians: ${(rawSpread * 100).toFixed(1)}% in ms; ${(spread * 100).toFixed(1)}% within rounds (limit ${(TOLERANCE * 100).toFixed(0)}%)`);
console.log(`distinct responses (status, headers but Date, body): ${allAnswers.size} (must be 1)`);
const ok = spread <= TOLERANCE && allAnswers.size === 1;
console.log(ok ? 'timing-check: PASS' : 'timing-check: FAIL');
process.exit(ok ? 0 : 1);
