import { ServerBusy } from '../errors.js';

interface Turns {
  /** Settles when the last job queued so far has finished. */
  tail: Promise<void>;
  /** Jobs queued and not finished: the one running and those waiting behind it. */
  pending: number;
}

/**
 * Runs the jobs of one account one after another, in the order they came, and those of different
 * accounts independently. At most `waitingLimit` jobs wait per account; one more is refused at once
 * with ServerBusy. An account is remembered only while it has jobs, so names tried once (typos,
 * an attacker's list) leave nothing behind.
 */
export class AccountQueue {
  readonly #waitingLimit: number;
  readonly #accounts = new Map<string, Turns>();

  constructor(waitingLimit: number) {
    if (!Number.isInteger(waitingLimit) || waitingLimit < 0) throw new TypeError('waitingLimit must be a non-negative integer');
    this.#waitingLimit = waitingLimit;
  }

  /** Runs `job` once every job queued before it for `account` has finished. */
  async run<T>(account: string, job: () => Promise<T>): Promise<T> {
    let turns = this.#accounts.get(account);
    if (turns === undefined) {
      turns = { tail: Promise.resolve(), pending: 0 };
      this.#accounts.set(account, turns);
    } else if (turns.pending > this.#waitingLimit) {
      throw new ServerBusy('too many attempts waiting for one account');
    }
    turns.pending += 1;
    const previous = turns.tail;
    let finished!: () => void;
    turns.tail = new Promise<void>((resolve) => (finished = resolve));
    try {
      await previous;
      return await job();
    } finally {
      finished();
      turns.pending -= 1;
      if (turns.pending === 0) this.#accounts.delete(account);
    }
  }

  /** Accounts with a job running or waiting. */
  get size(): number {
    return this.#accounts.size;
  }
}
