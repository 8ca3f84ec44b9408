/**
 * Child processes of the bench: every one is registered at spawn, and all are killed by PID when
 * the bench ends in any way (normal end, exception, signal, deadline), so none outlives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
const OUTPUT_TAIL = 64 * 1024;

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** The last 64 KiB of stdout and stderr, interleaved. */
  output(): string;
  alive(): boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnSpec {
  readonly name: string;
  readonly command: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly cwd?: string;
}

export function spawnChild(spec: SpawnSpec): Child {
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  live.add(child);
  let out = '';
  // Always drain both pipes: a child blocked on a full pipe would look like a slow server.
  const collect = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 2 * OUTPUT_TAIL) out = out.slice(-OUTPUT_TAIL);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null && live.has(child);
  return {
    name: spec.name,
    pid: child.pid,
    output: () => out.slice(-OUTPUT_TAIL),
    alive,
    exited,
    async stop(graceMs = 5000) {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the child prints a line matching `pattern` (bounded by `timeoutMs`); returns the match. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const match = pattern.exec(child.output());
      if (match) {
        clearInterval(poll);
        resolve(match);
      } else if (!child.alive()) {
        clearInterval(poll);
        reject(new Error(`${child.name} exited before it was ready:\n${child.output()}`));
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output()}`));
      }
    }, 20);
  });
}

/** Runs a child to completion (killed after `timeoutMs`) and returns its output. */
export async function runToCompletion(spec: SpawnSpec, timeoutMs: number): Promise<string> {
  const child = spawnChild(spec);
  const timer = setTimeout(() => void child.stop(1000), timeoutMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${spec.name} failed (exit ${code ?? signal}):\n${child.output()}`);
  return child.output();
}

/** Kills every child still running, by PID; synchronous, so it also works in an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

/** Registers a synchronous cleanup step run once at exit (after the children are killed). */
export function onCleanup(step: () => void): void {
  cleanups.push(step);
}

/**
 * Makes sure children die with the bench: on exit, on SIGINT/SIGTERM, on an uncaught error, and
 * when the whole run overshoots `deadlineMs`.
 */
export function installCleanup(deadlineMs: number): void {
  let done = false;
  const cleanup = () => {
    if (done) return;
    done = true;
    killAllChildren();
    for (const step of cleanups) {
      try {
        step();
      } catch {
        // best effort
      }
    }
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping children\n`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    cleanup();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection: ${(err as Error)?.stack ?? String(err)}\n`);
    cleanup();
    process.exit(1);
  });
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: still running after ${Math.round(deadlineMs / 1000)} s; stopping\n`);
    cleanup();
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
}
