import { UserExists } from '../errors.js';
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
