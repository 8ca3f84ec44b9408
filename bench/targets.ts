/**
 * The issue's targets, as ratios within one run, turned into table rows with a verdict each.
 *
 * (a) req/s >= 0.6 x ceiling   (b) req/s >= 0.25 x ceiling   (the ceiling: mean of its first and last runs)
 * (c) logins/s >= 0.9 x the raw argon2id verify rate (same parameters, same number in flight,
 *     same core, same thread pool: see argon2-rate.ts; mean of the runs before and after (c))
 * (d) /users/me p99 <= 3 x (a)'s p99 and req/s >= 0.5 x (a)'s, during a flood at 2 x (c)'s rate;
 *     the flood's excess refused (503/429) at once: p99 of refusals under the time of one hash,
 *     so at least 99% of refused logins never waited behind a hash
 * Every Gatehouse scenario: no errors, peak RSS < 150 MiB.
 */
import type { Argon2Params } from '../src/auth/password-hasher.js';
import type { RawArgon2, ScenarioResult } from './scenarios.js';

export const TARGETS = { a: 0.6, b: 0.25, c: 0.9, dP99: 3, dRps: 0.5, rssMiB: 150 } as const;

export interface Row {
  readonly id: string;
  readonly scenario: string;
  readonly rps: number | undefined;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  readonly errors: number | undefined;
  readonly peakRssMiB: number | undefined;
  readonly ratio: string;
  readonly target: string;
  /** undefined: a reference or informational row. */
  readonly pass: boolean | undefined;
  /** What failed, in words. */
  readonly failures: readonly string[];
}

export interface BenchResults {
  readonly ceiling: ScenarioResult;
  /** The ceiling measured again after every other scenario. */
  readonly ceilingAgain: ScenarioResult;
  readonly a: ScenarioResult;
  readonly bFirstPass: ScenarioResult;
  readonly b: ScenarioResult;
  readonly raw: readonly RawArgon2[];
  readonly c: ScenarioResult;
  readonly d: ScenarioResult;
  readonly flood: ScenarioResult;
  readonly floodRate: number;
}

interface Check {
  readonly ok: boolean;
  readonly failure: string;
}

const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const errorsOf = (r: ScenarioResult) => r.load.socketErrors + r.load.non2xx;

function row(r: ScenarioResult, ratio: string, target: string, checks: Check[] | undefined, over: Partial<Row> = {}): Row {
  const failures = checks?.filter((c) => !c.ok).map((c) => `${r.label}: ${c.failure}`) ?? [];
  return {
    id: r.id,
    scenario: r.label,
    rps: r.load.rps,
    p50: r.load.latency.p50,
    p99: r.load.latency.p99,
    errors: errorsOf(r),
    peakRssMiB: r.peakRssMiB,
    ratio,
    target,
    pass: checks === undefined ? undefined : failures.length === 0,
    failures,
    ...over,
  };
}

/** Checks every Gatehouse scenario shares: nothing but 2xx, and memory under the cap. */
function common(r: ScenarioResult): Check[] {
  return [
    { ok: errorsOf(r) === 0, failure: `${errorsOf(r)} errors (non-2xx or no answer): ${JSON.stringify(Object.keys(r.load.byStatus))}` },
    {
      ok: r.peakRssMiB !== undefined && r.peakRssMiB < TARGETS.rssMiB,
      failure: `peak RSS ${r.peakRssMiB === undefined ? 'unknown' : `${fixed(r.peakRssMiB, 0)} MiB`}, limit ${TARGETS.rssMiB} MiB`,
    },
  ];
}

export function rawRate(raw: readonly RawArgon2[]): number {
  return raw.reduce((sum, r) => sum + r.perSecond, 0) / raw.length;
}

