/**
 * Resource use of a process from /proc (Linux): peak resident memory and CPU time. Each server is
 * a fresh process per scenario, so its VmHWM (peak RSS since start) is the scenario's peak; a
 * 100 ms VmRSS sampler backs it up where VmHWM is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const KIB_PER_MIB = 1024;
let clockTicks: number | undefined;

function status(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

function kib(text: string | undefined, field: string): number | undefined {
  const match = text === undefined ? null : new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= ticksPerSecond();
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Samples a process's RSS until stopped; `peakMiB()` is the larger of the samples and VmHWM. */
export class RssMonitor {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #maxKib = 0;

  constructor(pid: number, intervalMs = 100) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  #sample(): void {
    const text = status(this.#pid);
    this.#maxKib = Math.max(this.#maxKib, kib(text, 'VmRSS') ?? 0, kib(text, 'VmHWM') ?? 0);
  }

  /** Peak RSS in MiB so far (undefined when /proc could not be read). */
  peakMiB(): number | undefined {
    this.#sample();
    return this.#maxKib === 0 ? undefined : this.#maxKib / KIB_PER_MIB;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
