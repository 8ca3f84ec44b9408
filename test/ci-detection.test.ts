import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inCi } from './helpers/in-ci.js';
import { createTestSchema } from './helpers/postgres.js';

describe('CI detection of the test helpers', () => {
  test('CI=true or any other value means CI; CI=false, 0, empty or unset do not', () => {
    for (const value of ['true', 'TRUE', '1', 'yes', 'github-actions']) assert.equal(inCi({ CI: value }), true, value);
    for (const value of ['false', 'False', '0', '', undefined]) assert.equal(inCi({ CI: value }), false, String(value));
  });

  test('an unreachable PostgreSQL skips, loudly, with CI=false and fails the test with CI=true', async (t) => {
    let stderr = '';
    t.mock.method(process.stderr, 'write', (chunk: string) => ((stderr += chunk), true));
    // Port 1 on loopback: refused at once.
    const url = 'postgres://postgres@127.0.0.1:1/test';
    assert.ok('unavailable' in (await createTestSchema({ url, env: { CI: 'false' } })));
    assert.match(stderr, /^SKIPPING PostgreSQL tests: /);
    await assert.rejects(createTestSchema({ url, env: { CI: 'true' } }), /PostgreSQL not reachable/);
  });
});
