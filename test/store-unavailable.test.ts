import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStoreUnavailable, storeFailure } from '../src/store/store-unavailable.js';

function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

test('PostgreSQL errors that mean the database is unavailable are outages; the request-level ones are not', () => {
  const outages = [
    pgError('55000', 'database "gh" is not currently accepting connections'),
    pgError('25006', 'cannot execute INSERT in a read-only transaction'),
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P03', 'the database system is starting up'),
    pgError('3D000', 'database "gh" does not exist'),
  ];
  for (const err of outages) assert.ok(isStoreUnavailable(storeFailure(err)), err.message);

  const bugs = [
    pgError('55000', 'currval of sequence "s" is not yet defined in this session'),
    pgError('23505', 'duplicate key value violates unique constraint'),
    pgError('42P01', 'relation "users" does not exist'),
  ];
  for (const err of bugs) assert.equal(isStoreUnavailable(storeFailure(err)), false, err.message);
});
