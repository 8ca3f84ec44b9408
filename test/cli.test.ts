import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAuthServices, type AuthServices } from '../src/auth/auth-services.js';
import { systemClock } from '../src/auth/clock.js';
import { buildApp } from '../src/app.js';
import { CliFailure, PromptAborted } from '../src/cli/cli-errors.js';
import { readNewPassword } from '../src/cli/read-password.js';
import { loadConfig } from '../src/config.js';
import { migrationProvider } from '../src/store/migrations.js';
import { openStore } from '../src/store/open-store.js';
import { splitAudit } from './helpers/audit-lines.js';
import { postToken } from './helpers/test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PASSWORD = 'correct horse battery';
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A DATABASE_URL in a fresh temp folder, so every test has its own database. */
function freshDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  dirs.push(dir);
  return join(dir, 'gatehouse.db');
}

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns the real CLI with `stdin` piped in; also checks a piped password never comes back out. */
function gatehouse(db: string, args: readonly string[], stdin = '', env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      // Only what the CLI needs: a developer's own GATEHOUSE_* variables must not leak in.
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db, ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const secret = stdin.split(/\r?\n/)[0]!;
      if (secret.length >= 8) assert.ok(!`${stdout}${stderr}`.includes(secret), 'the password was printed');
      resolve({ code, stdout, stderr });
    });
    // The CLI may exit before reading stdin (usage errors): that EPIPE is expected.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

function addUser(db: string, username: string, options: readonly string[] = [], password = PASSWORD): Promise<CliResult> {
  return gatehouse(db, ['users', 'add', username, ...options], `${password}\n`);
}

async function listJson(db: string): Promise<Record<string, unknown>[]> {
  const result = await gatehouse(db, ['users', 'list', '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
}

/**
 * Asserts a successful run: exit 0, `stdout`, and on stderr nothing but one audit line per event
 * named, each with its fields and the CLI's origin and actor.
 */
function assertSucceeds(result: CliResult, stdout: string, events: readonly [string, Record<string, unknown>][]): void {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, stdout);
  const { audit, rest } = splitAudit(result.stderr);
  assert.equal(rest, '');
  assert.deepEqual(audit.map((line) => line.audit), events.map(([event]) => event));
  for (const [i, [event, fields]] of events.entries()) {
    for (const [key, value] of Object.entries(fields)) assert.deepEqual(audit[i]![key], value, `${event}.${key}`);
    assert.equal(audit[i]!.origin, 'cli');
    assert.equal(typeof audit[i]!.actor, 'string');
  }
}

/**
 * Asserts the `gatehouse: <message>` single stderr line, no stdout, and the exit status. Nothing
 * refused is audited; the only audit line allowed is the first signing key of an empty database.
 */
function assertFails(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, '');
  const { audit, rest } = splitAudit(result.stderr);
  assert.match(rest, /^gatehouse: [^\n]+\n$/);
  assert.match(rest, message);
  assert.doesNotMatch(rest, /\bat .+:\d+:\d+/, 'no stack trace');
  assert.ok(audit.every((line) => line.audit === 'key.rotate'), 'a refused command audited a change');
}

/** Opens the CLI's database in-process, as the server would. */
async function withDb<T>(db: string, action: (services: AuthServices) => Promise<T>): Promise<T> {
  const config = loadConfig({ DATABASE_URL: db });
  const store = await openStore(config.databaseUrl);
  try {
    return await action(await createAuthServices(config, store, systemClock));
  } finally {
    await store.close();
  }
}

