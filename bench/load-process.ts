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
import { spawnChild, waitForOutput } from './processes.js';
import { ROOT } from './servers.js';

/** The line the child prints when its load begins. */
const STARTED = 'load started';

type SerializedSpec = Omit<LoadSpec, 'requests'> & { readonly requests: autocannon.Request[][] };

/** A load running in a child process. */
export interface LoadInProcess {
  /** Resolves when the child starts its load (after Node and the loader are up, which takes a while). */
  readonly started: Promise<void>;
  readonly done: Promise<LoadResult>;
}

/** Starts `spec` in a child process (which inherits this process's core). */
export function startLoadInProcess(spec: LoadSpec): LoadInProcess {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-load-'));
  const file = join(dir, 'spec.json');
  const requests = Array.from({ length: spec.connections }, (_, i) => spec.requests(i));
  writeFileSync(file, JSON.stringify({ ...spec, requests } satisfies SerializedSpec));
  const child = spawnChild({
    name: spec.title,
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/load-process.ts', file],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: ROOT,
  });
  const timeoutMs = ((spec.lead ?? 0) + spec.duration + 60) * 1000;
  const timer = setTimeout(() => void child.stop(1000), timeoutMs);
  const done = child.exited.then(({ code, signal }) => {
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`${spec.title} failed (exit ${code ?? signal}):\n${child.output()}`);
    return JSON.parse(child.output().trim().split('\n').at(-1) ?? '') as LoadResult;
  });
  const started = waitForOutput(child, new RegExp(`^${STARTED}$`, 'm'), timeoutMs).then(() => undefined);
  // Either may be awaited alone; the other's failure is reported through the one awaited.
  started.catch(() => undefined);
  done.catch(() => undefined);
  return { started, done };
}

/** Runs `spec` in a child process (which inherits this process's core) and returns its result. */
export function runLoadInProcess(spec: LoadSpec): Promise<LoadResult> {
  return startLoadInProcess(spec).done;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SerializedSpec;
  const running = runLoad({ ...spec, requests: (i) => spec.requests[i]! });
  // runLoad has started autocannon synchronously: the load begins now.
  process.stdout.write(`${STARTED}\n`);
  const result = await running;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
