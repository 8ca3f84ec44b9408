import type { Options } from '@node-rs/argon2';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Nice value of hashing threads: when both want a shared core, the scheduler gives the event loop
 * ~94% of it, in turns. At nice 10 (~90%) the hash's ~1.5 ms turns came often enough to set
 * /users/me's p99 during a login flood; at 15 logins during the flood halved (docs/performance.md).
 */
export const HASH_THREAD_NICE = 12;

/**
 * The code each hashing thread runs. It is plain JavaScript passed as a string, so it runs the
 * same from the compiled package and from TypeScript sources (a worker file would need a loader).
 * The thread lowers its own priority where the OS allows it (Linux: `setpriority` on its thread
 * id), then computes argon2 synchronously, one job at a time.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
const argon2 = require(workerData.argon2);
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), workerData.nice);
} catch {}
parentPort.on('message', (job) => {
  try {
    const value = job.hash === undefined ? argon2.hashSync(job.password, job.options) : argon2.verifySync(job.hash, job.password);
    parentPort.postMessage({ value });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
});
`;

interface Job {
  readonly message: { readonly password: string; readonly hash?: string; readonly options?: Options };
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * argon2 on dedicated threads of lower priority. A login flood then slows logins, not token
 * checks: with argon2 on libuv's pool at normal priority, the scheduler split a shared core evenly
 * between hashing and the event loop, and /users/me lost two thirds of its throughput
 * (docs/performance.md). Also keeps argon2 off libuv's pool, where it delayed jose's verifications.
 *
 * Runs at most `size` jobs at once and queues the rest; callers bound the queue (WorkLimiter).
 */
export class HashThreads {
  readonly #size: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  readonly #queue: Job[] = [];
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
      worker.ref();
      worker.postMessage(job.message);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { argon2: createRequire(import.meta.url).resolve('@node-rs/argon2'), nice: HASH_THREAD_NICE },
    });
    this.#count += 1;
    worker.on('message', (reply: { value?: unknown; error?: string }) => {
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
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
      const idleAt = this.#idle.indexOf(worker);
      if (idleAt !== -1) this.#idle.splice(idleAt, 1);
      job?.reject(new Error('hash thread exited'));
      if (!this.#closed) this.#dispatch();
    });
    worker.on('error', () => undefined);
    return worker;
  }
}
