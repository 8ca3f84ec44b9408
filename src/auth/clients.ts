import { InvalidClient } from '../errors.js';

/** Client credentials as presented, before any check against the registry. */
export interface PresentedClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/**
 * The built-in public client: the docs page and any caller that names no client (curl, scripts).
 * It has no secret; it is the `client_id` of tokens issued without client authentication.
 */
export const BUILT_IN_CLIENT_ID = 'gatehouse';

/**
 * Decides which client a token request is made by. Until clients can be registered, the only
 * known client is the built-in public one: any other id, or a secret for it, is invalid_client.
 */
export function resolveClient(presented: PresentedClient | undefined): string {
  if (presented === undefined) return BUILT_IN_CLIENT_ID;
  if (presented.clientId !== BUILT_IN_CLIENT_ID) throw new InvalidClient('unknown client');
  if (presented.clientSecret !== undefined && presented.clientSecret !== '') {
    throw new InvalidClient('a secret was presented for a public client');
  }
  return BUILT_IN_CLIENT_ID;
}
