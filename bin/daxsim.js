#!/usr/bin/env node
// Launcher: the compiled CLI (npm run build produces dist/).
import { main } from '../dist/src/cli/main.js';

process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
