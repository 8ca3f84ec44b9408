import { PromptAborted, UsageError } from './cli-errors.js';

/**
 * Writes `err` to stderr as one `gatehouse: <message>` line, never a stack trace, and returns
 * the exit status: 2 for usage errors, 130 for Ctrl-C at a prompt, 1 for everything else.
 */
export function reportError(err: unknown): number {
  // The prompt already ended its line; the user pressed Ctrl-C and needs no message.
  if (err instanceof PromptAborted) return 130;
  if (err instanceof UsageError) {
    writeLine(`${err.message} (see "${['gatehouse', err.helpFor, '--help'].filter(Boolean).join(' ')}")`);
    return 2;
  }
  // ConfigError, PolicyViolation, UserExists and CliFailure carry messages written for the
  // operator. Other errors are unexpected, but their message still beats a stack trace. No
  // instanceof checks on those classes: importing config.ts would slow down every `--help`.
  writeLine(err instanceof Error ? err.message : String(err));
  return 1;
}

function writeLine(message: string): void {
  // One line whatever the message holds: validation errors can span lines, and control
  // characters from input must not reach the terminal.
  const line = message.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim() || 'failed';
  process.stderr.write(`gatehouse: ${line}\n`);
}
