import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreLender } from '../src/auth/core-lender.js';
import { inCi } from './helpers/in-ci.js';

test('no loans while hashes take their usual time; loans once one runs three times the fastest, until none runs', async () => {
  const lender = new CoreLender();
  lender.enabled = true;
  lender.started();
  lender.ended(5);
  lender.started();
  await sleep(5);
  lender.ended(5);
  await sleep(30);
  assert.equal(lender.lending, false, 'a hash of usual length made loans');
  lender.started();
  await sleep(40);
  assert.equal(lender.lending, true, 'a hash at 8x the fastest made no loans');
  lender.started();
  lender.ended(40);
  assert.equal(lender.lending, true, 'loans stopped while a hash still ran');
  lender.ended(40);
  assert.equal(lender.lending, false);
  // Threads that could not have SCHED_IDLE take their share themselves: no loans for them.
  lender.enabled = false;
  lender.started();
  await sleep(40);
  assert.equal(lender.lending, false);
  lender.ended(40);
});

function canPin(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs util-linux taskset and chrt';
  }
  return cpus().length >= 1 ? undefined : 'no CPU';
}

// Run pinned to one core, so the hashing thread and the event loop compete for it.
const CHILD = `
import { HashThreads } from ${JSON.stringify(fileURLToPath(new URL('../src/auth/hash-threads.ts', import.meta.url)))};
const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const threads = new HashThreads(1);
const phc = await threads.hash('pw', params);
let t = performance.now();
await threads.verify(phc, 'pw');
const alone = performance.now() - t;
// Keep the event loop busy: 1 ms of work per turn, never idle.
let busy = true;
let sawLoans = false;
const spin = () => {
  const end = performance.now() + 1;
  while (performance.now() < end);
  sawLoans ||= threads.lending;
  if (busy) setImmediate(spin);
};
setImmediate(spin);
t = performance.now();
const ok = await Promise.race([threads.verify(phc, 'pw'), new Promise((r) => setTimeout(() => r('starved'), 10_000))]);
const saturated = performance.now() - t;
busy = false;
await threads.close();
console.log(JSON.stringify({ ok, alone, saturated, sawLoans }));
`;

test('a hash still completes while the event loop keeps its core busy: the event loop lends it a share', (t) => {
  const missing = canPin();
  if (missing !== undefined) {
    if (inCi()) throw new Error(missing);
    process.stderr.write(`SKIPPING core-lending test: ${missing}\n`);
    t.skip(missing);
    return;
  }
  // A file, not -e: --input-type would pass to the hashing thread and make its CommonJS source a module.
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lender-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'saturate.mts'), CHILD);
  const run = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', join(dir, 'saturate.mts')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ok: unknown; alone: number; saturated: number; sawLoans: boolean };
  assert.equal(result.ok, true, `the hash starved: ${run.stdout}`);
  assert.equal(result.sawLoans, true);
  // A tenth of the core, after three times the fastest hash: ~13x its time alone; starving, it never ends.
  assert.ok(result.saturated < 60 * result.alone, run.stdout);
});
