/**
 * The raw argon2id rate, the yardstick of scenario (c): how many `verify` calls per second
 * @node-rs/argon2 completes with the server's parameters and `concurrency` of them in flight,
 * and nothing else, on libuv's pool as the library runs it by default. Run as a child on the
 * server's core:
 *
 *   node --import tsx bench/argon2-rate.ts <concurrency> <seconds> <memoryKiB> <passes> <lanes>
 *
 * Prints one JSON line: {"verifies", "seconds", "perSecond", "meanMs"}.
 */
import { hash, verify } from '@node-rs/argon2';

const [concurrency, seconds, memoryCost, timeCost, parallelism] = process.argv.slice(2).map(Number) as [number, number, number, number, number];
if (![concurrency, seconds, memoryCost, timeCost, parallelism].every((n) => Number.isFinite(n) && n > 0)) {
  process.stderr.write('usage: argon2-rate.ts <concurrency> <seconds> <memoryKiB> <passes> <lanes>\n');
  process.exit(2);
}

const password = 'bench-password-0123';
const phc = await hash(password, { memoryCost, timeCost, parallelism });
// Warm up: one verify per slot, so the pool's threads and their memory exist before timing.
await Promise.all(Array.from({ length: concurrency }, () => verify(phc, password)));

let verifies = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(Math.round(seconds * 1e9));
let ended = started;
// `concurrency` workers, each verifying back to back: exactly `concurrency` verifies in flight,
// as the server's WorkLimiter allows. Only verifies that end before the deadline count.
async function worker(): Promise<void> {
  while (process.hrtime.bigint() < deadline) {
    if (!(await verify(phc, password))) throw new Error('verify returned false');
    const now = process.hrtime.bigint();
    if (now > deadline) break;
    verifies += 1;
    ended = now;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = Number(ended - started) / 1e9;
process.stdout.write(
  `${JSON.stringify({ verifies, seconds: elapsed, perSecond: verifies / elapsed, meanMs: (elapsed * 1000 * concurrency) / verifies })}\n`,
);
