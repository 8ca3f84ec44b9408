import { ConfigError } from './config-error.js';
import { isPostgresUrl } from './store/database-url.js';

// `scheme://`, with a scheme of two characters or more: `C://...` is a Windows drive, a path.
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):\/\//;
// A URL value is echoed in an error only when it can hold no credentials, and never at length.
const MAX_ECHO = 100;

/**
 * Checks DATABASE_URL: a `postgres://` or `postgresql://` URL, or a SQLite file path. Any other
 * `scheme://` is refused rather than taken as a path, which would quietly create a SQLite file
 * named `mysql:/...`. `file:` and `sqlite:` URLs are refused too: one spelling for a SQLite file,
 * the plain path, and no URL options that would be silently ignored.
 */
export function checkDatabaseUrl(value: string): string {
  if (isPostgresUrl(value)) return value;
  if (/^(file|sqlite3?):/i.test(value)) {
    throw new ConfigError('DATABASE_URL: give a SQLite database as a plain file path (like ./data/gatehouse.db), not a URL');
  }
  const scheme = URL_SCHEME.exec(value)?.[1];
  if (scheme !== undefined) {
    throw new ConfigError(
      `DATABASE_URL: unsupported scheme ${JSON.stringify(`${scheme.slice(0, 20)}://`)}; use postgres:// (or postgresql://) for PostgreSQL, or a file path for SQLite`,
    );
  }
  return value;
}

/** Checks REDIS_URL: only `redis://` and `rediss://` (TLS); ioredis would take anything else for a socket path. */
export function checkRedisUrl(value: string): string {
  const scheme = URL_SCHEME.exec(value)?.[1];
  if (!/^rediss?$/i.test(scheme ?? '') || !URL.canParse(value)) {
    const got = scheme === undefined ? '' : ` (got ${JSON.stringify(`${scheme.slice(0, 20)}://`)})`;
    throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL${got}`);
  }
  return value;
}

/**
 * Checks GATEHOUSE_ISSUER: an absolute http(s) URL without query or fragment (RFC 8414 §2), used
 * verbatim as `iss`. A trailing slash is refused, not trimmed: verifiers compare `iss` as an exact
 * string, so the operator must see the one value tokens carry (`https://a.example` and
 * `https://a.example/` are different issuers to them).
 */
export function checkIssuer(value: string): string {
  const expected = 'an absolute http:// or https:// URL without query or fragment, like https://auth.example.com';
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.username !== '' || url.password !== '')) {
    throw new ConfigError('GATEHOUSE_ISSUER must not contain a user name or password');
  }
  const got = JSON.stringify(value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}...` : value);
  // `new URL` forgives spaces, an empty `?` or `#`, and `http:/host`; the raw value must be exact.
  if (url === undefined || !/^https?:\/\/[^/]/i.test(value) || /[\s?#]/.test(value)) {
    throw new ConfigError(`GATEHOUSE_ISSUER must be ${expected} (got ${got})`);
  }
  if (value.endsWith('/')) {
    throw new ConfigError(
      `GATEHOUSE_ISSUER must not end with "/": tokens carry it verbatim and verifiers compare it exactly (use ${JSON.stringify(value.replace(/\/+$/, ''))})`,
    );
  }
  return value;
}
