import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

/**
 * The server runs with a small V8 young generation (docs/performance.md): `npm start`, the
 * `gatehouse` command and the README's deployment commands must all pass the same V8 flags, or the
 * benchmark (which runs what `npm start` runs) measures a server users do not get.
 */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('npm start, the gatehouse command and the README start node with the same flags', () => {
  const { scripts } = JSON.parse(read('package.json')) as { scripts: { start: string } };
  const startFlags = scripts.start.split(/\s+/).filter((word) => word.startsWith('--') && word !== '--demo');
  assert.ok(startFlags.includes('--max-semi-space-size=2'), scripts.start);

  const shebang = read('src/cli/main.ts').split('\n')[0]!;
  assert.equal(shebang, `#!/usr/bin/env -S node ${startFlags.join(' ')}`);

  const readmeStarts = read('README.md').match(/node [^\n`]*dist\/cli\/main\.js serve/g) ?? [];
  assert.ok(readmeStarts.length > 0, 'the README shows how to start the server with node');
  for (const line of readmeStarts) assert.ok(line.startsWith(`node ${startFlags.join(' ')} dist/cli/main.js`), line);
});
