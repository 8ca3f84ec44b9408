import { ServerBusy } from '../errors.js';

/**
 * Bounds expensive work (password hashing): at most `concurrency` jobs run at once and at most
 * `queueLimit` wait; beyond that a job is refused at once with ServerBusy, so a flood of logins
 * costs the attacker, not the queue, and everything else stays responsive.
 */
export class WorkLimiter {
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(concurrency: number, queueLimit: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('concurrency must be a positive integer');
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new TypeError('queueLimit must be a non-negative integer');
    this.#concurrency = concurrency;
    this.#queueLimit = queueLimit;
  }

  /**
   * Throws ServerBusy when a job started now would be refused, so callers can refuse before doing
   * any other work for it.
   */
  assertRoom(): void {
    if (this.#running >= this.#concurrency && this.#waiting.length >= this.#queueLimit) {
      throw new ServerBusy('password hashing is saturated');
    }
  }

  /** Runs `job` when a slot is free; throws ServerBusy when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      this.assertRoom();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await job();
    } finally {
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
