import { hostname, userInfo } from 'node:os';
import type { Audit } from '../auth/audit.js';

/** Levels at which the server's info-level audit lines are dropped; the CLI follows LOG_LEVEL alike. */
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

/**
 * The CLI's audit sink: one JSON line per event on stderr, shaped like the server's log lines
 * (level, time, pid, hostname, msg), with `origin: "cli"` and the operating-system user as
 * `actor`, so a change made at a shell is as traceable as one made through the admin API.
 * Stdout stays what the command prints for people and scripts.
 */
export function cliAudit(logLevel: string, write: (line: string) => void = (line) => process.stderr.write(line)): Audit {
  if (QUIET_LEVELS.has(logLevel)) return () => {};
  const base = { pid: process.pid, hostname: hostname(), origin: 'cli', actor: operatingSystemUser() };
  return (event, fields) => write(`${JSON.stringify({ level: 30, time: Date.now(), ...base, audit: event, ...fields, msg: event })}\n`);
}

function operatingSystemUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid (common in containers): the uid still says who.
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
