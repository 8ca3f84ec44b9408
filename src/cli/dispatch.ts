import { UsageError } from './cli-errors.js';
import { clientsCommand } from './clients-command.js';
import { keysCommand } from './keys-command.js';
import { reportError } from './report-error.js';
import { migrateCommand } from './migrate-command.js';
import { printVersion } from './print-version.js';
import { serveCommand } from './serve-command.js';
import { printUsage } from './usage.js';
import { usersCommand } from './users-command.js';

/** Runs the command `argv` (arguments after the program name) names and returns its exit status. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    return reportError(err);
  }
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case '-h':
    case '--help':
    case 'help':
      return printUsage('main');
    case '-v':
    case '--version':
      return printVersion();
    case 'serve':
      return serveCommand(rest);
    case 'migrate':
      return migrateCommand(rest);
    case 'users':
      return usersCommand(rest);
    case 'clients':
      return clientsCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case undefined:
      throw new UsageError('missing command', '');
    default:
      throw new UsageError(
        command.startsWith('-') ? `unknown option ${command.split('=')[0]}` : `unknown command ${JSON.stringify(command)}`,
        '',
      );
  }
}
