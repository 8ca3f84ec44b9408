/** Command-line options of `npm run bench` (`npm run bench -- --duration 3` for a quick run). */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds measured per scenario. */
  readonly duration: number;
  /** Seconds of unmeasured load before each measurement. */
  readonly warmup: number;
  /**
   * Seconds of unmeasured load before the login scenarios (c) and (d): at ~100 logins/s, 2 s is
   * ~200 logins, too few for V8 to have optimized the login path (docs/performance.md).
   */
  readonly loginWarmup: number;
  /** Connections of the throughput scenarios (ceiling, a, b, and (a)'s load in d). */
  readonly connections: number;
  /** Connections of the login scenario (c); kept below the server's hash queue so none is refused. */
  readonly loginConnections: number;
  /** Rate of the flood in (d), as a multiple of the login throughput measured in (c). */
  readonly floodFactor: number;
  /** Users created for (b) and (c), and distinct tokens for (b). */
  readonly users: number;
  readonly tokens: number;
  /** Pin load generator and servers to separate cores (when there are two). */
  readonly pin: boolean;
  /** Where latest.json and latest.md go. */
  readonly outDir: string;
}

const USAGE = `usage: npm run bench -- [--duration S] [--warmup S] [--login-warmup S] [--connections N] [--login-connections N]
                        [--flood-factor X] [--users N] [--tokens N] [--no-pin] [--out DIR]`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      'login-warmup': { type: 'string', default: '15' },
      connections: { type: 'string', default: '16' },
      'login-connections': { type: 'string', default: '8' },
      'flood-factor': { type: 'string', default: '2' },
      users: { type: 'string', default: '1000' },
      tokens: { type: 'string', default: '10000' },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const num = (name: string, raw: string, min: number, max: number, integer = false): number => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}\n${USAGE}`);
    }
    return value;
  };
  const users = num('users', values.users, 1, 100_000, true);
  const tokens = num('tokens', values.tokens, users, 1_000_000, true);
  return {
    duration: num('duration', values.duration, 1, 60),
    warmup: num('warmup', values.warmup, 0, 30),
    loginWarmup: num('login-warmup', values['login-warmup'], 0, 60),
    connections: num('connections', values.connections, 1, 1000, true),
    loginConnections: num('login-connections', values['login-connections'], 1, 1000, true),
    floodFactor: num('flood-factor', values['flood-factor'], 1, 100),
    users,
    tokens,
    pin: !values['no-pin'],
    outDir: values.out,
  };
}
