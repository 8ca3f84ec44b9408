/** The bench's output: a Markdown table with notes (printed, and saved as latest.md) and latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from './scenarios.js';
import type { BenchResults, Row } from './targets.js';

export interface RunInfo {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly placement: string;
  readonly loadGenerator: string;
  readonly setup: readonly string[];
  readonly wallSeconds: number;
}

const num = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));
const count = (n: number | undefined) => (n === undefined ? '—' : String(n));

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | req/s | p50 ms | p99 ms | errors | peak RSS MiB | ratio | target | pass/fail |',
    '|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of rows) {
    const verdict = r.pass === undefined ? '—' : r.pass ? 'PASS' : '**FAIL**';
    lines.push(
      `| ${r.scenario} | ${num(r.rps, r.rps !== undefined && r.rps < 1000 ? 1 : 0)} | ${num(r.p50, 2)} | ${num(r.p99, 2)} | ${count(r.errors)} | ${num(r.peakRssMiB, 0)} | ${r.ratio} | ${r.target} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}

function statusLine(r: ScenarioResult): string {
  const parts = Object.entries(r.load.byStatus).map(([code, s]) => `${code} ×${s.count} (p50 ${num(s.p50, 1)}, p99 ${num(s.p99, 1)} ms)`);
  if (r.load.socketErrors > 0) parts.push(`no answer ×${r.load.socketErrors}`);
  const unanswered = inFlight(r, 0);
  if (unanswered !== '') parts.push(unanswered);
  return parts.join(', ') || 'no answers';
}

/** Requests unanswered at the stop, when the oldest had waited over `minOldestMs` ('' otherwise). */
function inFlight(r: ScenarioResult, minOldestMs: number): string {
  const { count, oldestMs } = r.load.unanswered;
  return count > 0 && oldestMs > minOldestMs ? `in flight at the stop ×${count} (oldest sent ${num(oldestMs, 0)} ms before)` : '';
}

/** Other scenarios name requests in flight at the stop only when the oldest waited this long: a hang, not the last round trip. */
const HANG_MS = 1000;
const prefixed = (text: string) => (text === '' ? '' : ` ${text}`);

/** Below this share of a core on both sides, the ceiling was held back by something else on the machine. */
const BUSY_MACHINE_CPU = 0.8;

/**
 * The bare node:http ceiling saturates its server or its load generator, one core each; when
 * neither was near a core, other work on the machine took the difference, and every ratio to the
 * ceiling (and likely the rest of the run) says more about that work than about Gatehouse.
 */
function busyMachineWarning(ceilings: readonly ScenarioResult[]): string[] {
  const held = ceilings.filter((r) => (r.serverCpu ?? 1) < BUSY_MACHINE_CPU && r.load.generatorCpu < BUSY_MACHINE_CPU);
  if (held.length === 0) return [];
  return [
    `**The machine was busy with other work:** the ceiling (${held.map((r) => r.id).join(', ')}) used under ${BUSY_MACHINE_CPU} of a core on both sides, so the ratios of this run mean little. Run it again on a quiet machine.`,
    '',
  ];
}

function cpuLine(r: ScenarioResult): string {
  // The flood's server is (d)'s, measured once, on (d)'s line.
  const server = r.serverCpu === undefined ? (r.id === 'd-flood' ? 'as d' : 'not measured') : r.serverCpu.toFixed(2);
  const bound = r.load.generatorCpu >= 0.9 && (r.serverCpu ?? 1) < 0.9 ? ' — load generator saturated first: a lower bound for the server' : '';
  return `${r.id}: server ${server}, generator ${r.load.generatorCpu.toFixed(2)}${bound}`;
}

export function markdownReport(info: RunInfo, results: BenchResults, rows: readonly Row[]): string {
  const failures = rows.flatMap((r) => r.failures);
  const scenarios = [results.ceiling, results.ceilingAgain, results.a, results.bFirstPass, results.b, results.c, results.d, results.flood];
  return [
    `## Gatehouse bench, ${info.date}`,
    '',
    markdownTable(rows),
    '',
    failures.length === 0 ? '**All targets met.**' : `**${failures.length} target(s) missed:**\n${failures.map((f) => `- ${f}`).join('\n')}`,
    '',
    ...busyMachineWarning([results.ceiling, results.ceilingAgain]),
    `- Placement: ${info.placement}.`,
    `- Load generator: ${info.loadGenerator}.`,
    ...info.setup.map((line) => `- ${line}`),
    `- Flood: ${results.floodRate}/s offered, ${results.flood.load.responsesPerSecond.toFixed(1)}/s answered: ${statusLine(results.flood)}; measured in (d)'s window, after its first second (its connections open together, each with a login: a burst, not the offered rate).`,
    `- Answers of the other scenarios: ${scenarios
      .filter((s) => s.id !== 'd-flood')
      .map((s) => `${s.id} ${Object.entries(s.load.byStatus).map(([code, st]) => `${code} ×${st.count}`).join(' ')}${s.load.socketErrors ? ` no-answer ×${s.load.socketErrors}` : ''}${prefixed(inFlight(s, HANG_MS))}`)
      .join('; ')}.`,
    `- CPU used during each measured window, in cores: ${scenarios.map(cpuLine).join('; ')}.`,
    `- Machine: ${info.cpu}; Node ${info.node}; whole run ${info.wallSeconds.toFixed(0)} s.`,
    '',
  ].join('\n');
}

export function writeResults(outDir: string, markdown: string, json: unknown): { md: string; json: string } {
  mkdirSync(outDir, { recursive: true });
  const md = join(outDir, 'latest.md');
  const jsonPath = join(outDir, 'latest.json');
  writeFileSync(md, markdown);
  writeFileSync(jsonPath, `${JSON.stringify(json, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`);
  return { md, json: jsonPath };
}
