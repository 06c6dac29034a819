// Editors: every bundled scenario names the schema in a yaml-language-server
// modeline (completion and hover in VS Code's YAML extension), and the
// committed schema describes every property it has. Also what the npm package
// ships (the packing itself is tried in .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VERSION } from '../../src/version.js';

const MODELINE = /^# yaml-language-server: \$schema=(\S+)$/;

test('every bundled scenario starts with the yaml-language-server modeline pointing at the committed schema', () => {
  const files = readdirSync('scenarios').filter((n) => /\.ya?ml$/.test(n));
  assert.ok(files.length > 0);
  for (const f of files) {
    const first = readFileSync(join('scenarios', f), 'utf8').split('\n')[0]!;
    const m = MODELINE.exec(first);
    assert.ok(m, `scenarios/${f}: first line is the modeline, got ${JSON.stringify(first)}`);
    assert.equal(m[1], '../schema/scenario.schema.json', `scenarios/${f}`);
    assert.equal(resolve('scenarios', m[1]), resolve('schema/scenario.schema.json'));
  }
  // The test fixtures that carry one point at the same file.
  for (const dir of ['test/fixtures/report']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      const m = MODELINE.exec(readFileSync(join(dir, f), 'utf8').split('\n')[0]!);
      if (m) assert.ok(existsSync(resolve(dirname(join(dir, f)), m[1]!)), `${dir}/${f}: ${m[1]} exists`);
    }
  }
});

type Json = { [k: string]: unknown };

test('the committed schema: draft-07, every property described, every op with an example', () => {
  const s = JSON.parse(readFileSync('schema/scenario.schema.json', 'utf8')) as Json;
  assert.equal(s.$schema, 'http://json-schema.org/draft-07/schema#', 'yaml-language-server supports draft-07 and below');
  const defs = s.definitions as Record<string, Json>;
  const missing: string[] = [];
  const described = (p: Json): boolean => {
    if (typeof p.description === 'string' && p.description.trim() !== '') return true;
    const ref = typeof p.$ref === 'string' ? p.$ref.replace('#/definitions/', '') : undefined;
    return ref !== undefined && typeof defs[ref]?.description === 'string';
  };
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${path}/${i}`));
    if (node === null || typeof node !== 'object') return;
    const o = node as Json;
    for (const key of ['properties', 'patternProperties']) {
      const props = o[key];
      if (props && typeof props === 'object') {
        for (const [k, v] of Object.entries(props as Json)) if (!described(v as Json)) missing.push(`${path}/${key}/${k}`);
      }
    }
    // An `if` is a condition (e.g. which flags a base profile has), never shown on hover.
    for (const [k, v] of Object.entries(o)) if (!['examples', 'enum', 'default', 'const', 'if'].includes(k)) walk(v, `${path}/${k}`);
  };
  walk(s, '#');
  assert.deepEqual(missing, [], 'properties without a description');
  for (const [name, d] of Object.entries(defs)) assert.equal(typeof d.description, 'string', `definition ${name}`);
  for (const [name, d] of Object.entries(defs)) {
    if (name.startsWith('op_')) assert.ok(Array.isArray(d.examples) && d.examples.length > 0, `${name} has examples`);
  }
});

test('the package: version agrees with package.json; files ship the CLI, README, schema and scenarios, not the tests', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; files: string[]; bin: Record<string, string> };
  assert.equal(VERSION, pkg.version);
  for (const need of ['bin/', 'dist/src/', 'schema/', 'scenarios/', 'README.md', 'LICENSE']) assert.ok(pkg.files.includes(need), need);
  for (const f of pkg.files) assert.doesNotMatch(f, /^(dist\/?|\.\/?|test\b.*|dist\/test\b.*)$/, `files entry ${f} would ship the tests`);
  assert.equal(pkg.bin.daxsim, 'bin/daxsim.js');
  assert.match(readFileSync('bin/daxsim.js', 'utf8'), /^#!\/usr\/bin\/env node\n/);
});
