const CONFIG_NOTE = `Configuration comes from the environment only; DATABASE_URL picks the database
(a SQLite file path, default ./data/gatehouse.db, or a postgres:// URL).`;

const PASSWORD_NOTE = `The password is never taken from the command line. On a terminal it is asked twice
without echo; otherwise the first line of standard input is the password.`;

const USAGES = {
  main: `Usage: gatehouse <command> [options]

Commands:
  serve [--demo]                 Run the HTTP server
  users add <username> [...]     Create a user
  users list [--json]            List users
  users disable <username>       Refuse a user's logins
  users enable <username>        Allow a disabled user's logins again
  users passwd <username>        Set a user's password

Run "gatehouse <command> --help" for a command's options.

${CONFIG_NOTE}
`,
  serve: `Usage: gatehouse serve [--demo]

Runs the HTTP server on HOST:PORT until SIGTERM or SIGINT.

Options:
  --demo       Seed the tutorial's demo users (ignored when NODE_ENV=production)
  -h, --help   Show this help

${CONFIG_NOTE}
`,
  users: `Usage: gatehouse users <subcommand> [options]

Subcommands:
  add <username> [--email E] [--full-name NAME] [--scopes "me items"] [--disabled]
  list [--json]
  disable <username>
  enable <username>
  passwd <username>

Run "gatehouse users <subcommand> --help" for details.
`,
  'users add': `Usage: gatehouse users add <username> [options] < password-file

Creates a user.

Options:
  --email E           The user's email address
  --full-name NAME    The user's full name
  --scopes "S1 S2"    Space-separated scopes the user may be granted (default: none)
  --disabled          Create the user disabled
  -h, --help          Show this help

${PASSWORD_NOTE}
Passwords must be 12 to 128 characters and differ from the username.
`,
  'users list': `Usage: gatehouse users list [--json]

Lists every user: username, disabled, scopes, email and full name.

Options:
  --json       Print a JSON array of {username, email, full_name, disabled, scopes}
  -h, --help   Show this help
`,
  'users disable': `Usage: gatehouse users disable <username>

Disables a user: logging in answers "Inactive user", and the user's tokens stop working.
`,
  'users enable': `Usage: gatehouse users enable <username>

Enables a disabled user again.
`,
  'users passwd': `Usage: gatehouse users passwd <username> < password-file

Replaces a user's password.

${PASSWORD_NOTE}
Passwords must be 12 to 128 characters and differ from the username.
`,
} as const;

/** A command that has a usage text. */
export type UsageTopic = keyof typeof USAGES;

/** Writes the usage of `topic` to stdout and returns exit status 0: asking for help is not an error. */
export function printUsage(topic: UsageTopic): number {
  process.stdout.write(USAGES[topic]);
  return 0;
}
