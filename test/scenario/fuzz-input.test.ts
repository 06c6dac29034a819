// Bad input cannot break daxsim: a property test (fast-check, fixed seed, so
// every run tries the same inputs) feeds thousands of generated inputs to the
// loader and, written to files, to the CLI's main() in-process. Each one
// either runs (exit 0/1, nothing on stderr, a report that parses) or exits 2
// with every stderr line `file:line:col: message`: never an uncaught
// exception, an internal error, a stack trace or a hang (a per-input time
// bound catches anything that blows up; runs are bounded by --max-steps).
//
// Inputs: mutated bundled scenarios (lines deleted, duplicated, swapped,
// re-indented, values replaced by wrong types, huge numbers, YAML syntax),
// random YAML documents, scenario-shaped documents with random ops and
// arguments, wrong types at random paths, truncations, deep nesting, alias
// bombs and self-referencing aliases, and raw bytes that are not UTF-8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { cli } from '../helpers.js';
import { loadScenario } from '../../src/scenario/load.js';
import { InputError } from '../../src/scenario/diagnostic.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { OP_KINDS } from '../../src/scenario/types.js';
import { junitProblems, parseXml } from '../report/junit-schema.js';

/** Fixed, so every run tries the same inputs; DAXSIM_FUZZ_SEED=n explores others. */
const SEED = process.env.DAXSIM_FUZZ_SEED ? Number(process.env.DAXSIM_FUZZ_SEED) : 20240605;
const RUNS = 5000;
/** No single input may take longer than this (a hang or a blow-up shows as a failure, not a stuck suite). */
const MAX_MS_PER_INPUT = 2000;

const BASES: string[] = [
  ...readdirSync('scenarios').filter((n) => n.endsWith('.yaml')).sort().map((n) => readFileSync(join('scenarios', n), 'utf8')),
  ...['escapes', 'never-seen', 'no-expect'].map((n) => readFileSync(join('test/fixtures/report', `${n}.yaml`), 'utf8')),
];

const TOKENS = [
  '1e308', '-1', '1.5', '-0', '9007199254740993', '99999999999999999999999', '0x10', '0o17', '1_000', '+1', '.inf', '-.inf', '.nan',
  '~', 'null', 'true', 'no', '[]', '{}', '""', '"x"', "'y'", '&a x', '*a', '*nope', '!!binary aGk=', '!!str 1', '!!js/function f',
  '!custom x', '<<: *a', '{a: *a}', '? k', '|', '>-', '- ', '[', '{', '}', ']', '#', '"\\x00"', '"\\ud800"', "'", '%YAML 1.1',
  '---', '...', '\t', 'fault', 'fsync', 'pin', 'bogus-op', 'v4.6', 'v4.7', 'v9.9', 'clean', '[fault-sigbus]', '[nope]',
  '{0: 1}', '1048576', '1048577', '16', '17', '256', '257', '64', '65', '4294967296', 'a'.repeat(300),
];

interface Input {
  kind: string;
  text?: string;
  bytes?: Uint8Array;
}

const pick = <T,>(xs: readonly T[], n: number): T => xs[n % xs.length]!;
const token = fc.oneof(
  { arbitrary: fc.constantFrom(...TOKENS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }), weight: 1 },
);

const mutation = fc.record({
  op: fc.constantFrom('delete', 'duplicate', 'swap', 'indent', 'value', 'insert', 'splice'),
  a: fc.nat(),
  b: fc.nat(),
  s: token,
});

function mutate(text: string, muts: Array<{ op: string; a: number; b: number; s: string }>): string {
  const lines = text.split('\n');
  for (const m of muts) {
    const i = m.a % lines.length;
    const line = lines[i]!;
    switch (m.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'duplicate':
        lines.splice(i, 0, line);
        break;
      case 'swap': {
        const j = m.b % lines.length;
        lines[i] = lines[j]!;
        lines[j] = line;
        break;
      }
      case 'indent':
        lines[i] = m.b % 2 === 0 ? ' '.repeat(1 + (m.b % 7)) + line : line.replace(/^ {1,3}/, '');
        break;
      case 'value': {
        const k = line.indexOf(': ');
        lines[i] = k >= 0 ? `${line.slice(0, k + 2)}${m.s}` : `${line} ${m.s}`;
        break;
      }
      case 'insert': {
        const at = m.b % (line.length + 1);
        lines[i] = line.slice(0, at) + m.s + line.slice(at);
        break;
      }
      case 'splice': {
        const at = m.b % (line.length + 1);
        lines[i] = line.slice(0, at) + m.s + line.slice(Math.min(line.length, at + 1 + (m.b % 5)));
        break;
      }
    }
    if (lines.length === 0) lines.push('');
  }
  return lines.join('\n');
}

