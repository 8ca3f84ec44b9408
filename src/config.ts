import envSchema from 'env-schema';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { Type, type Static } from 'typebox';
import { hs256SecretWeakness } from './auth/hs256-secret-weakness.js';
import { ConfigError, schemaConfigError } from './config-error.js';
import { checkDatabaseUrl, checkIssuer, checkRedisUrl } from './config-urls.js';

export { ConfigError } from './config-error.js';

/**
 * Every environment variable Gatehouse reads, with its default. This is the one place the
 * environment is read; the README's configuration table is checked against it by a test.
 */
export const EnvSchema = Type.Object({
  /** TCP port to listen on; 8000 as in FastAPI's docs. 0 picks a free port. */
  PORT: Type.Integer({ default: 8000, minimum: 0, maximum: 65535 }),
  /** Interface to bind; loopback unless told otherwise. */
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  /** `postgres://` or `postgresql://` selects PostgreSQL; a path is a SQLite file; other URLs are refused. */
  DATABASE_URL: Type.String({ default: './data/gatehouse.db', minLength: 1 }),
  /** PostgreSQL connections per instance. */
  GATEHOUSE_PG_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 1000 }),
  /** When set (`redis://` or `rediss://`), rate-limit state is shared through this Redis. */
  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** `production` never seeds demo users and refuses weak secrets. */
  NODE_ENV: Type.String({ default: 'development' }),
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  /**
   * The `iss` of every token: an absolute http(s) URL without query, fragment or trailing slash;
   * defaults to `http://HOST:PORT`. Never taken from the Host header.
   */
  GATEHOUSE_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  /** The `aud` of every token; defaults to the issuer. */
  GATEHOUSE_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  /** Access token lifetime in seconds (RFC 9068 tokens are short-lived: 15 minutes). */
  GATEHOUSE_ACCESS_TOKEN_TTL: Type.Integer({ default: 900, minimum: 30, maximum: 86400 }),
  /** Refresh tokens die after this many seconds without use (14 days). */
  GATEHOUSE_REFRESH_IDLE_TTL: Type.Integer({ default: 1209600, minimum: 60 }),
  /** A session ends this many seconds after login, however active (30 days). */
  GATEHOUSE_REFRESH_ABSOLUTE_TTL: Type.Integer({ default: 2592000, minimum: 60 }),
  /** `all`, `off`, or a comma-separated list of the client ids allowed the password grant. */
  GATEHOUSE_PASSWORD_GRANT: Type.String({ default: 'all', minLength: 1 }),
  /**
   * Algorithm of the keys Gatehouse generates (on first start, and by `gatehouse keys rotate`).
   * Servers sign with the current key in the database, whatever its algorithm.
   */
  GATEHOUSE_SIGNING_ALG: Type.Enum(['ES256', 'RS256', 'EdDSA'], { default: 'ES256' }),
  /** When set, tokens are signed with HS256 and this secret instead: at least 32 bytes, about 128 bits of entropy, never a published one. */
  GATEHOUSE_HS256_SECRET: Type.Optional(Type.String()),
  /** argon2id memory cost in KiB; may only be raised above the OWASP minimum. */
  GATEHOUSE_ARGON2_MEMORY_KIB: Type.Integer({ default: 19456, minimum: 19456, maximum: 4194304 }),
  /** argon2id passes; may only be raised. */
  GATEHOUSE_ARGON2_PASSES: Type.Integer({ default: 2, minimum: 2, maximum: 64 }),
  /** argon2id lanes; may only be raised. */
  GATEHOUSE_ARGON2_PARALLELISM: Type.Integer({ default: 1, minimum: 1, maximum: 16 }),
  /** Password hashes computed at once; default: the number of CPUs. */
  GATEHOUSE_HASH_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  /** Password hashes that may wait for a slot; past that, /token answers 503 at once. */
  GATEHOUSE_HASH_QUEUE: Type.Integer({ default: 32, minimum: 0, maximum: 10000 }),
  /** How many verified access tokens are remembered, so a repeated token skips signature checks. */
  GATEHOUSE_TOKEN_CACHE_SIZE: Type.Integer({ default: 10000, minimum: 0, maximum: 1000000 }),
  /** Seed the tutorial's demo users (never in production). `npm start` turns it on. */
  GATEHOUSE_DEMO: Type.Boolean({ default: false }),
  /** Failed logins (invalid_grant, invalid_client) one client address may make per minute before 429. */
  GATEHOUSE_LOGIN_FAILURES_PER_MINUTE: Type.Integer({ default: 20, minimum: 1, maximum: 1000000 }),
  /** Comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed; unset: none. */
  GATEHOUSE_TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated exact origins allowed to call the API from a browser (CORS); unset: CORS off. */
  GATEHOUSE_CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Seconds a request may take to arrive whole, headers and body, before the connection is closed
   * with 408. Bounds slow-body attacks.
   */
  GATEHOUSE_REQUEST_TIMEOUT: Type.Integer({ default: 30, minimum: 1, maximum: 3600 }),
});

