import type { ClientRecord } from '../store/store.js';
import { CliFailure, UsageError } from './cli-errors.js';
import { noPositionals, parseCommandArgs } from './parse-command-args.js';
import { printUsage, type UsageTopic } from './usage.js';
import { withServices } from './with-services.js';

/** `gatehouse clients <subcommand> ...`: OAuth client registration. Returns the exit status. */
export async function clientsCommand(args: readonly string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case '-h':
    case '--help':
      return printUsage('clients');
    case 'add':
      return addClient(rest);
    case 'list':
      return listClients(rest);
    case 'remove':
      return removeClient(rest);
    case undefined:
      throw new UsageError('clients: missing subcommand', 'clients');
    default:
      throw new UsageError(`clients: unknown subcommand ${JSON.stringify(subcommand)}`, 'clients');
  }
}

async function addClient(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('clients add', args, {
    name: { type: 'string' },
    public: { type: 'boolean' },
    grants: { type: 'string' },
    scopes: { type: 'string' },
  });
  if (help) return printUsage('clients add');
  const id = onlyClientId('clients add', positionals);
  return withServices(async ({ clientAdmin, audit }) => {
    const { secret } = await clientAdmin.create(
      {
        id,
        name: typeof values.name === 'string' ? values.name : undefined,
        confidential: values.public !== true,
        grantTypes: spaceList(values.grants),
        scopes: spaceList(values.scopes),
      },
      audit.record,
    );
    say(`created client ${id}`);
    if (secret !== undefined) {
      say(`client_secret: ${secret}`);
      // On stderr, so `... | grep client_secret` or a redirect to a file captures only the secret.
      process.stderr.write('Store the client secret now: it is kept only as a hash and cannot be shown again.\n');
    }
    return 0;
  });
}

async function listClients(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('clients list', args, { json: { type: 'boolean' } });
  if (help) return printUsage('clients list');
  noPositionals('clients list', positionals);
  return withServices(async ({ clientAdmin }) => {
    const all = (await clientAdmin.list()).map(toListedClient);
    process.stdout.write(values.json === true ? `${JSON.stringify(all, null, 2)}\n` : formatClientsTable(all));
    return 0;
  });
}

async function removeClient(args: readonly string[]): Promise<number> {
  const { positionals, help } = parseCommandArgs('clients remove', args, {});
  if (help) return printUsage('clients remove');
  const id = onlyClientId('clients remove', positionals);
  return withServices(async ({ clientAdmin, audit }) => {
    if (!(await clientAdmin.remove(id, audit.record))) throw new CliFailure(`no client named ${JSON.stringify(id)}`);
    say(`removed client ${id}; its sessions have ended`);
    return 0;
  });
}

/** A client as `clients list --json` prints it: never the secret hash. */
interface ListedClient {
  readonly id: string;
  readonly name: string;
  readonly type: 'confidential' | 'public';
  readonly grant_types: readonly string[];
  readonly scopes: readonly string[];
  readonly created_at: string;
}

function toListedClient(client: ClientRecord): ListedClient {
  return {
    id: client.id,
    name: client.name,
    type: client.secretHash === null ? 'public' : 'confidential',
    grant_types: [...client.grantTypes],
    scopes: [...client.scopes],
    created_at: new Date(client.createdAt).toISOString(),
  };
}

function formatClientsTable(clients: readonly ListedClient[]): string {
  const rows = [
    ['ID', 'NAME', 'TYPE', 'GRANTS', 'SCOPES'],
    ...clients.map((c) => [c.id, c.name, c.type, c.grant_types.join(' '), c.scopes.join(' ')].map(cell)),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows
    .map((row) => `${row.map((value, column) => value.padEnd(widths[column]! + value.length - [...value].length)).join('  ').trimEnd()}\n`)
    .join('');
}

// Names are checked on the way in, but a row written by other means must not restyle the terminal.
function cell(value: string): string {
  return value === '' ? '-' : value.replace(/\p{Cc}/gu, '\uFFFD');
}

/** `--grants`/`--scopes` as a list; undefined when the option was not given, so defaults apply. */
function spaceList(value: string | boolean | undefined): string[] | undefined {
  return typeof value === 'string' ? value.split(' ').filter((s) => s !== '') : undefined;
}

function onlyClientId(command: UsageTopic, positionals: readonly string[]): string {
  const [id, ...extra] = positionals;
  if (id === undefined || id === '') throw new UsageError(`${command}: missing <id>`, command);
  if (extra.length > 0) throw new UsageError(`${command}: takes one <id>, got ${positionals.length} arguments`, command);
  return id;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
