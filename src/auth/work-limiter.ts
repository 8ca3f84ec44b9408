import { ServerBusy } from '../errors.js';

/** A job is refused, not queued, when the jobs ahead of it are expected to take longer than this. */
export const MAX_EXPECTED_WAIT_MS = 2_000;
/** Weight of the latest job in the running mean of job durations. */
const DURATION_WEIGHT = 0.25;

export interface WorkLimiterOptions {
  readonly maxExpectedWaitMs?: number;
  /** Milliseconds from any fixed point; tests give their own. */
  readonly now?: () => number;
}

/**
 * Bounds expensive work (password hashing): at most `concurrency` jobs run at once and at most
 * `queueLimit` wait; beyond that a job is refused at once with ServerBusy, so a flood of logins
 * costs the attacker, not the queue, and everything else stays responsive.
 *
 * The queue is bounded in time too. Hashing threads run at a lower priority (hash-threads.ts), so
 * while token checks or other processes keep the cores busy a hash takes many times its usual
 * ~10 ms; a full queue would then hold logins for many seconds. A job is also refused when the
 * jobs ahead of it would take longer than MAX_EXPECTED_WAIT_MS, each at the running mean duration
 * of recent jobs or, when longer, the time the oldest running job has taken so far. A job finds a
 * free slot whatever the mean, so the mean is always brought back up to date.
 *
 * The time bound is for admission only (`assertRoom`, which callers ask before they commit to the
 * work, e.g. before a login attempt is counted); `run` enforces the queue's length alone, so work
 * admitted a moment ago is not refused because a running job has since grown old.
 */
export class WorkLimiter {
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #maxExpectedWaitMs: number;
  readonly #now: () => number;
  readonly #waiting: (() => void)[] = [];
  /** When each running job started, oldest first. */
  readonly #startedAt: number[] = [];
  #running = 0;
  /** Running mean of how long a job took from its start, ms; 0 until one has finished. */
  #meanDurationMs = 0;

  constructor(concurrency: number, queueLimit: number, options: WorkLimiterOptions = {}) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('concurrency must be a positive integer');
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new TypeError('queueLimit must be a non-negative integer');
    this.#concurrency = concurrency;
    this.#queueLimit = queueLimit;
    this.#maxExpectedWaitMs = options.maxExpectedWaitMs ?? MAX_EXPECTED_WAIT_MS;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Throws ServerBusy when a job started now would be refused, so callers can refuse before doing
   * any other work for it.
   */
  assertRoom(): void {
    if (this.#running < this.#concurrency) return;
    this.#assertQueueRoom();
    if (this.expectedWaitMs() > this.#maxExpectedWaitMs) throw new ServerBusy('password hashing is slowed down: a new job would wait too long');
  }

  #assertQueueRoom(): void {
    if (this.#waiting.length >= this.#queueLimit) throw new ServerBusy('password hashing is saturated');
  }

  /** How long a job queued now would wait before it starts, at the running mean duration of jobs. */
  expectedWaitMs(): number {
    if (this.#running < this.#concurrency) return 0;
    const oldest = this.#startedAt.length > 0 ? this.#now() - this.#startedAt[0]! : 0;
    return ((this.#waiting.length + 1) * Math.max(this.#meanDurationMs, Number.isFinite(oldest) ? oldest : 0)) / this.#concurrency;
  }

  /** Runs `job` when a slot is free; throws ServerBusy when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      this.#assertQueueRoom();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    const started = this.#now();
    this.#startedAt.push(started);
    try {
      return await job();
    } finally {
      this.#startedAt.splice(this.#startedAt.indexOf(started), 1);
      // A clock that jumps, or a paused process, must not hold the queue shut for long.
      const took = Math.min(this.#now() - started, 2 * this.#maxExpectedWaitMs);
      if (Number.isFinite(took) && took >= 0) {
        this.#meanDurationMs = this.#meanDurationMs === 0 ? took : this.#meanDurationMs + DURATION_WEIGHT * (took - this.#meanDurationMs);
      }
      // Hand the slot straight to the next waiter, so the running count never dips and refills.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }

  /** How many jobs may run at once. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Jobs running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }
}
