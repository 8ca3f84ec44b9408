import { parseArgs } from 'node:util';
import { UsageError } from './cli-errors.js';
import type { UsageTopic } from './usage.js';

/** One option a command accepts. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** What a command's arguments parsed into; `help` is true when `-h`/`--help` was given. */
export interface ParsedCommand {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/**
 * Parses `args` against `options` (plus `-h/--help`), refusing unknown, repeated or malformed
 * options with a UsageError.
 */
export function parseCommandArgs(command: UsageTopic, args: readonly string[], options: Record<string, OptionSpec>): ParsedCommand {
  const all: Record<string, OptionSpec> = { ...options, help: { type: 'boolean', short: 'h' } };
  // Non-strict mode with tokens, so the checks below write the messages: strict mode's errors
  // are long, and for `--password=...` the message must name the option, never echo its value.
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    options: all,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(all, token.name) ? all[token.name] : undefined;
    if (spec === undefined) throw new UsageError(`${command}: unknown option ${token.rawName}`, command);
    if (seen.has(token.name)) throw new UsageError(`${command}: option --${token.name} given more than once`, command);
    seen.add(token.name);
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${command}: option --${token.name} takes no value`, command);
    }
    // Like strict mode: `--email --disabled` is a forgotten value, not an email of "--disabled".
    if (spec.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))) {
      throw new UsageError(`${command}: option --${token.name} needs a value`, command);
    }
  }
  return { values, positionals, help: values.help === true };
}

/** The single `<username>` argument of a command; `hint` explains why extra arguments are refused. */
export function onlyUsername(command: UsageTopic, positionals: readonly string[], hint = ''): string {
  const [username, ...extra] = positionals;
  if (username === undefined || username === '') throw new UsageError(`${command}: missing <username>`, command);
  // Extra arguments are not echoed: a misplaced password would end up on screen and in logs.
  if (extra.length > 0) throw new UsageError(`${command}: takes one <username>, got ${positionals.length} arguments${hint}`, command);
  return username;
}

/** Refuses any positional argument, for commands that take none. */
export function noPositionals(command: UsageTopic, positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`${command}: takes no arguments, got ${positionals.length}`, command);
}
