import { createHash, timingSafeEqual } from 'node:crypto';
import type { PasswordGrantPolicy } from '../config.js';
import { InvalidClient, UnauthorizedClient } from '../errors.js';
import type { ClientRecord, Store } from '../store/store.js';

/** Client credentials as presented, before any check against the registry. */
export interface PresentedClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/** A client whose identity has been checked. */
export interface Client {
  readonly id: string;
  /** True when it proved a secret (a confidential client, RFC 6749 §2.1). */
  readonly confidential: boolean;
  readonly grantTypes: readonly string[];
  /** Scopes it may obtain; `undefined` means any known scope. */
  readonly scopes: readonly string[] | undefined;
}

/** The grant types Gatehouse implements. */
export const GRANT_TYPES = ['password', 'refresh_token'] as const;

/**
 * The built-in public client: the docs page and any caller that names no client (curl, scripts).
 * It has no secret; it is the `client_id` of tokens issued without client authentication.
 */
export const BUILT_IN_CLIENT: Client = Object.freeze({
  id: 'gatehouse',
  confidential: false,
  grantTypes: GRANT_TYPES,
  scopes: undefined,
});

/** The stored form of a client secret: generated secrets carry 256 bits, so SHA-256 suffices. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

// Compared against when a client is unknown, so the answer takes as long as for a known one.
const UNKNOWN_CLIENT_HASH = hashClientSecret('unknown client');

/**
 * Decides which client a request is made by (RFC 6749 §2.3). No credentials means the built-in
 * public client; a confidential client must prove its secret; secrets compare in constant time.
 */
export class ClientAuthenticator {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async authenticate(presented: PresentedClient | undefined): Promise<Client> {
    if (presented === undefined) return BUILT_IN_CLIENT;
    const secret = presented.clientSecret === '' ? undefined : presented.clientSecret;
    if (presented.clientId === BUILT_IN_CLIENT.id) {
      if (secret !== undefined) throw new InvalidClient('a secret was presented for a public client');
      return BUILT_IN_CLIENT;
    }
    const record = await this.#store.findClient(presented.clientId);
    if (!record) {
      secretMatches(UNKNOWN_CLIENT_HASH, secret ?? '');
      throw new InvalidClient('unknown client');
    }
    if (record.secretHash === null) {
      if (secret !== undefined) throw new InvalidClient('a secret was presented for a public client');
      return toClient(record, false);
    }
    if (secret === undefined || !secretMatches(record.secretHash, secret)) throw new InvalidClient('wrong client secret');
    return toClient(record, true);
  }
}

/** RFC 6749 §5.2 unauthorized_client: the client, or the server's policy, does not allow this grant. */
export function assertGrantAllowed(client: Client, grantType: string, passwordGrant: PasswordGrantPolicy): void {
  if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClient(grantType);
  if (grantType === 'password' && passwordGrant !== 'all') {
    if (passwordGrant === 'off' || !passwordGrant.includes(client.id)) throw new UnauthorizedClient(grantType);
  }
}

/** Narrows `scopes` to what the client may obtain. */
export function clientScopes(client: Client, scopes: readonly string[]): string[] {
  return client.scopes === undefined ? [...scopes] : scopes.filter((s) => client.scopes!.includes(s));
}

function secretMatches(expectedHash: string, secret: string): boolean {
  const expected = Buffer.from(expectedHash);
  const actual = Buffer.from(hashClientSecret(secret));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function toClient(record: ClientRecord, confidential: boolean): Client {
  return { id: record.id, confidential, grantTypes: record.grantTypes, scopes: record.scopes };
}
