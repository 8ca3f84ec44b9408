import type { Config, PasswordGrantPolicy } from '../config.js';
import type { Store } from '../store/store.js';
import { AccessTokenSigner } from './access-token-signer.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { AuditRelay } from './audit-relay.js';
import { ClientService } from './client-service.js';
import { ClientAuthenticator } from './clients.js';
import type { Clock } from './clock.js';
import { KeyRing } from './key-ring.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';
import { ResourceAuthenticator } from './resource-authenticator.js';
import { ScopeRegistry } from './scopes.js';
import type { SessionLifetime } from './session-lifetime.js';
import { UserService } from './user-service.js';
import { WorkLimiter } from './work-limiter.js';

/** Every domain service, wired once from the configuration and the store. */
export interface AuthServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly scopes: ScopeRegistry;
  readonly hasher: PasswordHasher;
  readonly keys: KeyRing;
  readonly signer: AccessTokenSigner;
  readonly verifier: AccessTokenVerifier;
  readonly authenticator: ResourceAuthenticator;
  readonly users: UserService;
  readonly clients: ClientAuthenticator;
  readonly clientAdmin: ClientService;
  readonly lifetime: SessionLifetime;
  readonly throttle: LoginThrottle;
  readonly passwordGrantPolicy: PasswordGrantPolicy;
  /** Records events no request asked for; the server and the CLI attach their sinks to it. */
  readonly audit: AuditRelay;
}

/** Builds the services: loads (or generates) the signing keys, imports them once. */
export async function createAuthServices(config: Config, store: Store, clock: Clock): Promise<AuthServices> {
  const scopes = new ScopeRegistry();
  const audit = new AuditRelay();
  const hasher = new PasswordHasher(config.argon2, { limiter: new WorkLimiter(config.hashConcurrency, config.hashQueue) });
  const keys = await KeyRing.load(
    store,
    { newKeyAlg: config.signingAlg, hs256Secret: config.hs256Secret, accessTokenTtl: config.accessTokenTtl, audit: audit.record },
    clock,
  );
  const signer = new AccessTokenSigner(keys, { issuer: config.issuer, audience: config.audience, ttl: config.accessTokenTtl }, clock);
  const verifier = new AccessTokenVerifier({
    key: keys.resolve,
    issuer: config.issuer,
    audience: config.audience,
    // The ring's algorithms as they are at each verification: a rotation may change them.
    algorithms: () => keys.algorithms,
    onAlgorithmMiss: () => keys.reloadAfterMiss(),
    cacheSize: config.tokenCacheSize,
    clock,
  });
  const lifetime = { idleTtl: config.sessionIdleTtl, absoluteTtl: config.sessionAbsoluteTtl };
  const throttle = new LoginThrottle(store);
  return {
    store,
    clock,
    scopes,
    hasher,
    keys,
    signer,
    verifier,
    authenticator: new ResourceAuthenticator(verifier, store, clock, lifetime, config.tokenCacheSize),
    users: new UserService(store, hasher, scopes, clock, throttle),
    clients: new ClientAuthenticator(store),
    clientAdmin: new ClientService(store, scopes, clock),
    lifetime,
    passwordGrantPolicy: config.passwordGrant,
    throttle,
    audit,
  };
}
