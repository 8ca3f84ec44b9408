import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseBearer } from '../src/http/bearer.js';
import { InvalidToken, NotAuthenticated } from '../src/errors.js';

describe('parseBearer', () => {
  test('takes the token after a case-insensitive scheme and any number of spaces', () => {
    assert.equal(parseBearer('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(parseBearer('bearer   abc.def.ghi  '), 'abc.def.ghi');
  });

  test('no header or another scheme: not authenticated', () => {
    assert.throws(() => parseBearer(undefined), NotAuthenticated);
    assert.throws(() => parseBearer('Basic Zm9vOmJhcg=='), NotAuthenticated);
    assert.throws(() => parseBearer(''), NotAuthenticated);
  });

  test('property: any header value gives a token, NotAuthenticated or InvalidToken, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `Bearer ${s}`), fc.string().map((s) => `bEaReR\t${s}`)), (header) => {
        try {
          const token = parseBearer(header);
          assert.match(token, /^[A-Za-z0-9\-._~+/]+=*$/);
        } catch (err) {
          assert.ok(err instanceof NotAuthenticated || err instanceof InvalidToken, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
