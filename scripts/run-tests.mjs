#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) with node:test. Node 20 expands
// no `**`, so the list is built here; a run that finds no test file, or whose
// runner reports zero tests, fails.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = [];
try {
  files = walk('dist/test');
} catch {
  // no dist/test: reported below
}
if (files.length === 0) {
  console.error('run-tests: no compiled test files under dist/test (did the build run?)');
  process.exit(1);
}
const args = ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files];
const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(r.stdout);
const m = /^\S*\s*tests (\d+)$/m.exec(r.stdout.replace(/\x1b\[[0-9;]*m/g, ''));
if (r.status === 0 && (m === null || Number(m[1]) === 0)) {
  console.error('run-tests: the runner reported no tests');
  process.exit(1);
}
process.exit(r.status ?? 1);