export type Env = Static<typeof EnvSchema>;

export type SigningAlgorithm = 'ES256' | 'RS256' | 'EdDSA';

/** `all` clients, none (`off`), or only the listed client ids. */
export type PasswordGrantPolicy = 'all' | 'off' | readonly string[];

/** The validated, derived configuration every other module receives; frozen once built. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly pgPoolSize: number;
  readonly redisUrl: string | undefined;
  readonly production: boolean;
  readonly logLevel: string;
  readonly issuer: string;
  /** True when GATEHOUSE_ISSUER is unset and the issuer is derived from HOST and PORT. */
  readonly issuerDefaulted: boolean;
  readonly audience: string;
  readonly accessTokenTtl: number;
  /** Session lifetimes in seconds. */
  readonly sessionIdleTtl: number;
  readonly sessionAbsoluteTtl: number;
  /** Which clients may use the password grant. */
  readonly passwordGrant: PasswordGrantPolicy;
  readonly signingAlg: SigningAlgorithm;
  readonly hs256Secret: string | undefined;
  readonly argon2: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
  readonly tokenCacheSize: number;
  /** Bounds on password hashing work. */
  readonly hashConcurrency: number;
  readonly hashQueue: number;
  readonly demo: boolean;
  /** Failed logins per client address per minute before /token, /revoke and /introspect answer 429. */
  readonly loginFailuresPerMinute: number;
  /** Proxies whose X-Forwarded-For is believed (Fastify's `trustProxy`); undefined: none. */
  readonly trustProxy: readonly string[] | undefined;
  /** Origins allowed by CORS; empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** Seconds a request may take to arrive whole, headers and body. */
  readonly requestTimeout: number;
}

