import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { EnvSchema } from '../src/config.js';
import { TokenResponseBody } from '../src/http/schemas.js';
import { spawnServer } from './helpers/spawn-server.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

interface Step {
  command: string;
  expected: string;
}

/** The `$ command` lines of the walkthrough's console blocks, each with the output printed under it. */
function walkthroughSteps(): Step[] {
  const steps: Step[] = [];
  for (const block of section('Walkthrough').matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: '' });
      else if (line !== '') steps.at(-1)!.expected += (steps.at(-1)!.expected ? '\n' : '') + line;
    }
  }
  return steps;
}

/**
 * The `gatehouse` commands the README names (`npx gatehouse ...` or `node dist/cli/main.js ...`),
 * each as the words before its first option: `users add bob`, `keys rotate`, or none for the bare command.
 */
function documentedCommands(): string[] {
  const found = README.matchAll(/(?:npx gatehouse|node dist\/cli\/main\.js)((?: [a-z][a-z0-9-]*)*)/g);
  return [...new Set([...found].map((m) => m[1]!.trim()))].sort();
}

/** Runs the CLI from the sources and resolves with its exit status and output. */
function cli(args: string[]): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { PATH: process.env.PATH ?? '' } },
      (err, stdout) => resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

describe('README', () => {
  test('the first screen gives exactly two set-up commands: start and test', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(README)![1]!;
    const commands = firstBlock.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('#')[0]!.trim());
    assert.deepEqual(commands, ['npm ci && npm start', 'npm test']);
  });

  test('the walkthrough runs verbatim against the demo server and prints what it documents', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-readme-'));
    const server = await spawnServer(['--demo'], { DATABASE_URL: join(dir, 'g.db') });
    try {
      const port = new URL(server.url).port;
      const steps = walkthroughSteps();
      assert.ok(steps.length >= 8, 'the walkthrough has its steps');
      const script = steps.map((s, i) => `printf '\\n@@step ${i}@@\\n'\n${s.command.replaceAll(':8000', `:${port}`)}`).join('\n');
      const output = execFileSync('bash', ['-e', '-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      const outputs = output.split(/\n@@step \d+@@\n/).slice(1);
      assert.equal(outputs.length, steps.length);
      steps.forEach((step, i) => {
        const actual = outputs[i]!.trim();
        // `...` in the README stands for a value that changes each run (a token).
        const pattern = new RegExp(`^${step.expected.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[A-Za-z0-9_.-]+')}$`);
        assert.match(actual, pattern, `step ${i}: ${step.command}`);
      });
      t.diagnostic(`${steps.length} walkthrough commands checked`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every gatehouse command the README shows exists: its --help exits 0 with its usage', async (t) => {
    const commands = documentedCommands();
    for (const expected of ['migrate', 'keys rotate', 'keys list', 'serve']) assert.ok(commands.includes(expected), `README shows ${expected}`);
    const outcomes = await Promise.all(commands.map((command) => cli([...command.split(' ').filter(Boolean), '--help'])));
    commands.forEach((command, i) => {
      assert.equal(outcomes[i]!.status, 0, `gatehouse ${command} --help`);
      assert.match(outcomes[i]!.stdout, /^Usage: gatehouse/, `gatehouse ${command} --help prints a usage`);
    });
    t.diagnostic(`${commands.length} commands checked: ${commands.map((c) => c || '(none)').join(', ')}`);
  });

  test('the configuration table lists every environment variable with its default', () => {
    const rows = [...section('Configuration').matchAll(/^\| `([A-Z_0-9]+)` \| (.+?) \|/gm)];
    const documented = new Map(rows.map((r) => [r[1]!, r[2]!.trim()]));
    assert.deepEqual([...documented.keys()].sort(), Object.keys(EnvSchema.properties).sort());
    for (const [name, schema] of Object.entries(EnvSchema.properties)) {
      const fallback = (schema as { default?: unknown }).default;
      if (fallback !== undefined) assert.equal(documented.get(name), `\`${String(fallback)}\``, `${name} default`);
    }
  });

  test('the answers table names every field of a successful /token answer', () => {
    const row = /^\| `POST \/token` with `username`.*\| 200 `\{(.*)\}`[^`|]*(?:`[^`|]*`[^`|]*)*\|$/m.exec(section('What the server answers'));
    assert.ok(row, 'the password grant row');
    const fields = row[1]!.split(',').map((f) => f.split(':')[0]!.replaceAll('"', ''));
    assert.deepEqual(fields, Object.keys(TokenResponseBody.properties));
  });

  test('the command line section shows every command `gatehouse --help` lists', () => {
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--help'], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    const commands = help
      .slice(help.indexOf('Commands:'))
      .split('\n')
      .slice(1)
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim().split(/\s+[<[]|\s{2,}/)[0]!);
    assert.ok(commands.length >= 10, commands.join(', '));
    const documented = /```sh\n([\s\S]*?)```/.exec(section('Command line'))![1]!;
    for (const command of commands) assert.match(documented, new RegExp(`^npx gatehouse ${command}\\b`, 'm'), command);
  });
});
