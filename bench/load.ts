/**
 * One load run with autocannon's programmatic API, measured here rather than by autocannon's
 * summary: autocannon's histogram has 1 ms resolution (too coarse for sub-millisecond p50s) and
 * keeps sending for up to one sample interval after `duration`. So every response's own
 * duration (float ms, from autocannon's hrtime) is kept per status code, and only responses that
 * arrive within the window count.
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  readonly title: string;
  /** Origin of the server, e.g. http://127.0.0.1:43123. */
  readonly url: string;
  readonly connections: number;
  /** Seconds: the measured window, and the run's length after `lead`. */
  readonly duration: number;
  /**
   * Seconds of load before the window, not measured: responses that arrive during it are
   * dropped. For a load that must be in its steady state when another starts being measured.
   */
  readonly lead?: number;
  /** The requests connection `i` sends, in a loop. Built once per connection, so the generator's cost per request is constant. */
  readonly requests: (connection: number) => autocannon.Request[];
  /** Requests per second from all connections together (open-ish loop); unset: as fast as answered. */
  readonly overallRate?: number;
  /** Each connection stops after this many requests; the run then ends when all have (or at `duration`). */
  readonly maxConnectionRequests?: number;
}

export interface LatencyStats {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadResult {
  readonly title: string;
  readonly seconds: number;
  /** 2xx responses per second. */
  readonly rps: number;
  /** All responses per second. */
  readonly responsesPerSecond: number;
  /** Latency of 2xx responses, ms. */
  readonly latency: LatencyStats;
  /** Count and latency per status code. */
  readonly byStatus: Readonly<Record<string, LatencyStats>>;
  /** Connection errors and timeouts (no response at all). */
  readonly socketErrors: number;
  /** Responses that were not 2xx. */
  readonly non2xx: number;
  /**
   * Requests still unanswered when the load stopped, and how long before the stop the oldest of
   * them was sent (ms; 0 when none): a request that hangs shows here, not as an error.
   */
  readonly unanswered: { readonly count: number; readonly oldestMs: number };
  /** Share of one core this (generator) process used during the run. */
  readonly generatorCpu: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function latencyStats(samples: number[]): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  return { count: list.length, p50: percentile(list, 50), p99: percentile(list, 99), max: list.at(-1) ?? Number.NaN };
}

/** Runs the load; resolves when autocannon has finished (bounded: it is stopped at duration + 15 s whatever happens). */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const byStatus = new Map<number, number[]>();
    let socketErrors = 0;
    let nextConnection = 0;
    // When each connection sent the request it awaits (one at a time: no pipelining); undefined when none.
    const awaiting: (number | undefined)[] = [];
    const leadMs = (spec.lead ?? 0) * 1000;
    const windowMs = spec.duration * 1000;
    // Set once autocannon() returns: it builds every connection's requests synchronously, and
    // sends nothing before its sockets connect, so the window starts with the first request.
    let cpuBefore = process.cpuUsage();
    let started = performance.now();
    let lastResponse = started;
    let guard: NodeJS.Timeout | undefined;
    // Responses and errors count by when they arrive, as a throughput does: a request sent before
    // `started` (autocannon writes each connection's first one while it sets up) still counts.
    const inWindow = () => {
      const elapsed = performance.now() - started;
      return elapsed >= leadMs && elapsed <= leadMs + windowMs;
    };

    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: (spec.lead ?? 0) + spec.duration,
        // The stop flag is checked every sample interval: keep the overrun after `duration` short.
        sampleInt: 100,
        timeout: 10,
        ...(spec.overallRate === undefined ? {} : { overallRate: Math.max(1, Math.round(spec.overallRate)) }),
        ...(spec.maxConnectionRequests === undefined ? {} : { maxConnectionRequests: spec.maxConnectionRequests }),
        setupClient: (client) => {
          const connection = nextConnection++;
          client.setRequests(spec.requests(connection));
          // Set up before the client's first request, so every request is seen; a timeout or a
          // broken connection drops what it awaited.
          // autocannon's types declare only 'response', but its client emits all four.
          const events = client as unknown as NodeJS.EventEmitter;
          events.on('request', () => (awaiting[connection] = performance.now()));
          for (const settled of ['response', 'timeout', 'connError']) events.on(settled, () => (awaiting[connection] = undefined));
        },
      },
      (err) => {
        clearTimeout(guard);
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const stoppedAt = performance.now();
        const wallMs = stoppedAt - started;
        const cpu = process.cpuUsage(cpuBefore);
        const pending = awaiting.filter((at): at is number => at !== undefined);
        const seconds =
          spec.maxConnectionRequests === undefined ? Math.max(0, Math.min(wallMs - leadMs, windowMs)) / 1000 : (lastResponse - started - leadMs) / 1000;
        const stats: Record<string, LatencyStats> = {};
        let ok: number[] = [];
        let total = 0;
        for (const [status, samples] of [...byStatus].sort(([a], [b]) => a - b)) {
          stats[String(status)] = latencyStats(samples);
          total += samples.length;
          if (status >= 200 && status < 300) ok = ok.concat(samples);
        }
        const latency = latencyStats(ok);
        resolve({
          title: spec.title,
          seconds,
          rps: latency.count / seconds,
          responsesPerSecond: total / seconds,
          latency,
          byStatus: stats,
          socketErrors,
          non2xx: total - latency.count,
          unanswered: { count: pending.length, oldestMs: pending.length === 0 ? 0 : stoppedAt - Math.min(...pending) },
          generatorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
        });
      },
    );
    cpuBefore = process.cpuUsage();
    started = performance.now();
    lastResponse = started;
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (!inWindow()) return;
      lastResponse = performance.now();
      let samples = byStatus.get(statusCode);
      if (!samples) byStatus.set(statusCode, (samples = []));
      samples.push(responseTime);
    });
    instance.on('reqError', () => {
      if (inWindow()) socketErrors += 1;
    });
    guard = setTimeout(() => instance.stop(), leadMs + windowMs + 15_000);
  });
}
