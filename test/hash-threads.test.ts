import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HashThreads } from '../src/auth/hash-threads.js';
import { inCi } from './helpers/in-ci.js';

const SCHED_IDLE = 5;
const TEST_PARAMS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** Scheduling policy of one thread of this process: field 41 of its stat. */
function threadPolicy(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: field 3 onwards.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]);
}

function threadPolicies(): number[] {
  return readdirSync('/proc/self/task').map(threadPolicy);
}

function chrtAvailable(): boolean {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('hashing threads run under SCHED_IDLE, so a waking event loop takes the core from them at once', async (t) => {
  if (process.platform !== 'linux' || !chrtAvailable()) {
    const reason = 'needs Linux with util-linux chrt';
    if (inCi()) throw new Error(reason);
    process.stderr.write(`SKIPPING SCHED_IDLE test: ${reason}\n`);
    t.skip(reason);
    return;
  }
  const before = threadPolicies().filter((p) => p === SCHED_IDLE).length;
  const threads = new HashThreads(2);
  try {
    const phcs = await Promise.all(['a', 'b'].map((password) => threads.hash(password, TEST_PARAMS)));
    assert.equal(await threads.verify(phcs[0]!, 'a'), true);
    assert.equal(await threads.verify(phcs[1]!, 'a'), false);
    assert.equal(threadPolicies().filter((p) => p === SCHED_IDLE).length - before, 2);
    // The event loop's own thread keeps its normal policy.
    assert.equal(threadPolicy(String(process.pid)), 0);
  } finally {
    await threads.close();
  }
});