export function evaluate(results: BenchResults, argon2: Argon2Params, hashConcurrency: number): Row[] {
  const { ceiling, ceilingAgain, a, bFirstPass, b, raw, c, d, flood } = results;
  const top = (ceiling.load.rps + ceilingAgain.load.rps) / 2;
  const rss = ` · RSS < ${TARGETS.rssMiB} MiB`;
  const ra = a.load.rps / top;
  const rb = b.load.rps / top;
  const argonRate = rawRate(raw);
  const hashMs = (1000 * hashConcurrency) / argonRate;
  const rc = c.load.rps / argonRate;
  const dP99 = d.load.latency.p99 / a.load.latency.p99;
  const dRps = d.load.rps / a.load.rps;

  const refusals = ['503', '429'].map((code) => flood.load.byStatus[code]).filter((s) => s !== undefined);
  const refused = refusals.reduce((n, s) => n + s.count, 0);
  const refusalP99 = refused === 0 ? Number.NaN : Math.max(...refusals.map((s) => s.p99));
  const refusalP50 = refused === 0 ? Number.NaN : Math.max(...refusals.map((s) => s.p50));
  const unexpected =
    flood.load.socketErrors + Object.entries(flood.load.byStatus).reduce((n, [code, s]) => n + (['200', '503', '429'].includes(code) ? 0 : s.count), 0);

  return [
    row(ceiling, `${fixed(ceiling.load.rps / top)} of the mean`, 'reference', undefined),
    row(ceilingAgain, `${fixed(ceilingAgain.load.rps / top)} of the mean`, 'reference', undefined),
    row(a, `${fixed(ra)} of ceiling`, `≥ ${TARGETS.a} of ceiling${rss}`, [
      { ok: ra >= TARGETS.a, failure: `${fixed(ra)} of the ceiling, target ≥ ${TARGETS.a}` },
      ...common(a),
    ]),
    row(bFirstPass, `${fixed(bFirstPass.load.rps / top)} of ceiling`, 'information (cache misses)', undefined, { peakRssMiB: undefined }),
    row(b, `${fixed(rb)} of ceiling`, `≥ ${TARGETS.b} of ceiling${rss}`, [
      { ok: rb >= TARGETS.b, failure: `${fixed(rb)} of the ceiling, target ≥ ${TARGETS.b}` },
      ...common(b),
    ]),
    {
      id: 'argon2-raw',
      scenario: `raw argon2id verify (m=${argon2.memoryCost}, t=${argon2.timeCost}, p=${argon2.parallelism}, ${hashConcurrency} in flight)`,
      rps: argonRate,
      p50: hashMs,
      p99: undefined,
      errors: undefined,
      peakRssMiB: undefined,
      ratio: `runs: ${raw.map((r) => fixed(r.perSecond, 1)).join(', ')}/s`,
      target: 'reference for (c)',
      pass: undefined,
      failures: [],
    },
    row(c, `${fixed(rc)} of raw argon2id`, `≥ ${TARGETS.c} of raw argon2id${rss}`, [
      { ok: rc >= TARGETS.c, failure: `${fixed(rc)} of the raw argon2id rate, target ≥ ${TARGETS.c}` },
      ...common(c),
    ]),
    row(d, `p99 ${fixed(dP99)}x, req/s ${fixed(dRps)}x of (a)`, `p99 ≤ ${TARGETS.dP99}x, req/s ≥ ${TARGETS.dRps}x of (a)${rss}`, [
      { ok: dP99 <= TARGETS.dP99, failure: `p99 ${fixed(dP99)}x the unloaded p99 of (a), target ≤ ${TARGETS.dP99}x` },
      { ok: dRps >= TARGETS.dRps, failure: `req/s ${fixed(dRps)}x those of (a), target ≥ ${TARGETS.dRps}x` },
      ...common(d),
    ]),
    row(
      flood,
      `${refused} refused; refusal p99 ${fixed(refusalP99)} ms`,
      `refusals p99 < 1 hash (${fixed(hashMs, 1)} ms); only 200/503/429`,
      [
        { ok: refused > 0, failure: 'no login was refused: the excess was queued (or the flood did not exceed capacity)' },
        { ok: refused === 0 || refusalP99 < hashMs, failure: `refusals p99 ${fixed(refusalP99)} ms, not under one hash (${fixed(hashMs, 1)} ms)` },
        { ok: unexpected === 0, failure: `${unexpected} answers other than 200, 503, 429 (or no answer)` },
      ],
      // Latency columns: of the refusals, which are what the target judges. Req/s: every answer.
      { rps: flood.load.responsesPerSecond, p50: refusalP50, p99: refusalP99, errors: unexpected },
    ),
  ];
}
