import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ScopeRegistry } from '../src/auth/scopes.js';
import { InvalidScope } from '../src/errors.js';

const registry = new ScopeRegistry([
  { name: 'me', description: 'me', privileged: false },
  { name: 'items', description: 'items', privileged: false },
  { name: 'admin', description: 'admin', privileged: true },
]);

describe('scope grant rules', () => {
  test('without a request: the user\'s scopes minus privileged ones', () => {
    assert.deepEqual(registry.grant(undefined, ['admin', 'items', 'me']), ['me', 'items']);
  });

  test('a privileged scope is granted only when asked for by name', () => {
    assert.deepEqual(registry.grant(['admin'], ['admin', 'me']), ['admin']);
  });

  test('unknown or malformed scopes are invalid_scope; duplicates and extra spaces collapse', () => {
    assert.throws(() => registry.parse('me nope'), InvalidScope);
    assert.throws(() => registry.parse('me\\'), InvalidScope);
    assert.deepEqual(registry.parse('me  me items'), ['me', 'items']);
  });

  test('property: the grant is always a subset of both the request and the user\'s scopes', () => {
    const scope = fc.constantFrom<string>('me', 'items', 'admin');
    fc.assert(
      fc.property(fc.option(fc.array(scope)), fc.array(scope), (requested, held) => {
        const granted = registry.grant(requested ?? undefined, held);
        for (const s of granted) {
          assert.ok(held.includes(s));
          if (requested) assert.ok(requested.includes(s));
          else assert.notEqual(s, 'admin');
        }
      }),
    );
  });
});