const mutated = fc
  .tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([b, muts]): Input => ({ kind: 'mutated', text: mutate(pick(BASES, b), muts) }));

const truncated = fc.tuple(fc.nat(), fc.nat()).map(([b, n]): Input => {
  const t = pick(BASES, b);
  return { kind: 'truncated', text: t.slice(0, n % (t.length + 1)) };
});

const randomYaml = fc.jsonValue({ maxDepth: 4 }).map((v): Input => ({ kind: 'random-yaml', text: stringifyYaml(v) }));

const randomText = fc.string({ unit: 'binary', maxLength: 200 }).map((s): Input => ({ kind: 'random-text', text: s }));

const kebab = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}$/);
const opName = fc.oneof(fc.constantFrom(...OP_KINDS), fc.constantFrom('Fault', 'faults', 'mmap', 'sleep', ''), fc.string({ maxLength: 8 }));
const opArgs = fc.dictionary(
  fc.oneof(fc.constantFrom('map', 'file', 'page', 'pages', 'write', 'huge', 'value', 'expect', 'as', 'pin', 'longterm'), fc.string({ maxLength: 6 })),
  fc.oneof(fc.constantFrom('m', 'a', 0, 1, 2, -1, 1e300, true, 'X', null), fc.jsonValue({ maxDepth: 2 })),
  { maxKeys: 5 },
);
const scenarioShaped = fc
  .record(
    {
      name: fc.oneof(kebab, fc.jsonValue({ maxDepth: 1 })),
      kernel: fc.oneof(fc.constantFrom('v4.6', 'v4.7', 'v4.9', 'v9.9'), fc.record({ base: fc.constantFrom('v4.6', 'v4.7'), ext4_i_mmap_sem: fc.boolean() }), fc.jsonValue({ maxDepth: 1 })),
      fs: fc.constantFrom('ext4', 'ext2', 'xfs', 'btrfs', 4),
      setup: fc.oneof(
        fc.record({
          files: fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.record({ pages: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(1 << 20, (1 << 20) + 1, 2 ** 53, 1.5)) }, { requiredKeys: [] }), { maxKeys: 3 }),
          maps: fc.dictionary(fc.constantFrom('m', 'n'), fc.record({ file: fc.constantFrom('a', 'b', 'z'), private: fc.boolean(), sync: fc.boolean() }, { requiredKeys: ['file'] }), { maxKeys: 2 }),
        }, { requiredKeys: [] }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      threads: fc.oneof(
        fc.dictionary(fc.oneof(fc.constantFrom('t0', 't1', 't2'), fc.string({ maxLength: 4 })), fc.array(fc.dictionary(opName, opArgs, { minKeys: 1, maxKeys: 2 }), { maxLength: 4 }), { maxKeys: 3 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      final: fc.jsonValue({ maxDepth: 2 }),
      expect: fc.oneof(fc.dictionary(fc.constantFrom('v4.6', 'v4.7', 'v5.0'), fc.oneof(fc.constantFrom('clean', 'dirty'), fc.array(fc.constantFrom('fault-sigbus', 'stale-mapping', 'nope')))), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: ['threads'] },
  )
  .map((o): Input => ({ kind: 'scenario-shaped', text: stringifyYaml(o) }));

/** A valid scenario with the value at one random path replaced by something of another type. */
const wrongType = fc.tuple(fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })).map(([b, path, v]): Input => {
  const doc = parseYaml(pick(BASES, b)) as Record<string, unknown>;
  let node: unknown = doc;
  for (let d = 0; d < path.length; d++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node as object);
    if (keys.length === 0) break;
    const k = pick(keys, path[d]!);
    const child = (node as Record<string, unknown>)[k];
    if (d === path.length - 1 || child === null || typeof child !== 'object') {
      (node as Record<string, unknown>)[k] = v;
      break;
    }
    node = child;
  }
  return { kind: 'wrong-type', text: stringifyYaml(doc) };
});

const deep = fc.tuple(fc.constantFrom('flow-seq', 'flow-map', 'block-seq', 'block-map', 'in-thread'), fc.integer({ min: 1, max: 3000 })).map(([how, n]): Input => {
  let text: string;
  switch (how) {
    case 'flow-seq':
      text = `name: deep\nthreads: ${'['.repeat(n)}${']'.repeat(n)}\n`;
      break;
    case 'flow-map':
      text = `name: deep\nthreads: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`;
      break;
    case 'block-seq':
      text = `name: deep\nthreads:\n  t0:\n    ${'- '.repeat(n)}x\n`;
      break;
    case 'block-map':
      text = `name: deep\nthreads:\n${Array.from({ length: Math.min(n, 400) }, (_, i) => `${' '.repeat(2 * (i + 1))}k${i}:`).join('\n')} 1\n`;
      break;
    default:
      text = `name: deep\nsetup: {files: {a: {pages: 1}}, maps: {m: {file: a}}}\nthreads:\n  t0:\n    - fault: {map: m, page: ${'['.repeat(n % 200)}0${']'.repeat(n % 200)}}\n`;
  }
  return { kind: 'deep', text };
});

const aliasBomb = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom('top', 'thread', 'files', 'self', 'merge', 'undefined')).map(([levels, width, where]): Input => {
  const anchors = ['a0: &a0 [x]'];
  for (let l = 1; l <= levels; l++) anchors.push(`a${l}: &a${l} [${Array.from({ length: width }, () => `*a${l - 1}`).join(', ')}]`);
  const top = `a${levels}`;
  let text: string;
  switch (where) {
    case 'top':
      text = `name: bomb\nx:\n${anchors.map((a) => `  ${a}`).join('\n')}\nthreads: {t0: *${top}}\n`;
      break;
    case 'thread':
      text = `name: bomb\nsetup: {files: {a: {pages: 1}}, maps: {m: {file: a}}}\nthreads:\n  t0: &ops\n    - fault: &f {map: m, page: 0}\n${Array.from({ length: width }, () => '    - fault: *f').join('\n')}\n  t1: *ops\n  t2: *ops\nexpect: {v4.7: clean}\n`;
      break;
    case 'files':
      text = `name: bomb\nsetup:\n  files: &fs {a: &p {pages: 1}, b: *p}\n  maps: {m: {file: a}}\nthreads: {t0: [{fault: {map: m, page: 0}}]}\nfinal: {files: *fs}\n`;
      break;
    case 'self':
      text = `name: bomb\nthreads: &t {t0: *t}\n`;
      break;
    case 'merge':
      text = `name: bomb\nbase: &b {map: m, page: 0}\nthreads: {t0: [{fault: {<<: *b, write: true}}]}\n`;
      break;
    default:
      text = `name: bomb\nthreads: {t0: *missing}\n`;
  }
  return { kind: 'alias', text };
});

