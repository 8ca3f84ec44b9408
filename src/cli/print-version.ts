import { createRequire } from 'node:module';

/** Writes `gatehouse <version>` (package.json's version) to stdout and returns exit status 0. */
export function printVersion(): number {
  // The same path from src/cli and dist/cli: both sit two levels below package.json.
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  process.stdout.write(`gatehouse ${version}\n`);
  return 0;
}
