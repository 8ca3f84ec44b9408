import { UserExists } from '../errors.js';
import type { PasswordHasher } from './password-hasher.js';
import type { UserService } from './user-service.js';

/** The users of FastAPI's security tutorial. Fixtures: known passwords, so demo mode only. */
export const DEMO_USERS = [
  {
    username: 'johndoe',
    password: 'secret',
    email: 'johndoe@example.com',
    fullName: 'John Doe',
    scopes: ['me', 'items'],
    disabled: false,
  },
  {
    username: 'alice',
    password: 'secret2',
    email: 'alice@example.com',
    fullName: 'Alice Wonderson',
    scopes: ['me', 'items'],
    disabled: true,
  },
] as const;

/** One of the DEMO_USERS. */
export type DemoUser = (typeof DEMO_USERS)[number];

/** How a stored demo user compares with its fixture, for the demo banner. */
export interface DemoUserState {
  readonly fixture: DemoUser;
  /** How the stored user differs (`password changed`, `now enabled`, ...); empty when it matches. */
  readonly changes: readonly string[];
}

/** Creates each demo user that does not exist yet; existing users are left exactly as they are. */
export async function seedDemoUsers(users: UserService): Promise<string[]> {
  const created: string[] = [];
  for (const demo of DEMO_USERS) {
    if (await users.find(demo.username)) continue;
    try {
      await users.create(demo, { fixture: true });
      created.push(demo.username);
    } catch (err) {
      // Another instance seeded it first.
      if (!(err instanceof UserExists)) throw err;
    }
  }
  return created;
}

/**
 * Compares each demo user with its fixture, so the banner prints only credentials that work: the
 * password (one hash verification per user, once at start, in demo mode only), the disabled flag
 * and the scopes. Users in `created` were just made from the fixture and are not checked.
 */
export async function checkDemoUsers(users: UserService, hasher: PasswordHasher, created: readonly string[]): Promise<DemoUserState[]> {
  // One after another: the password checks go through the bounded hash queue, which may hold
  // none waiting (GATEHOUSE_HASH_QUEUE=0), and start-up must not be refused as "busy".
  const states: DemoUserState[] = [];
  for (const fixture of DEMO_USERS) states.push(await checkDemoUser(users, hasher, created, fixture));
  return states;
}

async function checkDemoUser(users: UserService, hasher: PasswordHasher, created: readonly string[], fixture: DemoUser): Promise<DemoUserState> {
  if (created.includes(fixture.username)) return { fixture, changes: [] };
  const stored = await users.find(fixture.username);
  if (!stored) return { fixture, changes: ['deleted'] };
  const changes: string[] = [];
  if (!(await hasher.verify(stored.passwordHash, fixture.password)).ok) changes.push('password changed');
  if (stored.disabled !== fixture.disabled) changes.push(stored.disabled ? 'now disabled' : 'now enabled');
  const scopes = [...stored.scopes].sort().join(' ');
  if (scopes !== [...fixture.scopes].sort().join(' ')) changes.push(scopes === '' ? 'now without scopes' : `scopes now ${stored.scopes.join(' ')}`);
  return { fixture, changes };
}
