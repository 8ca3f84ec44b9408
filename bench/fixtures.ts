/**
 * Users and access tokens for scenarios (b) and (c), written straight into the database the
 * servers will open, in a few seconds instead of the minutes that real signups and logins cost.
 *
 * - Users: ONE argon2id hash of the shared bench password is computed and stored for every
 *   user. Sharing a PHC string (same salt) between users is fine for a bench: each login still
 *   runs a full argon2id verify at the configured parameters, which is all (c) measures.
 * - Tokens: each token gets its own session row (as if each came from a separate login) and is
 *   signed by a KeyRing loaded from the same database, so the servers, which load the same keys
 *   and are given the same GATEHOUSE_ISSUER, accept them like their own.
 */
import { randomBytes } from 'node:crypto';
import { createAuthServices } from '../src/auth/auth-services.js';
import { systemClock } from '../src/auth/clock.js';
import { hashRefreshToken } from '../src/auth/refresh-token.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/open-store.js';

export const BENCH_PASSWORD = 'bench-password-0123';
/** The built-in public client, as for a login that names none. */
const CLIENT_ID = 'gatehouse';
const SCOPE = 'me items';
/** Signatures and inserts in flight at once while building tokens. */
const BATCH = 64;

export interface Fixtures {
  readonly usernames: readonly string[];
  /** Access tokens, spread round-robin over the users (token i belongs to user i mod users). */
  readonly tokens: readonly string[];
  readonly password: string;
  /** The PHC string every bench user shares. */
  readonly passwordHash: string;
  readonly seconds: number;
}

export function benchUsername(i: number): string {
  return `bench-user-${String(i).padStart(5, '0')}`;
}

/** Creates `userCount` users and `tokenCount` live sessions with their access tokens. `env` is the servers' environment. */
export async function createFixtures(env: Record<string, string>, userCount: number, tokenCount: number): Promise<Fixtures> {
  const started = performance.now();
  const config = loadConfig(env);
  const store = await openStore(config.databaseUrl);
  try {
    const services = await createAuthServices(config, store, systemClock);
    const passwordHash = await services.hasher.hash(BENCH_PASSWORD);
    const now = Date.now();
    const users = [];
    for (let i = 0; i < userCount; i++) {
      const username = benchUsername(i);
      users.push(
        await store.createUser(
          { username, email: `${username}@example.com`, fullName: `Bench User ${i}`, disabled: false, passwordHash, scopes: ['me', 'items'] },
          now,
        ),
      );
    }
    const tokens: string[] = new Array<string>(tokenCount);
    for (let from = 0; from < tokenCount; from += BATCH) {
      const batch = [];
      for (let i = from; i < Math.min(from + BATCH, tokenCount); i++) {
        const user = users[i % userCount]!;
        batch.push(
          (async () => {
            const sid = randomBytes(16).toString('base64url');
            await store.createSession(
              { id: sid, userId: user.id, clientId: CLIENT_ID, scope: SCOPE, createdAt: now, refreshedAt: now, revokedAt: null },
              hashRefreshToken(randomBytes(32).toString('base64url')),
              { passwordHash, registeredClient: false },
            );
            const { token } = await services.signer.sign({ sub: user.username, clientId: CLIENT_ID, scope: SCOPE, sid });
            tokens[i] = token;
          })(),
        );
      }
      await Promise.all(batch);
    }
    return {
      usernames: users.map((u) => u.username),
      tokens,
      password: BENCH_PASSWORD,
      passwordHash,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await store.close();
  }
}
