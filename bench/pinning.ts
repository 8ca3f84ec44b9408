/**
 * Core placement: with two usable cores and `taskset`, the load generator (this process) runs on
 * one and every server (and the raw argon2 measurement) on the other, so they never compete.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** True when generator and servers are on separate cores. */
  readonly pinned: boolean;
  readonly generatorCore: number | undefined;
  readonly serverCore: number | undefined;
  /** Cores a server process may run on: its default hash concurrency. */
  readonly serverCores: number;
  /** One line for the report. */
  readonly description: string;
  /** Prefixes a command so it runs on the server core. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
}

/** Decides the placement and, when pinning, moves every thread of this process to the generator core. */
export function choosePinning(wanted: boolean): Pinning {
  const cores = allowedCores();
  const usable = cores.length > 0 ? cores.length : availableParallelism();
  const unpinned = (why: string): Pinning => ({
    pinned: false,
    generatorCore: undefined,
    serverCore: undefined,
    serverCores: usable,
    description: `not pinned (${why}); load generator and servers share ${usable} core(s), so figures are pessimistic`,
    wrap: (command, args) => ({ command, args }),
  });
  if (!wanted) return unpinned('--no-pin');
  if (cores.length === 0) return unpinned('CPU affinity unknown: no /proc');
  if (cores.length < 2) return unpinned('only one usable core');
  if (!hasTaskset()) return unpinned('taskset not installed');
  const [generatorCore, serverCore] = cores as [number, number];
  // -a: all threads (libuv pool, V8 helpers) of this process, not just the main one.
  execFileSync('taskset', ['-a', '-p', '-c', String(generatorCore), String(process.pid)], { stdio: 'ignore' });
  return {
    pinned: true,
    generatorCore,
    serverCore,
    serverCores: 1,
    description: `taskset: load generator on core ${generatorCore}, servers on core ${serverCore} (of ${cores.length} usable)`,
    wrap: (command, args) => ({ command: 'taskset', args: ['-c', String(serverCore), command, ...args] }),
  };
}

/** The CPUs this process may use (its affinity mask, which containers may narrow). */
function allowedCores(): number[] {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1];
    if (list) return parseCpuList(list);
  } catch {
    // not Linux: fall through
  }
  return [];
}

function parseCpuList(list: string): number[] {
  const cores: number[] = [];
  for (const part of list.trim().split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    for (let core = from; core <= (to ?? from); core++) cores.push(core);
  }
  return cores;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
