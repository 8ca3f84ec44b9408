import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../src/config.js';
import { runCli } from './helpers/run-cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The one-line message loadConfig refuses `env` with. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.doesNotMatch(err.message, /\n/);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('configuration errors name the variable and what it accepts, once, on one line', () => {
  test('an enum: LOG_LEVEL and GATEHOUSE_SIGNING_ALG list their values instead of repeating "must be equal to constant"', () => {
    assert.equal(refusal({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")');
    assert.equal(refusal({ GATEHOUSE_SIGNING_ALG: 'HS256' }), 'GATEHOUSE_SIGNING_ALG must be one of ES256, RS256, EdDSA (got "HS256")');
  });

  test('integers say their range, booleans say true or false', () => {
    assert.equal(refusal({ PORT: 'abc' }), 'PORT must be an integer from 0 to 65535 (got "abc")');
    assert.equal(refusal({ PORT: '70000' }), 'PORT must be an integer from 0 to 65535 (got "70000")');
    assert.equal(refusal({ GATEHOUSE_ACCESS_TOKEN_TTL: '1.5' }), 'GATEHOUSE_ACCESS_TOKEN_TTL must be an integer from 30 to 86400 (got "1.5")');
    assert.equal(refusal({ GATEHOUSE_REFRESH_IDLE_TTL: '1' }), 'GATEHOUSE_REFRESH_IDLE_TTL must be an integer of at least 60 (got "1")');
    assert.equal(refusal({ GATEHOUSE_DEMO: 'yes' }), 'GATEHOUSE_DEMO must be true or false (got "yes")');
  });

  test('several bad variables are each named once, in one line', () => {
    assert.equal(
      refusal({ LOG_LEVEL: 'loud', PORT: 'x' }),
      'PORT must be an integer from 0 to 65535 (got "x"); LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    );
  });

  test('the CLI prints the message as its single error line', async () => {
    const result = await runCli(['users', 'list'], { LOG_LEVEL: 'verbose', DATABASE_URL: join(dir, 'cli.db') });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'gatehouse: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")\n');
  });
});

describe('DATABASE_URL', () => {
  test('a URL of another database, or a misspelt postgres://, is refused instead of becoming a file name', async () => {
    for (const url of ['mysql://x@y/z', 'postgress://u@h/db', 'http://example.com/db', 'redis://h']) {
      const scheme = url.split('://')[0]!;
      assert.equal(
        refusal({ DATABASE_URL: url }),
        `DATABASE_URL: unsupported scheme "${scheme}://"; use postgres:// (or postgresql://) for PostgreSQL, or a file path for SQLite`,
      );
    }
    // Only the scheme is echoed: the rest of a URL may hold a password.
    assert.doesNotMatch(refusal({ DATABASE_URL: 'mysql://root:hunter2@db/app' }), /hunter2|root/);
    const result = await runCli(['users', 'list'], { DATABASE_URL: 'mysql://x@y/z' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^gatehouse: DATABASE_URL: unsupported scheme "mysql:\/\/"/);
    assert.equal(existsSync(join(ROOT, 'mysql:')), false, 'no file named after the URL');
  });

  test('file: and sqlite: URLs are refused with the plain path to write instead', () => {
    for (const url of ['file:./data/g.db', 'file:///tmp/g.db', 'sqlite:///tmp/g.db', 'sqlite3://g.db']) {
      assert.match(refusal({ DATABASE_URL: url }), /^DATABASE_URL: give a SQLite database as a plain file path \(like \.\/data\/gatehouse\.db\), not a URL$/);
    }
  });

  test('PostgreSQL URLs, plain paths and Windows drive paths are accepted', () => {
    for (const url of ['postgres://u@h/db', 'postgresql://u@h/db', 'POSTGRES://u@h/db', './data/g.db', '/var/lib/g.db', 'g.db', ':memory:', 'C://data/g.db']) {
      assert.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url);
    }
  });

  test('a SQLite file that cannot be opened is named in the error, and a missing folder under /proc does not hang', { skip: process.platform !== 'linux' && 'needs /proc', timeout: 30_000 }, async () => {
    for (const path of ['/proc/x.db', '/proc/missing/x.db']) {
      const result = await runCli(['users', 'list'], { DATABASE_URL: path });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`^gatehouse: cannot open the SQLite database "${path}": [^\\n]+\\n$`));
    }
  });

  test('a PostgreSQL server that does not answer is named without the password of its URL', async () => {
    const result = await runCli(['users', 'list'], { DATABASE_URL: 'postgres://bob:hunter2@127.0.0.1:1/app?password=hunter3' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^gatehouse: cannot connect to PostgreSQL at postgres:\/\/bob@127\.0\.0\.1:1\/app: [^\n]+\n$/);
    assert.doesNotMatch(result.stderr, /hunter/);
  });
});

