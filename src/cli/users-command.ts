import { UserExists } from '../errors.js';
import { CliFailure, UsageError } from './cli-errors.js';
import { noPositionals, onlyUsername, parseCommandArgs } from './parse-command-args.js';
import { readNewPassword } from './read-password.js';
import { printUsage } from './usage.js';
import { formatUsersJson, formatUsersTable } from './user-table.js';
import { withServices } from './with-services.js';

const NOT_AN_ARGUMENT = ' (the password is read from a prompt or standard input, never from arguments)';

/** `gatehouse users <subcommand> ...`: user administration. Returns the exit status. */
export async function usersCommand(args: readonly string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case '-h':
    case '--help':
      return printUsage('users');
    case 'add':
      return addUser(rest);
    case 'list':
      return listUsers(rest);
    case 'disable':
      return setDisabled(rest, true);
    case 'enable':
      return setDisabled(rest, false);
    case 'passwd':
      return changePassword(rest);
    case 'scopes':
      return setScopes(rest);
    case undefined:
      throw new UsageError('users: missing subcommand', 'users');
    default:
      throw new UsageError(`users: unknown subcommand ${JSON.stringify(subcommand)}`, 'users');
  }
}

async function addUser(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('users add', args, {
    email: { type: 'string' },
    'full-name': { type: 'string' },
    scopes: { type: 'string' },
    disabled: { type: 'boolean' },
  });
  if (help) return printUsage('users add');
  const username = onlyUsername('users add', positionals, NOT_AN_ARGUMENT);
  return withServices(async ({ users, scopes, audit }) => {
    // Checked before asking, so nobody types a password twice for a name that is taken.
    if (await users.find(username)) throw new UserExists(username);
    const password = await readNewPassword();
    await users.create(
      {
        username,
        password,
        email: optionalString(values.email),
        fullName: optionalString(values['full-name']),
        // Without --scopes the service's default applies (every non-privileged scope); `--scopes ""`
        // still makes a user without any.
        ...(typeof values.scopes === 'string' ? { scopes: scopeList([values.scopes]) } : {}),
        disabled: values.disabled === true,
      },
      { audit: audit.record },
    );
    say(`created user ${username}`);
    return 0;
  });
}

async function listUsers(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('users list', args, { json: { type: 'boolean' } });
  if (help) return printUsage('users list');
  noPositionals('users list', positionals);
  return withServices(async ({ users }) => {
    const all = await users.list();
    process.stdout.write(values.json === true ? formatUsersJson(all) : formatUsersTable(all));
    return 0;
  });
}

async function setDisabled(args: readonly string[], disabled: boolean): Promise<number> {
  const command = disabled ? 'users disable' : 'users enable';
  const { positionals, help } = parseCommandArgs(command, args, {});
  if (help) return printUsage(command);
  const username = onlyUsername(command, positionals);
  return withServices(async ({ users, audit }) => {
    if (!(await users.setDisabled(username, disabled, audit.record))) throw noSuchUser(username);
    say(`${disabled ? 'disabled' : 'enabled'} user ${username}`);
    return 0;
  });
}

async function changePassword(args: readonly string[]): Promise<number> {
  const { positionals, help } = parseCommandArgs('users passwd', args, {});
  if (help) return printUsage('users passwd');
  const username = onlyUsername('users passwd', positionals, NOT_AN_ARGUMENT);
  return withServices(async ({ users, audit }) => {
    if (!(await users.find(username))) throw noSuchUser(username);
    const password = await readNewPassword();
    // The user may have been deleted while the password was being typed.
    if (!(await users.setPassword(username, password, undefined, audit.record))) throw noSuchUser(username);
    say(`changed password of user ${username}`);
    return 0;
  });
}

async function setScopes(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('users scopes', args, { none: { type: 'boolean' } });
  if (help) return printUsage('users scopes');
  const [username, ...rest] = positionals;
  if (username === undefined || username === '') throw new UsageError('users scopes: missing <username>', 'users scopes');
  const wanted = scopeList(rest);
  if (values.none === true && wanted.length > 0) throw new UsageError('users scopes: give scopes or --none, not both', 'users scopes');
  // Removing every scope is rare and locks the user out of every route: it must be asked for.
  if (values.none !== true && wanted.length === 0) throw new UsageError('users scopes: missing <scope> (or --none to remove them all)', 'users scopes');
  return withServices(async ({ users, audit }) => {
    // Unknown scopes are refused by the registry, before anything changes.
    if (!(await users.setScopes(username, wanted, audit.record))) throw noSuchUser(username);
    say(wanted.length === 0 ? `removed every scope of user ${username}` : `set scopes of user ${username}: ${[...new Set(wanted)].join(' ')}`);
    return 0;
  });
}

/** Scopes given as arguments, each of which may hold several separated by spaces ("me items"). */
function scopeList(args: readonly string[]): string[] {
  return args.flatMap((arg) => arg.split(' ')).filter((scope) => scope !== '');
}

function optionalString(value: string | boolean | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function noSuchUser(username: string): CliFailure {
  return new CliFailure(`no user named ${JSON.stringify(username)}`);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
