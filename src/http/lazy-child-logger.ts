import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
type LogArgs = unknown[];

function log(logger: FastifyBaseLogger, level: Level, args: LogArgs): void {
  (logger[level] as (...args: LogArgs) => void).apply(logger, args);
}

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

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): LevelWithSilentOrString {
    return this.#child?.level ?? this.#parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.#real().level = level;
  }

  // Methods on the prototype, not per-instance arrow functions: nothing allocated per request but the instance.
  fatal(...args: LogArgs): void {
    log(this.#real(), 'fatal', args);
  }
  error(...args: LogArgs): void {
    log(this.#real(), 'error', args);
  }
  warn(...args: LogArgs): void {
    log(this.#real(), 'warn', args);
  }
  info(...args: LogArgs): void {
    log(this.#real(), 'info', args);
  }
  debug(...args: LogArgs): void {
    log(this.#real(), 'debug', args);
  }
  trace(...args: LogArgs): void {
    log(this.#real(), 'trace', args);
  }
  silent(...args: LogArgs): void {
    log(this.#real(), 'silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: request loggers made when first used. */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
