/** Bad command-line input; exit status 2, as POSIX utilities report usage errors. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** The command whose `--help` the error line points to, e.g. `users add`; empty for the program. */
  readonly helpFor: string;

  constructor(message: string, helpFor: string) {
    super(message);
    this.helpFor = helpFor;
  }
}

/** A well-formed command that could not be carried out (unknown user, mismatched passwords); exit 1. */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

/** Ctrl-C at a password prompt; exit 130, the status a shell gives a process killed by SIGINT. */
export class PromptAborted extends Error {
  override name = 'PromptAborted';
  constructor() {
    super('aborted');
  }
}
