import type { Options } from '@node-rs/argon2';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CoreLender } from './core-lender.js';

/**
 * Nice value of hashing threads where SCHED_IDLE cannot be had: the scheduler then gives a busy
 * event loop about 90% of a shared core, but in slices, during which the event loop waits.
 */
export const HASH_THREAD_NICE = 10;

/**
 * The code each hashing thread runs. It is plain JavaScript passed as a string, so it runs the
 * same from the compiled package and from TypeScript sources (a worker file would need a loader).
 * The thread lowers its own priority where the OS allows it, then computes argon2 synchronously,
 * one job at a time. On Linux it asks for SCHED_IDLE: it then runs only when no other thread of
 * normal priority wants the core, and gives the core up at once when the event loop wakes; Node
 * has no call for it, so util-linux's chrt sets it, once per thread. Without chrt, it takes nice
 * 10 with setpriority on its thread id.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
const { execFileSync } = require('node:child_process');
const argon2 = require(workerData.argon2);
let idle = false;
try {
  const tid = readlinkSync('/proc/thread-self').split('/').pop();
  setPriority(Number(tid), workerData.nice);
  execFileSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore', timeout: 5000 });
  idle = true;
} catch {}
parentPort.on('message', (job) => {
  try {
    const value = job.hash === undefined ? argon2.hashSync(job.password, job.options) : argon2.verifySync(job.hash, job.password);
    parentPort.postMessage({ value, idle });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message), idle });
  }
});
`;

interface Job {
  readonly message: { readonly password: string; readonly hash?: string; readonly options?: Options };
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** performance.now() when a thread took it. */
  startedAt?: number;
}

/**
 * argon2 on dedicated threads of the lowest priority. A login flood then slows logins, not token
 * checks: with argon2 on libuv's pool at normal priority, the scheduler split a shared core evenly
 * between hashing and the event loop, and /users/me lost two thirds of its throughput; at nice 10,
 * each of the hash's time slices still held the event loop up for ~1.5 ms, and /users/me's p99
 * tripled (docs/performance.md). Also keeps argon2 off libuv's pool, where it delayed jose's
 * verifications.
 *
 * Runs at most `size` jobs at once and queues the rest; callers bound the queue (WorkLimiter),
 * in length and in time, since a hash takes much longer while token checks keep the core busy.
 */
export class HashThreads {
  readonly #size: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  readonly #queue: Job[] = [];
  readonly #lender = new CoreLender();
  #count = 0;
  #closed = false;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('size must be a positive integer');
    this.#size = size;
  }

  /** A new PHC string for `password`. */
  hash(password: string, options: Options): Promise<string> {
    return this.#run({ password, options }) as Promise<string>;
  }

  /** Whether `password` matches `hash`; throws on a malformed hash. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.#run({ hash, password }) as Promise<boolean>;
  }

  /** Stops every thread; jobs still waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#lender.stop();
    for (const job of this.#queue.splice(0)) job.reject(new Error('hash threads closed'));
    await Promise.all([...this.#idle.splice(0), ...this.#busy.keys()].map((worker) => worker.terminate()));
  }

  #run(message: Job['message']): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('hash threads closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ?? (this.#count < this.#size ? this.#spawn() : undefined);
      if (worker === undefined) return;
      const job = this.#queue.shift()!;
      this.#busy.set(worker, job);
      job.startedAt = performance.now();
      this.#lender.started();
      worker.ref();
      worker.postMessage(job.message);
    }
  }

  #finished(job: Job): void {
    this.#lender.ended(performance.now() - (job.startedAt ?? performance.now()));
  }

  /** Whether the event loop is lending its core to starving hashes now (CoreLender). */
  get lending(): boolean {
    return this.#lender.lending;
  }

  #spawn(): Worker {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { argon2: createRequire(import.meta.url).resolve('@node-rs/argon2'), nice: HASH_THREAD_NICE },
    });
    this.#count += 1;
    worker.on('message', (reply: { value?: unknown; error?: string; idle: boolean }) => {
      // Loans make up for SCHED_IDLE only; a thread at nice 10 takes its share itself.
      this.#lender.enabled = reply.idle;
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      if (job !== undefined) this.#finished(job);
      // An idle thread must not keep the process (a CLI command, say) alive.
      worker.unref();
      this.#idle.push(worker);
      if (reply.error === undefined) job?.resolve(reply.value);
      else job?.reject(new Error(reply.error));
      this.#dispatch();
    });
    // A thread that dies (out of memory, say) fails its job and is replaced on the next dispatch.
    worker.on('exit', () => {
      this.#count -= 1;
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      if (job !== undefined) this.#finished(job);
      const idleAt = this.#idle.indexOf(worker);
      if (idleAt !== -1) this.#idle.splice(idleAt, 1);
      job?.reject(new Error('hash thread exited'));
      if (!this.#closed) this.#dispatch();
    });
    worker.on('error', () => undefined);
    return worker;
  }
}