const notUtf8 = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b): Input => ({ kind: 'bytes', bytes: b })),
  fc.tuple(fc.nat(), fc.nat(), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x00], [0xef, 0xbb, 0xbf])).map(([b, at, bad]): Input => {
    const base = Buffer.from(pick(BASES, b), 'utf8');
    const i = at % (base.length + 1);
    return { kind: 'bytes-in-scenario', bytes: Buffer.concat([base.subarray(0, i), Buffer.from(bad), base.subarray(i)]) };
  }),
  fc.nat().map((b): Input => ({ kind: 'utf16', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pick(BASES, b), 'utf16le')]) })),
);

/** Scenarios the loader accepts, with random ops over two files: they run, so the kernel model and the reporters get odd programs too. */
const supportedOp = fc.oneof(
  fc.record({ fault: fc.record({ map: fc.constantFrom('m', 'n'), page: fc.nat(2), write: fc.boolean() }) }),
  fc.record({ load: fc.record({ map: fc.constantFrom('m', 'n'), page: fc.nat(2) }) }),
  fc.record({ store: fc.record({ map: fc.constantFrom('m', 'n'), page: fc.nat(2), value: fc.oneof(fc.constantFrom('X', 'Y'), fc.string({ minLength: 1, maxLength: 8 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })) }) }),
  fc.record({ truncate: fc.record({ file: fc.constantFrom('a', 'b'), pages: fc.nat(3) }) }),
  fc.record({ punch: fc.record({ file: fc.constantFrom('a', 'b'), page: fc.nat(2), pages: fc.integer({ min: 1, max: 2 }) }) }),
);
const runnable = fc
  .record({
    kernel: fc.oneof(fc.constantFrom('v4.6', 'v4.7'), fc.record({ base: fc.constantFrom('v4.6', 'v4.7'), ext4_i_mmap_sem: fc.boolean() })),
    a: fc.integer({ min: 1, max: 3 }),
    b: fc.integer({ min: 1, max: 3 }),
    threads: fc.array(fc.array(supportedOp, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
    expect: fc.dictionary(fc.constantFrom('v4.6', 'v4.7'), fc.oneof(fc.constant('clean'), fc.uniqueArray(fc.constantFrom('fault-sigbus', 'stale-mapping', 'stale-read', 'kernel-warn'), { minLength: 1, maxLength: 2 }))),
  })
  .map((o): Input => ({
    kind: 'runnable',
    text: stringifyYaml({
      name: 'generated',
      kernel: o.kernel,
      setup: { files: { a: { pages: o.a, written: { 0: 'A' } }, b: { pages: o.b } }, maps: { m: { file: 'a' }, n: { file: 'b' } } },
      threads: Object.fromEntries(o.threads.map((ops, i) => [`t${i}`, ops])),
      expect: o.expect,
    }),
  }));

const input = fc.oneof(
  { arbitrary: runnable, weight: 3 },
  { arbitrary: mutated, weight: 6 },
  { arbitrary: scenarioShaped, weight: 3 },
  { arbitrary: wrongType, weight: 3 },
  { arbitrary: truncated, weight: 2 },
  { arbitrary: randomYaml, weight: 1 },
  { arbitrary: randomText, weight: 1 },
  { arbitrary: deep, weight: 1 },
  { arbitrary: aliasBomb, weight: 1 },
  { arbitrary: notUtf8, weight: 2 },
);

const DIAG = /^\S+:\d+:\d+: \S/;
const REPORTERS = ['pretty', 'json', 'ndjson', 'junit', 'tap', 'github'];

/** The report a run printed parses as its format says. */
function checkReport(reporter: string, out: string, what: string): void {
  if (reporter === 'json') JSON.parse(out);
  else if (reporter === 'ndjson') for (const l of out.trimEnd().split('\n')) JSON.parse(l);
  else if (reporter === 'junit') assert.deepEqual(junitProblems(parseXml(out)), [], what);
  else if (reporter === 'tap') assert.match(out, /^TAP version 13\n[\s\S]*^1\.\.\d+$/m, what);
}

test(`bad input: ${RUNS} generated inputs either run or exit 2 with file:line:col, never a crash or a hang`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-fuzz-'));
  const vocab = vocabulary();
  const stats = { inputs: 0, loaded: 0, refused: 0, exit: [0, 0, 0], slowest: 0, kinds: new Map<string, number>() };
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(input, async (inp) => {
        const n = stats.inputs++;
        stats.kinds.set(inp.kind, (stats.kinds.get(inp.kind) ?? 0) + 1);
        const file = join(dir, `in-${n}.yaml`);
        const what = `${inp.kind} input #${n} (${file})`;
        const t0 = Date.now();
        // The loader, in-process, on the text itself (this sees lone surrogates that a file cannot hold).
        if (inp.text !== undefined) {
          try {
            loadScenario(inp.text, 'in.yaml', vocab);
          } catch (e) {
            if (!(e instanceof InputError)) throw new Error(`${what}: the loader threw ${String(e)}`);
            assert.ok(e.diagnostics.length > 0, what);
            for (const d of e.diagnostics) {
              assert.equal(d.file, 'in.yaml', what);
              assert.ok(Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.col) && d.col >= 1, `${what}: position ${d.line}:${d.col}`);
              assert.ok(d.message.length > 0 && !d.message.includes('\n    at '), `${what}: ${d.message}`);
            }
          }
        }
        // The CLI, in-process, on the file.
        writeFileSync(file, inp.bytes ?? inp.text ?? '');
        const reporter = REPORTERS[n % REPORTERS.length]!;
        const args = n % 2 === 0
          ? ['run', file, '--seed', String(n % 7), '--max-steps', '20000', '--reporter', reporter]
          : ['check', file, '--runs', '2', '--no-explore', '--max-steps', '20000', '--reporter', reporter];
        const r = await cli(args);
        assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `${what}: exit ${r.code}`);
        stats.exit[r.code]!++;
        if (r.code === 2) {
          stats.refused++;
          assert.notEqual(r.err, '', `${what}: exit 2 says why`);
          for (const l of r.err.trimEnd().split('\n')) assert.match(l, DIAG, `${what}: stderr line ${JSON.stringify(l)}`);
          assert.doesNotMatch(r.err, /internal error|\n\s+at /, `${what}: ${r.err}`);
          assert.equal(r.out, '', `${what}: nothing half-written on stdout`);
        } else {
          stats.loaded++;
          assert.equal(r.err, '', `${what}: a run writes nothing on stderr`);
          checkReport(reporter, r.out, what);
        }
        const ms = Date.now() - t0;
        stats.slowest = Math.max(stats.slowest, ms);
        assert.ok(ms < MAX_MS_PER_INPUT, `${what} took ${ms} ms`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const kinds = [...stats.kinds].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(
    `fuzz-input: tried ${stats.inputs} inputs (seed ${SEED}) in ${Date.now() - started} ms: ${stats.loaded} ran (exit 0: ${stats.exit[0]}, exit 1: ${stats.exit[1]}), ${stats.refused} refused with file:line:col (exit 2); slowest ${stats.slowest} ms; ${kinds}`,
  );
  assert.ok(stats.inputs >= RUNS);
  assert.ok(stats.loaded > 50, 'some generated inputs are valid scenarios that run');
});

test('edge inputs: empty, BOM only, comment only, exactly at and just over the size limit, a directory, a device', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-edge-'));
  try {
    const cases: Array<[string, string | Buffer]> = [
      ['empty.yaml', ''],
      ['bom.yaml', '\ufeff'],
      ['comment.yaml', '# nothing\n'],
      ['nul.yaml', Buffer.from([0])],
      ['over.yaml', '#'.repeat((1 << 20) + 1)],
      ['at.yaml', `name: big\nthreads: {}\n#${'x'.repeat((1 << 20) - 24)}\n`],
    ];
    for (const [name, body] of cases) writeFileSync(join(dir, name), body);
    assert.equal(Buffer.byteLength(readFileSync(join(dir, 'at.yaml'))), 1 << 20);
    for (const path of [...cases.map(([n]) => join(dir, n)), dir, '/dev/zero', '/dev/null']) {
      for (const cmd of ['run', 'check']) {
        const r = await cli([cmd, path, '--runs', '1']);
        assert.equal(r.code, 2, `${cmd} ${path}`);
        for (const l of r.err.trimEnd().split('\n')) assert.match(l, DIAG, `${cmd} ${path}: ${l}`);
      }
    }
    const over = await cli(['run', join(dir, 'over.yaml')]);
    assert.match(over.err, /over\.yaml:1:1: input is too large: 1048577 bytes \(the limit is 1048576 bytes\)/);
    const at = await cli(['run', join(dir, 'at.yaml')]);
    assert.doesNotMatch(at.err, /too large/, 'exactly 1 MiB is allowed');
    const zero = await cli(['run', '/dev/zero']);
    assert.match(zero.err, /^\/dev\/zero:1:1: input is too large/, 'an endless device is read no further than the limit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
