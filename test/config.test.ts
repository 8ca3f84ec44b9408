import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../src/config.js';

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

/** Runs the real CLI with only `env`, returning its exit status and stderr. */
function cli(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
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
    const result = await cli(['users', 'list'], { LOG_LEVEL: 'verbose', DATABASE_URL: join(dir, 'cli.db') });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'gatehouse: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")\n');
  });
});