describe('gatehouse users', { concurrency: true }, () => {
  test('add creates a user that list shows as a table and as JSON, never with a hash', async () => {
    const db = freshDb();
    const added = await addUser(db, 'bob', ['--email', 'bob@example.com', '--full-name', 'Bob Builder', '--scopes', 'me items']);
    // The first command on an empty database also generates the first signing key.
    assertSucceeds(added, 'created user bob\n', [
      ['key.rotate', { reason: 'no_current_key' }],
      ['user.create', { user: 'bob', scopes: 'me items' }],
    ]);

    const table = await gatehouse(db, ['users', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^USERNAME\s+DISABLED\s+SCOPES\s+EMAIL\s+FULL NAME$/);
    assert.match(row!, /^bob\s+no\s+me items\s+bob@example\.com\s+Bob Builder$/);
    assert.deepEqual(rest, []);

    const json = await gatehouse(db, ['users', 'list', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), [
      { username: 'bob', email: 'bob@example.com', full_name: 'Bob Builder', disabled: false, scopes: ['me', 'items'] },
    ]);
    for (const output of [table.stdout, json.stdout]) assert.doesNotMatch(output, /argon2|password/i);
  });

  test('add refuses a password shorter than 12 characters and creates nothing', async () => {
    const db = freshDb();
    assertFails(await addUser(db, 'bob', [], 'short'), 1, /password must be at least 12 characters/);
    assert.deepEqual(await listJson(db), []);
  });

  test('add refuses a password equal to the username', async () => {
    assertFails(await addUser(freshDb(), 'bobthebuilder', [], 'bobthebuilder'), 1, /must not equal the username/);
  });

  test('add refuses the username in another case, and a commonly breached password', async () => {
    const db = freshDb();
    assertFails(await addUser(db, 'Bob.The.Builder', [], 'bob.the.builder'), 1, /must not equal the username/);
    assertFails(await addUser(db, 'bob', [], 'Qwerty123456'), 1, /too common: it appears in lists of breached passwords/);
    assert.deepEqual(await listJson(db), []);
  });

  test('add refuses a username that already exists', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'bob')).code, 0);
    assertFails(await addUser(db, 'bob', [], 'another long password'), 1, /"bob" already exists/);
  });

  test('add refuses an unknown scope', async () => {
    assertFails(await addUser(freshDb(), 'bob', ['--scopes', 'me wizardry']), 1, /unknown scope: wizardry/);
  });

  test('add reads only the first stdin line as the password, without its CRLF', async () => {
    const db = freshDb();
    assert.equal((await gatehouse(db, ['users', 'add', 'bob'], `${PASSWORD}\r\nnot the password\n`)).code, 0);
    const ok = await withDb(db, async ({ users, hasher }) => (await hasher.verify((await users.find('bob'))!.passwordHash, PASSWORD)).ok);
    assert.equal(ok, true);
  });

  test('add --disabled, then enable and disable, change what list --json reports', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'bob', ['--disabled'])).code, 0);
    assert.equal((await listJson(db))[0]!.disabled, true);
    assertSucceeds(await gatehouse(db, ['users', 'enable', 'bob']), 'enabled user bob\n', [['user.enable', { user: 'bob' }]]);
    assert.equal((await listJson(db))[0]!.disabled, false);
    assertSucceeds(await gatehouse(db, ['users', 'disable', 'bob']), 'disabled user bob\n', [['user.disable', { user: 'bob' }]]);
    assert.equal((await listJson(db))[0]!.disabled, true);
  });

  test('passwd replaces the password (the old one stops verifying) under the same policy', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'bob')).code, 0);
    const changed = await gatehouse(db, ['users', 'passwd', 'bob'], 'a brand new password\n');
    assertSucceeds(changed, 'changed password of user bob\n', [['password.reset', { user: 'bob' }]]);
    await withDb(db, async ({ users, hasher }) => {
      const { passwordHash } = (await users.find('bob'))!;
      assert.equal((await hasher.verify(passwordHash, 'a brand new password')).ok, true);
      assert.equal((await hasher.verify(passwordHash, PASSWORD)).ok, false);
    });
    assertFails(await gatehouse(db, ['users', 'passwd', 'bob'], 'bob\n'), 1, /at least 12 characters/);
  });

  test('passwd refuses the username in another case, and a commonly breached password, changing nothing', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'Wallace.Gromit')).code, 0);
    assertFails(await gatehouse(db, ['users', 'passwd', 'Wallace.Gromit'], 'WALLACE.GROMIT\n'), 1, /must not equal the username/);
    assertFails(await gatehouse(db, ['users', 'passwd', 'Wallace.Gromit'], '1qaz2wsx3edc\n'), 1, /too common/);
    await withDb(db, async ({ users, hasher }) => {
      assert.equal((await hasher.verify((await users.find('Wallace.Gromit'))!.passwordHash, PASSWORD)).ok, true);
    });
  });

  test('disable and passwd of an unknown user fail with exit 1', async () => {
    const db = freshDb();
    for (const command of ['disable', 'passwd']) {
      assertFails(await gatehouse(db, ['users', command, 'nobody'], `${PASSWORD}\n`), 1, /no user named "nobody"/);
    }
  });

  test('add without --scopes grants every non-privileged scope, so the user can read /users/me; --scopes "" grants none', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'bob')).code, 0);
    assert.equal((await addUser(db, 'carol', ['--scopes', ''])).code, 0);
    assert.deepEqual((await listJson(db)).map((u) => [u.username, u.scopes]), [['bob', ['me', 'items']], ['carol', []]]);
    await withDb(db, async (services) => {
      const app = await buildApp(loadConfig({ DATABASE_URL: db, LOG_LEVEL: 'silent' }), services);
      try {
        const login = await postToken(app, { username: 'bob', password: PASSWORD });
        const { access_token } = login.json() as { access_token: string };
        assert.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${access_token}` } })).statusCode, 200);
      } finally {
        await app.close();
      }
    });
    const help = await gatehouse(db, ['users', 'add', '--help']);
    assert.match(help.stdout, /default: every\s+non-privileged scope, "me items"/);
  });

  test('scopes replaces a user\'s scopes at once: a token already issued loses the removed ones', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'bob')).code, 0);
    await withDb(db, async (services) => {
      const app = await buildApp(loadConfig({ DATABASE_URL: db, LOG_LEVEL: 'silent' }), services);
      try {
        const token = ((await postToken(app, { username: 'bob', password: PASSWORD })).json() as { access_token: string }).access_token;
        const get = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${token}` } });
        assert.equal((await get('/users/me/items')).statusCode, 200);

        assertSucceeds(await gatehouse(db, ['users', 'scopes', 'bob', 'me']), 'set scopes of user bob: me\n', [['user.scopes', { user: 'bob', scopes: 'me' }]]);
        assert.equal((await get('/users/me/items')).statusCode, 403, 'effective at once');
        assert.equal((await get('/users/me')).statusCode, 200);

        // One quoted argument or several, as the user types them.
        assertSucceeds(await gatehouse(db, ['users', 'scopes', 'bob', 'me items', 'admin']), 'set scopes of user bob: me items admin\n', [
          ['user.scopes', { user: 'bob', scopes: 'me items admin' }],
        ]);
        const admin = await postToken(app, { username: 'bob', password: PASSWORD, scope: 'admin' });
        assert.equal((admin.json() as { scope: string }).scope, 'admin');
      } finally {
        await app.close();
      }
    });
    assertFails(await gatehouse(db, ['users', 'scopes', 'bob', 'me', 'wizardry']), 1, /unknown scope: wizardry/);
    assertFails(await gatehouse(db, ['users', 'scopes', 'nobody', 'me']), 1, /no user named "nobody"/);
    assert.deepEqual((await listJson(db))[0]!.scopes, ['me', 'items', 'admin'], 'a refused change changes nothing');
    assertFails(await gatehouse(db, ['users', 'scopes', 'bob']), 2, /users scopes: missing <scope> \(or --none to remove them all\)/);
    assertFails(await gatehouse(db, ['users', 'scopes', 'bob', 'me', '--none']), 2, /give scopes or --none, not both/);
    assertFails(await gatehouse(db, ['users', 'scopes']), 2, /users scopes: missing <username>/);
    assertSucceeds(await gatehouse(db, ['users', 'scopes', 'bob', '--none']), 'removed every scope of user bob\n', [['user.scopes', { user: 'bob', scopes: '' }]]);
    assert.deepEqual((await listJson(db))[0]!.scopes, []);
  });

  test('a user added by the CLI logs in at POST /token', async () => {
    const db = freshDb();
    assert.equal((await addUser(db, 'bob', ['--scopes', 'me'])).code, 0);
    await withDb(db, async (services) => {
      const app = await buildApp(loadConfig({ DATABASE_URL: db, LOG_LEVEL: 'silent' }), services);
      try {
        const response = await postToken(app, { username: 'bob', password: PASSWORD });
        assert.equal(response.statusCode, 200, response.body);
        assert.equal((response.json() as { scope: string }).scope, 'me');
      } finally {
        await app.close();
      }
    });
  });
});

