/**
 * The `gatehouse/server` entry: the pieces that run a Gatehouse server inside another process
 * (tests of a service that trusts Gatehouse, say). `buildApp` never listens; `serve` does what
 * `gatehouse serve` does.
 */
export { buildApp, type BuildAppOptions } from './app.js';
export { createAuthServices, type AuthServices } from './auth/auth-services.js';
export { systemClock, type Clock } from './auth/clock.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { serve, type ServeOptions } from './main.js';
export { openStore, type OpenStoreOptions } from './store/open-store.js';
export type { Store } from './store/store.js';
