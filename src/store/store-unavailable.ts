import type { Store } from './store.js';

// Node socket errors of a lost or unreachable database server.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
// PostgreSQL SQLSTATEs: class 08 connection exceptions, 57P0x shutdown/cannot connect, 53300 too many
// connections, 3D000 the database is gone (dropped or renamed under the server), 28xxx the server
// refuses our credentials (changed under a running server), 25006 a read-only transaction (the
// server we reach is a standby, as during a failover): none is the request's fault.
const POSTGRES_STATES = /^(08...|57P0[1-4]|53300|3D000|28000|28P01|25006)$/;
// 55000 is a broad class (object not in prerequisite state); only its refusal of new connections
// (ALTER DATABASE ... ALLOW_CONNECTIONS false, as for maintenance) is an outage.
const POSTGRES_CLOSED_DATABASE = /is not currently accepting connections/i;
// node-postgres reports a dropped or slow connection by message only.
const POSTGRES_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error and is not queryable|Client was closed/i;
// SQLite: locked past busy_timeout, I/O failure, or a database handle that is gone.
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY)/;
const SQLITE_MESSAGES = /database connection is not open/i;
// Kysely, once the store is closed (a shutdown with requests still in flight).
const CLOSED_MESSAGES = /driver has already been destroyed/i;

/** Errors the store raised because the database was unreachable or failing. */
const outages = new WeakSet<object>();

/**
 * For the store's own use, on every error it raises: remembers those that mean the database is
 * unreachable or failing right now, rather than a bug, and returns `err` to be rethrown.
 */
export function storeFailure(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const { code, message } = err as { code?: unknown; message?: unknown };
  const outage =
    (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_STATES.test(code) || SQLITE_CODES.test(code))) ||
    (code === '55000' && typeof message === 'string' && POSTGRES_CLOSED_DATABASE.test(message)) ||
    (typeof message === 'string' && (POSTGRES_MESSAGES.test(message) || SQLITE_MESSAGES.test(message) || CLOSED_MESSAGES.test(message)));
  if (outage) outages.add(err);
  return err;
}

/**
 * True when the store raised `err` because the database is unreachable or failing: such errors
 * become 503 (retry later), and the pool reconnects once the database is back. Only errors that
 * came out of the store count. The same codes from anywhere else are not an outage: a client
 * that hangs up mid-body makes the body reader fail with ECONNRESET too.
 */
export function isStoreUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && outages.has(err);
}

/**
 * `store`, with every error its methods throw passed through `storeFailure`: the one place where
 * errors leave the store. Each method is called at once, so a synchronous read inside it still
 * happens before the caller's next step (see Store.dataVersion).
 */
export function classifyingFailures(store: Store): Store {
  const wrapped = Object.create(store) as Record<string, unknown>;
  for (const name of methodNames(store)) {
    const method = (store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(store, args);
      } catch (err) {
        throw storeFailure(err);
      }
    };
  }
  return wrapped as unknown as Store;
}

/** The asynchronous methods of the store's class (Store.dataVersion is synchronous and left alone). */
function methodNames(store: Store): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(store) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof (proto as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}
