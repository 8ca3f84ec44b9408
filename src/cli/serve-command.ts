import { noPositionals, parseCommandArgs } from './parse-command-args.js';
import { printUsage } from './usage.js';

/** `gatehouse serve [--demo]`: starts the server, which then runs until a signal stops it. */
export async function serveCommand(args: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs('serve', args, { demo: { type: 'boolean' } });
  if (help) return printUsage('serve');
  noPositionals('serve', positionals);
  // Loaded on demand: the HTTP stack is the heaviest import, and only this command needs it.
  const { serve } = await import('../main.js');
  await serve(process.env, { demo: values.demo === true });
  return 0;
}
