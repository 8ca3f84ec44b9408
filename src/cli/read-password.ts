import type { Readable } from 'node:stream';
import { CliFailure } from './cli-errors.js';
import { promptHidden, type HiddenInput } from './prompt-hidden.js';
import { readFirstLine } from './read-first-line.js';

/** Standard input as the password readers see it: a TTY can switch to raw mode. */
export type PasswordInput = Readable & { readonly isTTY?: boolean } & Partial<Pick<HiddenInput, 'setRawMode' | 'isRaw'>>;

/**
 * Reads a new password: on a terminal, asked twice without echo (refused when the two differ);
 * otherwise the first line of `input`. Prompts go to `prompts` (stderr) so stdout stays parseable.
 */
export async function readNewPassword(
  input: PasswordInput = process.stdin,
  prompts: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  if (input.isTTY !== true || typeof input.setRawMode !== 'function') return readFirstLine(input);
  const [first, second] = await promptHidden(['Password: ', 'Repeat password: '], input as unknown as HiddenInput, prompts);
  if (first !== second) throw new CliFailure('the passwords do not match');
  return first!;
}
