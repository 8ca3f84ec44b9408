import { CliFailure, PromptAborted } from './cli-errors.js';

/** A terminal input: process.stdin when it is a TTY, or a stand-in in tests. */
export interface HiddenInput extends NodeJS.ReadableStream {
  readonly isRaw?: boolean;
  setRawMode(mode: boolean): unknown;
}

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_U = '\x15';
const BACKSPACE = new Set(['\x7f', '\b']);
const ESC = '\x1b';

/**
 * Asks each of `prompts` in turn on `output` and reads one answer per prompt from `input` in raw
 * mode, echoing nothing. Enter ends an answer, Backspace deletes a character, Ctrl-U the whole
 * answer; Ctrl-C rejects with PromptAborted, Ctrl-D (end of input) with a CliFailure. The terminal
 * mode is restored in every case.
 */
export function promptHidden(prompts: readonly string[], input: HiddenInput, output: NodeJS.WritableStream): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const answers: string[] = [];
    // Code points, so Backspace removes a whole character, not half a surrogate pair.
    let typed: string[] = [];
    // Terminal escape sequences (arrow keys, function keys) are skipped, not typed.
    let escape: 'none' | 'start' | 'sequence' = 'none';
    const wasRaw = input.isRaw === true;

    const stop = (): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.setRawMode(wasRaw);
      // Pausing stops reading, so the event loop can end once the command is done.
      input.pause();
    };
    const endAnswer = (): boolean => {
      answers.push(typed.join(''));
      typed = [];
      output.write('\n');
      const next = prompts[answers.length];
      if (next === undefined) {
        stop();
        resolve(answers);
        return true;
      }
      output.write(next);
      return false;
    };
    const fail = (error: Error): void => {
      stop();
      output.write('\n');
      reject(error);
    };
    const onEnd = (): void => fail(new CliFailure('standard input closed before a password was entered'));
    const onData = (chunk: string | Buffer): void => {
      // Typed-ahead answers can arrive in one chunk, so one chunk may end several prompts.
      for (const char of String(chunk)) {
        if (escape === 'start') {
          escape = char === '[' || char === 'O' ? 'sequence' : 'none';
          continue;
        }
        if (escape === 'sequence') {
          if (char >= '@' && char <= '~') escape = 'none';
          continue;
        }
        if (char === CTRL_C) {
          fail(new PromptAborted());
          return;
        }
        // Ctrl-D is end of input, as everywhere in a terminal: the user is giving up, and taking
        // it for Enter would submit a half-typed (or empty) password.
        if (char === CTRL_D) {
          fail(new CliFailure('end of input (Ctrl-D) at the password prompt; nothing was changed'));
          return;
        }
        if (ENTER.has(char)) {
          if (endAnswer()) return;
        } else if (BACKSPACE.has(char)) {
          typed.pop();
        } else if (char === CTRL_U) {
          typed = [];
        } else if (char === ESC) {
          escape = 'start';
        } else if (char >= ' ') {
          typed.push(char);
        }
      }
    };

    if (prompts.length === 0) {
      resolve([]);
      return;
    }
    input.setEncoding('utf8');
    input.setRawMode(true);
    input.on('data', onData);
    input.on('end', onEnd);
    output.write(prompts[0]!);
    input.resume();
  });
}
