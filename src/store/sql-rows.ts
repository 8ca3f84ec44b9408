import type { Selectable } from 'kysely';
import type { ClientRecord, LoginFailures, SessionRecord, UserRecord } from './store.js';

/* The tables as Kysely sees them (migrations.ts creates them), and their rows as the store's records. */
export interface UsersTable {
  id: string;
  username: string;
  email: string | null;
  full_name: string | null;
  disabled: number;
  password_hash: string;
  scopes: string;
  created_at: number | string;
  updated_at: number | string;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number | string;
  refreshed_at: number | string;
  revoked_at: number | string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: number | string;
  rotated_at: number | string | null;
}

export interface ClientsTable {
  id: string;
  name: string;
  secret_hash: string | null;
  grant_types: string;
  scopes: string;
  created_at: number | string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number | string;
  retired_at: number | string | null;
}

export interface LoginThrottleTable {
  key: string;
  consecutive_failures: number;
  last_failure_at: number | string;
  window_start: number | string;
  window_failures: number;
}

/** Kysely's view of the schema that migrations.ts creates. */
export interface Database {
  login_throttle: LoginThrottleTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
}

export type SessionWithUser = { readonly session: SessionRecord; readonly user: UserRecord };

export function toSessionWithUser(row: SessionWithUserRow | undefined): SessionWithUser | undefined {
  return row && { session: toSession(row), user: toUser(row) };
}

export type SessionWithUserRow = Selectable<UsersTable> & {
  s_id: string;
  s_user_id: string;
  s_client_id: string;
  s_scope: string;
  s_created_at: number | string;
  s_refreshed_at: number | string;
  s_revoked_at: number | string | null;
};

export function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

export function toSession(row: {
  s_id: string;
  s_user_id: string;
  s_client_id: string;
  s_scope: string;
  s_created_at: number | string;
  s_refreshed_at: number | string;
  s_revoked_at: number | string | null;
}): SessionRecord {
  return {
    id: row.s_id,
    userId: row.s_user_id,
    clientId: row.s_client_id,
    scope: row.s_scope,
    createdAt: Number(row.s_created_at),
    refreshedAt: Number(row.s_refreshed_at),
    revokedAt: nullableNumber(row.s_revoked_at),
  };
}

export function toLoginFailures(row: Selectable<LoginThrottleTable>): LoginFailures {
  return {
    consecutiveFailures: Number(row.consecutive_failures),
    lastFailureAt: Number(row.last_failure_at),
    windowStart: Number(row.window_start),
    windowFailures: Number(row.window_failures),
  };
}

export function toClient(row: Selectable<ClientsTable>): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    grantTypes: splitList(row.grant_types),
    scopes: splitList(row.scopes),
    createdAt: Number(row.created_at),
  };
}

export function splitList(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}

export function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    disabled: Number(row.disabled) !== 0,
    passwordHash: row.password_hash,
    scopes: splitList(row.scopes),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