/** Reads and validates the environment (or `env` given by a test) into a frozen Config. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  let raw: Env;
  const data = pickDefined(env);
  try {
    raw = envSchema<Env>({ schema: EnvSchema as never, data, env: false, dotenv: false });
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) throw err;
    throw schemaConfigError(errors as { instancePath?: string }[], EnvSchema.properties, data);
  }
  return buildConfig(raw);
}

function pickDefined(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function buildConfig(raw: Env): Config {
  const production = raw.NODE_ENV === 'production';
  const secret = raw.GATEHOUSE_HS256_SECRET;
  // Refused in every mode: a development server's tokens are as forgeable as any other's.
  const weakness = secret === undefined ? undefined : hs256SecretWeakness(secret);
  if (weakness !== undefined) {
    throw new ConfigError(`GATEHOUSE_HS256_SECRET ${weakness}; generate one with: openssl rand -base64 48`);
  }
  if (raw.GATEHOUSE_REFRESH_IDLE_TTL > raw.GATEHOUSE_REFRESH_ABSOLUTE_TTL) {
    throw new ConfigError('GATEHOUSE_REFRESH_IDLE_TTL must not exceed GATEHOUSE_REFRESH_ABSOLUTE_TTL');
  }
  if (production && raw.GATEHOUSE_DEMO) {
    throw new ConfigError('GATEHOUSE_DEMO cannot be enabled when NODE_ENV=production');
  }
  const displayHost = raw.HOST.includes(':') ? `[${raw.HOST}]` : raw.HOST;
  const issuer = raw.GATEHOUSE_ISSUER === undefined ? `http://${displayHost}:${raw.PORT}` : checkIssuer(raw.GATEHOUSE_ISSUER);
  return Object.freeze({
    port: raw.PORT,
    host: raw.HOST,
    databaseUrl: checkDatabaseUrl(raw.DATABASE_URL),
    pgPoolSize: raw.GATEHOUSE_PG_POOL_SIZE,
    redisUrl: raw.REDIS_URL === undefined ? undefined : checkRedisUrl(raw.REDIS_URL),
    production,
    logLevel: raw.LOG_LEVEL,
    issuer,
    issuerDefaulted: raw.GATEHOUSE_ISSUER === undefined,
    audience: raw.GATEHOUSE_AUDIENCE ?? issuer,
    accessTokenTtl: raw.GATEHOUSE_ACCESS_TOKEN_TTL,
    sessionIdleTtl: raw.GATEHOUSE_REFRESH_IDLE_TTL,
    sessionAbsoluteTtl: raw.GATEHOUSE_REFRESH_ABSOLUTE_TTL,
    passwordGrant: parsePasswordGrant(raw.GATEHOUSE_PASSWORD_GRANT),
    signingAlg: raw.GATEHOUSE_SIGNING_ALG,
    hs256Secret: secret,
    argon2: Object.freeze({
      memoryCost: raw.GATEHOUSE_ARGON2_MEMORY_KIB,
      timeCost: raw.GATEHOUSE_ARGON2_PASSES,
      parallelism: raw.GATEHOUSE_ARGON2_PARALLELISM,
    }),
    tokenCacheSize: raw.GATEHOUSE_TOKEN_CACHE_SIZE,
    hashConcurrency: raw.GATEHOUSE_HASH_CONCURRENCY ?? availableParallelism(),
    hashQueue: raw.GATEHOUSE_HASH_QUEUE,
    demo: raw.GATEHOUSE_DEMO,
    loginFailuresPerMinute: raw.GATEHOUSE_LOGIN_FAILURES_PER_MINUTE,
    trustProxy: parseTrustProxy(raw.GATEHOUSE_TRUST_PROXY),
    corsOrigins: parseCorsOrigins(raw.GATEHOUSE_CORS_ORIGINS),
    requestTimeout: raw.GATEHOUSE_REQUEST_TIMEOUT,
  });
}

function parsePasswordGrant(value: string): PasswordGrantPolicy {
  const trimmed = value.trim();
  if (trimmed === 'all' || trimmed === 'off') return trimmed;
  const ids = trimmed.split(',').map((id) => id.trim()).filter((id) => id !== '');
  if (ids.length === 0) throw new ConfigError('GATEHOUSE_PASSWORD_GRANT must be all, off, or a list of client ids');
  return Object.freeze(ids);
}

function commaList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** proxy-addr's names for address ranges, accepted as Fastify's `trustProxy` accepts them. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const entries = commaList(value);
  if (entries.length === 0) throw new ConfigError('GATEHOUSE_TRUST_PROXY must list proxy addresses or CIDRs');
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.has(entry)) continue;
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !validPrefix || rest.length > 0) {
      throw new ConfigError(`GATEHOUSE_TRUST_PROXY: ${JSON.stringify(entry)} is not an IP address or CIDR`);
    }
  }
  return Object.freeze(entries);
}

function parseCorsOrigins(value: string | undefined): readonly string[] {
  const origins = commaList(value);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // Exact origins only (scheme://host[:port]): no wildcard, no path, as browsers send them.
    if (parsed === undefined || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(`GATEHOUSE_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://app.example.com`);
    }
  }
  return Object.freeze(origins);
}