describe('gatehouse migrate', () => {
  test('prints each migration it applied, then that there was nothing to do', async () => {
    const db = freshDb();
    const names = Object.keys(await migrationProvider.getMigrations());
    assert.ok(names.length > 0);
    assert.deepEqual(await gatehouse(db, ['migrate']), { code: 0, stdout: names.map((name) => `applied ${name}\n`).join(''), stderr: '' });
    assert.deepEqual(await gatehouse(db, ['migrate']), { code: 0, stdout: 'database schema already up to date\n', stderr: '' });
  });
});

describe('gatehouse usage', { concurrency: true }, () => {
  test('an unknown command exits 2 with one stderr line', async () => {
    assertFails(await gatehouse(freshDb(), ['frobnicate']), 2, /unknown command "frobnicate"/);
    assertFails(await gatehouse(freshDb(), ['users', 'frobnicate']), 2, /unknown subcommand "frobnicate"/);
  });

  test('a missing username, an unknown option or an extra argument exits 2', async () => {
    const db = freshDb();
    assertFails(await gatehouse(db, ['users', 'add']), 2, /missing <username>/);
    assertFails(await gatehouse(db, ['users', 'disable']), 2, /missing <username>/);
    assertFails(await gatehouse(db, ['users', 'list', '--yaml']), 2, /unknown option --yaml/);
    assertFails(await gatehouse(db, ['users', 'add', 'bob', '--email']), 2, /--email needs a value/);
  });

  test('a password given as an argument is refused and never echoed', async () => {
    const db = freshDb();
    for (const args of [['users', 'add', 'bob', 'hunter2hunter2'], ['users', 'passwd', 'bob', '--password=hunter2hunter2']]) {
      const result = await gatehouse(db, args);
      assertFails(result, 2, /.+/);
      assert.doesNotMatch(result.stderr, /hunter2/);
    }
    assert.deepEqual(await listJson(db), []);
  });

  test('a bad configuration exits 1 with its message', async () => {
    const result = await gatehouse(freshDb(), ['users', 'list'], '', { GATEHOUSE_HS256_SECRET: 'too short' });
    assertFails(result, 1, /GATEHOUSE_HS256_SECRET must be at least 32 bytes/);
  });

  test('--version and -v print the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      assert.deepEqual(await gatehouse(freshDb(), [flag]), { code: 0, stdout: `gatehouse ${version}\n`, stderr: '' });
    }
  });

  test('--help prints usage on stdout and exits 0 for the program and every command', async () => {
    const commands = [[], ['serve'], ['migrate'], ['users'], ['users', 'add'], ['users', 'list'], ['users', 'disable'], ['users', 'enable'], ['users', 'passwd'], ['users', 'scopes']];
    await Promise.all(
      commands.map(async (command) => {
        const result = await gatehouse(freshDb(), [...command, '--help']);
        assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`);
        assert.equal(result.stderr, '');
        assert.match(result.stdout, new RegExp(`^Usage: gatehouse ${command.join(' ')}`));
      }),
    );
  });
});

/** A stand-in terminal: a stream with raw mode, into which the test types keys. */
function fakeTerminal(): PassThrough & { isTTY: true; isRaw: boolean; setRawMode(mode: boolean): void } {
  return Object.assign(new PassThrough(), {
    isTTY: true as const,
    isRaw: false,
    setRawMode(this: { isRaw: boolean }, mode: boolean) {
      this.isRaw = mode;
    },
  });
}

describe('password prompt on a terminal', () => {
  test('asks twice without echo, honours Backspace and skips arrow keys', async () => {
    const terminal = fakeTerminal();
    const prompts = new PassThrough();
    const password = readNewPassword(terminal, prompts);
    terminal.write(`${PASSWORD}x\x7f\x1b[D\r`);
    terminal.write(`${PASSWORD}\r`);
    assert.equal(await password, PASSWORD);
    assert.equal(prompts.read()?.toString(), 'Password: \nRepeat password: \n');
    assert.equal(terminal.isRaw, false, 'raw mode is restored');
  });

  test('refuses two different answers', async () => {
    const terminal = fakeTerminal();
    const password = readNewPassword(terminal, new PassThrough());
    terminal.write(`${PASSWORD}\r${PASSWORD}!\r`);
    await assert.rejects(password, /the passwords do not match/);
  });

  test('Ctrl-D (end of input) aborts with an error instead of acting as Enter, and restores the terminal', async () => {
    for (const typed of ['half typed\x04', '\x04', `${PASSWORD}\r\x04`]) {
      const terminal = fakeTerminal();
      const prompts = new PassThrough();
      const password = readNewPassword(terminal, prompts);
      terminal.write(typed);
      await assert.rejects(password, (err: Error) => err instanceof CliFailure && err.message === 'end of input (Ctrl-D) at the password prompt; nothing was changed');
      assert.equal(terminal.isRaw, false);
      assert.match(prompts.read()?.toString() ?? '', /\n$/, 'the prompt line is ended');
    }
  });

  test('Ctrl-C aborts and restores the terminal', async () => {
    const terminal = fakeTerminal();
    const password = readNewPassword(terminal, new PassThrough());
    terminal.write('half typed\x03');
    await assert.rejects(password, PromptAborted);
    assert.equal(terminal.isRaw, false);
  });
});
