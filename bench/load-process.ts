/**
 * A load run in a process of its own, on the generator's core. (d) runs two loads at once: in one
 * process the flood's responses would wait behind the /users/me load's on the same event loop, and
 * the refusals' latencies would measure the generator, not the server.
 *
 *   node --import tsx bench/load-process.ts <spec.json>   prints the LoadResult as one JSON line
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type autocannon from 'autocannon';
import { runLoad, type LoadResult, type LoadSpec } from './load.js';
import { runToCompletion } from './processes.js';
import { ROOT } from './servers.js';

type SerializedSpec = Omit<LoadSpec, 'requests'> & { readonly requests: autocannon.Request[][] };

/** Runs `spec` in a child process (which inherits this process's core) and returns its result. */
export async function runLoadInProcess(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-load-'));
  try {
    const file = join(dir, 'spec.json');
    const requests = Array.from({ length: spec.connections }, (_, i) => spec.requests(i));
    writeFileSync(file, JSON.stringify({ ...spec, requests } satisfies SerializedSpec));
    const output = await runToCompletion(
      { name: spec.title, command: process.execPath, args: ['--import', 'tsx', 'bench/load-process.ts', file], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: ROOT },
      (spec.duration + 60) * 1000,
    );
    return JSON.parse(output.trim().split('\n').at(-1) ?? '') as LoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SerializedSpec;
  const result = await runLoad({ ...spec, requests: (i) => spec.requests[i]! });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
