import { randomBytes } from 'node:crypto';
import { PolicyViolation } from '../errors.js';
import type { ClientRecord, Store } from '../store/store.js';
import { noAudit, type Audit } from './audit.js';
import { BUILT_IN_CLIENT, GRANT_TYPES, hashClientSecret } from './clients.js';
import type { Clock } from './clock.js';
import type { ScopeRegistry } from './scopes.js';
import { hasControlCharacter } from './unicode-text.js';

export interface CreateClientInput {
  readonly id: string;
  /** Shown to operators; defaults to the id. */
  readonly name?: string;
  /** True for a client that can keep a secret (RFC 6749 §2.1). */
  readonly confidential: boolean;
  /** Defaults to every grant type Gatehouse implements. */
  readonly grantTypes?: readonly string[];
  /** Defaults to the registry's non-privileged scopes: privileged ones must be asked for by name. */
  readonly scopes?: readonly string[];
}

/** A newly registered client and, for a confidential one, its secret: the only time it exists. */
export interface CreatedClient {
  readonly client: ClientRecord;
  readonly secret: string | undefined;
}

// Client ids travel in HTTP Basic (no colon allowed), forms, tokens and logs.
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_MAX_LENGTH = 200;
// 256 bits: enough that one fast SHA-256 is a safe stored form (see hashClientSecret).
const SECRET_BYTES = 32;

/** Client registration shared by the CLI and any future admin API; no HTTP here. */
export class ClientService {
  readonly #store: Store;
  readonly #scopes: ScopeRegistry;
  readonly #clock: Clock;

  constructor(store: Store, scopes: ScopeRegistry, clock: Clock) {
    this.#store = store;
    this.#scopes = scopes;
    this.#clock = clock;
  }

  /** Registers a client after checking every field; throws PolicyViolation, or ClientExists from the store. */
  async create(input: CreateClientInput, audit: Audit = noAudit): Promise<CreatedClient> {
    if (!CLIENT_ID.test(input.id)) {
      throw new PolicyViolation('client id must be 1 to 64 characters: letters, digits and . _ -, starting with a letter or digit');
    }
    if (input.id === BUILT_IN_CLIENT.id) throw new PolicyViolation(`client id "${BUILT_IN_CLIENT.id}" is the built-in client`);
    const name = input.name ?? input.id;
    if (name.length > NAME_MAX_LENGTH) throw new PolicyViolation(`client name is longer than ${NAME_MAX_LENGTH} characters`);
    if (hasControlCharacter(name)) throw new PolicyViolation('client name must not contain control characters');
    const secret = input.confidential ? randomBytes(SECRET_BYTES).toString('base64url') : undefined;
    const client: ClientRecord = {
      id: input.id,
      name,
      secretHash: secret === undefined ? null : hashClientSecret(secret),
      grantTypes: this.#grantTypes(input.grantTypes),
      scopes: this.#clientScopes(input.scopes),
      createdAt: this.#clock.now(),
    };
    await this.#store.createClient(client);
    audit('client.create', { client: client.id, scopes: client.scopes.join(' ') });
    return { client, secret };
  }

  /** Every registered client, by id; the built-in client is not stored, so not listed. */
  list(): Promise<ClientRecord[]> {
    return this.#store.listClients();
  }

  /** Removes a client and ends every session issued to it; false when no such client exists. */
  async remove(id: string, audit: Audit = noAudit): Promise<boolean> {
    if (id === BUILT_IN_CLIENT.id) throw new PolicyViolation(`"${BUILT_IN_CLIENT.id}" is the built-in client and cannot be removed`);
    const removed = await this.#store.deleteClient(id, this.#clock.now());
    if (removed) audit('client.remove', { client: id });
    return removed;
  }

  #grantTypes(requested: readonly string[] | undefined): string[] {
    if (requested === undefined) return [...GRANT_TYPES];
    for (const grant of requested) {
      if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
        throw new PolicyViolation(`unknown grant type: ${grant} (known: ${GRANT_TYPES.join(' ')})`);
      }
    }
    // A client that may use no grant could never obtain a token.
    if (requested.length === 0) throw new PolicyViolation('a client needs at least one grant type');
    return GRANT_TYPES.filter((g) => requested.includes(g));
  }

  #clientScopes(requested: readonly string[] | undefined): string[] {
    if (requested === undefined) return this.#scopes.unprivileged();
    for (const scope of requested) {
      if (!this.#scopes.has(scope)) throw new PolicyViolation(`unknown scope: ${scope}`);
    }
    // Every token of a client with no scope would grant nothing.
    if (requested.length === 0) throw new PolicyViolation('a client needs at least one scope');
    return this.#scopes.list().filter((d) => requested.includes(d.name)).map((d) => d.name);
  }
}
