/** Share of the event loop's time lent to starving hashing threads: what nice 10 gave them. */
export const LENT_SHARE = 0.1;
/** The longest the event loop is held in one loan: what a waiting request may lose to it. */
export const MAX_LOAN_MS = 0.5;
/** How often a busy event loop considers a loan. */
const LOAN_INTERVAL_MS = 2;
/** A hash that has run this many times its shortest duration yet is starving. */
const STARVED_FACTOR = 3;

/**
 * Hashing threads run under SCHED_IDLE (hash-threads.ts): whenever the event loop wants the core
 * it gets it at once, so token checks never wait behind a hash. But while token checks keep the
 * core busy, a hash would then get no time at all, and logins would starve. So once a hash has run
 * several times longer than the fastest one seen, the event loop lends the core back: at most every
 * LOAN_INTERVAL_MS it blocks itself (Atomics.wait) for as long as gives the hashing threads
 * LENT_SHARE of the time since the last loan, counting the time the event loop was idle anyway,
 * never for more than MAX_LOAN_MS at once. The share is nice 10's; the loans are a third of its
 * ~1.5 ms time slices, so a request waits at most half a millisecond behind them.
 */
export class CoreLender {
  /** Whether hashes may starve (their threads got SCHED_IDLE); until then, no loans. */
  enabled = false;
  readonly #cell = new Int32Array(new SharedArrayBuffer(4));
  #busy = 0;
  #fastestMs = Number.POSITIVE_INFINITY;
  #watch: NodeJS.Timeout | undefined;
  #lending: NodeJS.Timeout | undefined;
  #lastLoanEnd = 0;
  #utilization: EventLoopUtilization | undefined;

  /** A hash began on a thread. */
  started(): void {
    this.#busy += 1;
    this.#watchFromNow();
  }

  /** A hash ended (or failed) after running `tookMs`. */
  ended(tookMs: number): void {
    this.#busy = Math.max(0, this.#busy - 1);
    if (this.#lending === undefined) this.#fastestMs = Math.min(this.#fastestMs, tookMs);
    if (this.#busy === 0) this.stop();
    else this.#watchFromNow();
  }

  /** Ends any loan schedule; a later hash starts watching again. */
  stop(): void {
    clearTimeout(this.#watch);
    clearInterval(this.#lending);
    this.#watch = undefined;
    this.#lending = undefined;
  }

  /** Whether loans are being made now. For tests and operators. */
  get lending(): boolean {
    return this.#lending !== undefined;
  }

  #watchFromNow(): void {
    if (!this.enabled || this.#lending !== undefined) return;
    clearTimeout(this.#watch);
    // Until one hash has finished there is no measure of starving.
    if (!Number.isFinite(this.#fastestMs)) return;
    this.#watch = setTimeout(() => this.#startLending(), Math.max(1, this.#fastestMs * STARVED_FACTOR)).unref();
  }

  #startLending(): void {
    this.#watch = undefined;
    if (this.#busy === 0 || this.#lending !== undefined) return;
    this.#lastLoanEnd = performance.now();
    this.#utilization = performance.eventLoopUtilization();
    this.#lending = setInterval(() => this.#lend(), LOAN_INTERVAL_MS).unref();
  }

  #lend(): void {
    const now = performance.now();
    const since = performance.eventLoopUtilization(this.#utilization);
    // Time the event loop slept since the last loan was the hashing threads' to use already.
    const owed = (LENT_SHARE * (now - this.#lastLoanEnd) - since.idle) / (1 - LENT_SHARE);
    if (owed > 0.05) Atomics.wait(this.#cell, 0, 0, Math.min(MAX_LOAN_MS, owed));
    this.#lastLoanEnd = performance.now();
    this.#utilization = performance.eventLoopUtilization();
  }
}

type EventLoopUtilization = ReturnType<typeof performance.eventLoopUtilization>;
