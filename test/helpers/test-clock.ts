import type { Clock } from '../../src/auth/clock.js';

/** A clock that stands still until a test moves it. */
export class TestClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
