import type { UserRecord } from '../store/store.js';

/** A user as `users list --json` prints it: the public fields only, never the password hash. */
export interface ListedUser {
  readonly username: string;
  readonly email: string | null;
  readonly full_name: string | null;
  readonly disabled: boolean;
  readonly scopes: readonly string[];
}

/** The public fields of `user`, named as the HTTP API names them. */
export function toListedUser(user: UserRecord): ListedUser {
  return {
    username: user.username,
    email: user.email,
    full_name: user.fullName,
    disabled: user.disabled,
    scopes: [...user.scopes],
  };
}

/** `users` as a JSON array, one field per line, ending with a newline. */
export function formatUsersJson(users: readonly UserRecord[]): string {
  return `${JSON.stringify(users.map(toListedUser), null, 2)}\n`;
}

const HEADER = ['USERNAME', 'DISABLED', 'SCOPES', 'EMAIL', 'FULL NAME'] as const;

/** `users` as an aligned text table with a header row; absent values show as `-`. */
export function formatUsersTable(users: readonly UserRecord[]): string {
  const rows = [
    [...HEADER],
    ...users.map((u) => [u.username, u.disabled ? 'yes' : 'no', u.scopes.join(' '), u.email ?? '', u.fullName ?? ''].map(cell)),
  ];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows
    .map((row) => row.map((value, column) => value.padEnd(widths[column]! + value.length - [...value].length)).join('  ').trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}

// Full names are free text: control characters could move the cursor or restyle the admin's
// terminal, so they are shown as U+FFFD.
function cell(value: string): string {
  return value === '' ? '-' : value.replace(/\p{Cc}/gu, '\uFFFD');
}
