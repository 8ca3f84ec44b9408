import { DEFAULT_SCOPES } from '../auth/scopes.js';

// What `users add` grants without --scopes, as the registry says.
const DEFAULT_USER_SCOPES = DEFAULT_SCOPES.filter((scope) => !scope.privileged).map((scope) => scope.name).join(' ');
const KNOWN_SCOPES = DEFAULT_SCOPES.map((scope) => scope.name).join(', ');

const CONFIG_NOTE = `Configuration comes from the environment only; DATABASE_URL picks the database
(a SQLite file path, default ./data/gatehouse.db, or a postgres:// URL).`;

const PASSWORD_NOTE = `The password is never taken from the command line. On a terminal it is asked twice
without echo; otherwise the first line of standard input is the password.`;

const USAGES = {
  main: `Usage: gatehouse <command> [options]

Commands:
  serve [--demo]                 Run the HTTP server
  migrate                        Bring the database schema up to date
  users add <username> [...]     Create a user
  users list [--json]            List users
  users disable <username>       Refuse a user's logins
  users enable <username>        Allow a disabled user's logins again
  users passwd <username>        Set a user's password
  users scopes <username> [...]  Set a user's scopes
  clients add <id> [...]         Register an OAuth client
  clients list [--json]          List registered clients
  clients remove <id>            Remove a client and end its sessions
  keys rotate                    Make a new signing key current
  keys list [--json]             List signing keys

Run "gatehouse <command> --help" for a command's options, "gatehouse --version" for the version.

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
  scopes <username> <scope>... | --none

Run "gatehouse users <subcommand> --help" for details.
`,
  'users add': `Usage: gatehouse users add <username> [options] < password-file

Creates a user.

Options:
  --email E           The user's email address
  --full-name NAME    The user's full name
  --scopes "S1 S2"    Space-separated scopes the user may be granted (default: every
                      non-privileged scope, "${DEFAULT_USER_SCOPES}"; --scopes "" for none)
  --disabled          Create the user disabled
  -h, --help          Show this help

${PASSWORD_NOTE}
Passwords must be 12 to 128 characters, differ from the username and not be a commonly breached password.
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
  'users scopes': `Usage: gatehouse users scopes <username> <scope>...
       gatehouse users scopes <username> --none

Replaces the scopes a user may be granted (known scopes: ${KNOWN_SCOPES}). Scopes may also be
given as one quoted argument: "me items". It takes effect at once: tokens already issued lose the
scopes removed; scopes added come with the user's next login.

Options:
  --none       Remove every scope (the user can then reach no protected route)
  -h, --help   Show this help
`,
  'users passwd': `Usage: gatehouse users passwd <username> < password-file

Replaces a user's password.

${PASSWORD_NOTE}
Passwords must be 12 to 128 characters, differ from the username and not be a commonly breached password.
`,
  clients: `Usage: gatehouse clients <subcommand> [options]

Subcommands:
  add <id> [--name NAME] [--public] [--grants "password refresh_token"] [--scopes "me items"]
  list [--json]
  remove <id>

Run "gatehouse clients <subcommand> --help" for details.
`,
  'clients add': `Usage: gatehouse clients add <id> [options]

Registers an OAuth client. A confidential client (the default) gets a secret, printed once
as "client_secret: ..." and stored only as a hash: it cannot be shown again.

Options:
  --name NAME         A name for operators (default: the id)
  --public            A public client, with no secret (apps that cannot keep one)
  --grants "G1 G2"    Space-separated grant types: password, refresh_token (default: both)
  --scopes "S1 S2"    Space-separated scopes it may obtain (default: every non-privileged scope)
  -h, --help          Show this help

Ids are 1 to 64 characters: letters, digits and . _ -, starting with a letter or digit.
"gatehouse" is the built-in public client, used by requests that name no client.
`,
  'clients list': `Usage: gatehouse clients list [--json]

Lists the registered clients: id, name, type (public or confidential), grant types and scopes.
Secrets are never shown. The built-in client "gatehouse" is not stored, so not listed.

Options:
  --json       Print a JSON array of {id, name, type, grant_types, scopes, created_at}
  -h, --help   Show this help
`,
  'clients remove': `Usage: gatehouse clients remove <id>

Removes a client. Its sessions end at once: its access and refresh tokens stop working.
`,
  migrate: `Usage: gatehouse migrate

Applies pending schema migrations to the database DATABASE_URL names, printing
"applied <migration>" for each, or "database schema already up to date". A SQLite file
migrates itself when the server starts; PostgreSQL, shared by several instances, changes only
through this command, and "serve" refuses to start against an unmigrated or newer schema.

Options:
  -h, --help   Show this help

${CONFIG_NOTE}
`,
  keys: `Usage: gatehouse keys <subcommand> [options]

Subcommands:
  rotate
  list [--json]

Run "gatehouse keys <subcommand> --help" for details.
`,
  'keys rotate': `Usage: gatehouse keys rotate

Makes a new key of the algorithm GATEHOUSE_SIGNING_ALG names (default ES256) current and
retires the others. Running servers switch to it within 30 s, whatever their own
GATEHOUSE_SIGNING_ALG: they sign with the current key. Tokens signed with a retired key keep
verifying until they expire. Refused when GATEHOUSE_HS256_SECRET is set: rotate by changing
the secret.
`,
  'keys list': `Usage: gatehouse keys list [--json]

Lists the stored signing keys: kid, algorithm, creation time and status (current, retired
and verifying until a given time, or retired and expired). Private keys are never shown.

Options:
  --json       Print a JSON array of {kid, alg, created_at, retired_at, verifies_until, status}
  -h, --help   Show this help
`,
} as const;

/** A command that has a usage text. */
export type UsageTopic = keyof typeof USAGES;

/** Writes the usage of `topic` to stdout and returns exit status 0: asking for help is not an error. */
export function printUsage(topic: UsageTopic): number {
  process.stdout.write(USAGES[topic]);
  return 0;
}
