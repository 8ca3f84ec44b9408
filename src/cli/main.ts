#!/usr/bin/env -S node --max-semi-space-size=2
import { run } from './dispatch.js';

// This file is the `gatehouse` bin. It runs unconditionally (no "am I the main module?" check)
// because npm starts it through a symlink whose path is not this module's URL.
const status = await run(process.argv.slice(2));
if (status === 0) {
  // Success ends naturally: `serve` keeps listening, the other commands have closed everything.
  process.exitCode = 0;
} else {
  // A failure may leave handles open (a half-started server, a database pool); exit once
  // stderr has taken the error line.
  process.stderr.write('', () => process.exit(status));
}
