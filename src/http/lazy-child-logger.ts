import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

// The types of Fastify's logger interface (pino's, which Fastify does not re-export by name).
type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type Level = FastifyBaseLogger['level'];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Fastify gives every request a child logger bound to its id, and pino builds one by serializing
 * the bindings: ~2% of a GET /users/me. Most requests never log (request logging is off; audit
 * events and errors do log), so the child is made on the first line a request logs, with the same
 * bindings: what it writes is what the eager child would have written.
 */
class LazyChildLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** Whether the child logger has been made. */
  get made(): boolean {
    return this.#child !== undefined;
  }

  /** The child logger, made now if it was not yet. */
  real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): Level {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: Level) {
    this.real().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  /** pino's: answered by the parent while the child is not made and would have its level, so a disabled line makes nothing. */
  isLevelEnabled(level: string): boolean {
    const source = this.#child === undefined && this.#options.level === undefined ? this.#parent : this.real();
    return (source as Partial<PinoExtras>).isLevelEnabled?.(level) ?? true;
  }

  /** pino's: the bindings of this request's logger. */
  bindings(): Bindings {
    return (this.real() as Partial<PinoExtras>).bindings?.() ?? this.#bindings;
  }
}

/** Methods of pino's loggers beyond Fastify's interface, which plugins may call on `request.log`. */
interface PinoExtras {
  isLevelEnabled(level: string): boolean;
  bindings(): Bindings;
}

// One method per level on the prototype, not per instance: nothing is allocated per request but the instance.
for (const level of LEVELS) {
  Object.defineProperty(LazyChildLogger.prototype, level, {
    value(this: LazyChildLogger, ...args: unknown[]) {
      // A refusal logs at debug; with debug off that must not make the child it would discard.
      // Once the child exists, its own level method makes that check.
      if (!this.made && !this.isLevelEnabled(level)) return;
      const real = this.real();
      (real[level] as (...args: unknown[]) => void).apply(real, args);
    },
  });
}

/** Fastify's `childLoggerFactory`: request loggers made when first used. */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