describe('REDIS_URL', () => {
  test('only redis:// and rediss:// are accepted', () => {
    assert.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(loadConfig({ REDIS_URL: 'rediss://user:pw@cache.example.com:6380/0' }).redisUrl, 'rediss://user:pw@cache.example.com:6380/0');
    assert.equal(refusal({ REDIS_URL: 'http://x' }), 'REDIS_URL must be a redis:// or rediss:// URL (got "http://")');
    assert.equal(refusal({ REDIS_URL: '/var/run/redis.sock' }), 'REDIS_URL must be a redis:// or rediss:// URL');
    assert.equal(refusal({ REDIS_URL: 'localhost:6379' }), 'REDIS_URL must be a redis:// or rediss:// URL');
    assert.doesNotMatch(refusal({ REDIS_URL: 'htp://u:hunter2@cache' }), /hunter2/);
  });
});

describe('GATEHOUSE_ISSUER', () => {
  test('an absolute http(s) URL is taken verbatim', () => {
    for (const issuer of ['https://auth.example.com', 'http://127.0.0.1:8000', 'https://example.com/auth']) {
      const config = loadConfig({ GATEHOUSE_ISSUER: issuer });
      assert.equal(config.issuer, issuer);
      assert.equal(config.audience, issuer);
      assert.equal(config.issuerDefaulted, false);
    }
    const defaulted = loadConfig({ HOST: '0.0.0.0', PORT: '9000' });
    assert.equal(defaulted.issuer, 'http://0.0.0.0:9000');
    assert.equal(defaulted.issuerDefaulted, true);
  });

  test('anything else is refused, saying what is expected', () => {
    const expected = 'an absolute http:// or https:// URL without query or fragment, like https://auth.example.com';
    for (const issuer of ['not-a-url', 'auth.example.com', 'ftp://auth.example.com', 'https://auth.example.com?x=1', 'https://auth.example.com#top', 'https://auth.example.com?', ' https://auth.example.com', 'http:/auth.example.com']) {
      assert.equal(refusal({ GATEHOUSE_ISSUER: issuer }), `GATEHOUSE_ISSUER must be ${expected} (got ${JSON.stringify(issuer)})`);
    }
    assert.equal(refusal({ GATEHOUSE_ISSUER: 'https://user:hunter2@auth.example.com' }), 'GATEHOUSE_ISSUER must not contain a user name or password');
  });

  test('a trailing slash is refused with the value to use, since verifiers compare iss exactly', () => {
    assert.equal(
      refusal({ GATEHOUSE_ISSUER: 'https://auth.example.com/' }),
      'GATEHOUSE_ISSUER must not end with "/": tokens carry it verbatim and verifiers compare it exactly (use "https://auth.example.com")',
    );
    assert.match(refusal({ GATEHOUSE_ISSUER: 'https://example.com/auth/' }), /\(use "https:\/\/example\.com\/auth"\)$/);
  });

  test('a refused issuer stops the server before anything is created', async () => {
    const database = join(dir, 'issuer.db');
    const result = await runCli(['serve'], { GATEHOUSE_ISSUER: 'not-a-url', DATABASE_URL: database, PORT: '0' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^gatehouse: GATEHOUSE_ISSUER must be an absolute http:\/\/ or https:\/\/ URL[^\n]+\n$/);
    assert.equal(existsSync(database), false);
  });
});
