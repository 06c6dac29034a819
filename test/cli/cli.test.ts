// The command line end to end, in-process: exit codes, messages, determinism, reporters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cli } from '../helpers.js';
import { colorLevel } from '../../src/cli/io.js';
import { FLAGS, PROFILES } from '../../src/kernel/versions.js';
import { INVARIANTS } from '../../src/check/invariants.js';

const RACE = 'scenarios/write-fault-vs-read-fault-hole.yaml';

test('bad input exits 2 with file:line:col and no stack trace', async () => {
  const cases: Array<[string, string | RegExp]> = [
    ['test/fixtures/bad/yaml-error.yaml', 'test/fixtures/bad/yaml-error.yaml:5:1: invalid YAML: flow map in block collection must be sufficiently indented and end with a }\n'],
    ['test/fixtures/bad/unknown-key.yaml', "test/fixtures/bad/unknown-key.yaml:7:14: missing required key 'page' in fault\ntest/fixtures/bad/unknown-key.yaml:7:23: unknown key 'pgae' in fault (expected one of: map, page, write, huge, expect); did you mean 'page'?\n"],
    ['test/fixtures/bad/unknown-map.yaml', "test/fixtures/bad/unknown-map.yaml:7:20: unknown map 'q' (maps defined: m)\n"],
    // the list of supported ops grows as the model does
    // ext2 has no ->huge_fault (its allocations are not 2 MiB aligned): huge files are refused
    ['test/fixtures/bad/unsupported-ext2-huge.yaml', /^test\/fixtures\/bad\/unsupported-ext2-huge\.yaml:5:11: huge: true on ext2 \(a\) is not modelled yet under v4\.12 \(supported: [^\n]+\)\n$/],
    ['test/fixtures/bad/missing.yaml', 'test/fixtures/bad/missing.yaml:1:1: cannot read scenario: no such file\n'],
  ];
  for (const [file, err] of cases) {
    for (const cmd of ['run', 'check']) {
      const r = await cli([cmd, file]);
      assert.equal(r.code, 2, `${cmd} ${file}`);
      const want = cmd === 'check' && file.endsWith('missing.yaml') ? 'test/fixtures/bad/missing.yaml:1:1: no such file or directory\n' : err;
      if (want instanceof RegExp) assert.match(r.err, want, `${cmd} ${file}`);
      else assert.equal(r.err, want, `${cmd} ${file}`);
      assert.equal(r.out, '', 'nothing half-written to stdout');
    }
  }
});

test('usage errors exit 2: unknown command, option, kernel, token; --help exits 0', async () => {
  assert.equal((await cli(['bogus'])).code, 2);
  assert.equal((await cli(['run'])).code, 2);
  assert.equal((await cli(['run', RACE, '--frobnicate'])).code, 2);
  assert.equal((await cli(['run', RACE, '--seed', '1', '--schedule', 's1-a'])).code, 2);
  const k = await cli(['run', RACE, '--kernel', 'v9.9']);
  assert.equal(k.code, 2);
  assert.match(k.err, /--kernel:1:1: unknown kernel profile 'v9.9' \(profiles: v4.6, v4.7[^)]*\)/);
  const t = await cli(['run', RACE, '--schedule', 's0-ab']);
  assert.equal(t.code, 2);
  assert.match(t.err, /schedule token format s0 is not supported/);
  const m = await cli(['run', RACE, '--kernel', 'v4.6', '--schedule', 's1-c']);
  assert.equal(m.code, 2);
  assert.match(m.err, /not runnable there: the schedule was recorded for another scenario or kernel/);
  assert.equal((await cli(['--help'])).code, 0);
});

test('run: the v4.6 race within 200 seeds; the printed token replays the same trace byte for byte', async () => {
  const r = await cli(['run', RACE, '--kernel', 'v4.6', '--runs', '200']);
  assert.equal(r.code, 1);
  assert.match(r.out, /seed \d+, the first of seeds 0\.\.199 that fails/);
  assert.match(r.out, /✗ fault-sigbus at step \d+, t\d/);
  const token = /^Reproduce: daxsim run \S+ --kernel v4\.6 --schedule (\S+)$/m.exec(r.out);
  assert.ok(token);
  const again = await cli(['run', RACE, '--kernel', 'v4.6', '--schedule', token[1]!]);
  assert.equal(again.code, 1);
  const body = (s: string) => s.slice(s.indexOf('\n\n'));
  assert.equal(body(again.out), body(r.out));
});

test('run: a reviewed golden trace of seed 12 (the ac401cc78242 interleaving) is reproduced exactly', async () => {
  const r = await cli(['run', RACE, '--kernel', 'v4.6', '--seed', '12']);
  assert.equal(r.code, 1);
  assert.equal(r.out, readFileSync('test/golden/write-fault-vs-read-fault-hole.v4.6.seed12.txt', 'utf8'));
});

test('run: v4.7 is clean and exits 0; the same seed prints the same bytes twice', async () => {
  const a = await cli(['run', RACE, '--kernel', 'v4.7', '--seed', '5']);
  const b = await cli(['run', RACE, '--kernel', 'v4.7', '--seed', '5']);
  assert.equal(a.code, 0);
  assert.equal(a.out, b.out);
  assert.match(a.out, /no violation/);
  const search = await cli(['run', RACE, '--kernel', 'v4.7', '--runs', '50']);
  assert.equal(search.code, 0);
  assert.match(search.out, /no violation in seeds 0\.\.49 \(sampled, not a proof\); seed 0 shown/);
});

test('run --reporter json: one document with events, violations and the token', async () => {
  const r = await cli(['run', RACE, '--kernel', 'v4.6', '--seed', '12', '--reporter', 'json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.out);
  assert.equal(doc.version, 1);
  assert.equal(doc.kernel, 'v4.6');
  assert.equal(doc.seed, '12');
  assert.match(doc.schedule, /^s1-/);
  assert.deepEqual(doc.violations.map((v: { id: string }) => v.id), ['kernel-warn', 'fault-sigbus']);
  assert.equal(doc.violations[1].line, 21);
  assert.ok(doc.events.some((e: { thread: string; text: string }) => e.thread === 't1' && e.text.startsWith('dax_load_hole')));
  assert.equal(doc.reproduce, `Reproduce: daxsim run ${RACE} --kernel v4.6 --schedule ${doc.schedule}`);
  assert.doesNotMatch(r.out, /\x1b\[/, 'no colour in machine output');
});

test('check: the bundled scenarios match their verdicts (exit 0); a wrong expectation exits 1 with a reproduce line', async () => {
  const ok = await cli(['check', 'scenarios/']);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /✓ scenarios\/write-fault-vs-read-fault-hole\.yaml  v4\.6  expected \[fault-sigbus, kernel-warn\], saw kernel-warn, fault-sigbus in \d+ executions: every interleaving explored \(DPOR\), proved/);
  assert.match(ok.out, /✓ scenarios\/write-fault-vs-read-fault-hole\.yaml  v4\.7  expected clean, saw no violation in \d+ executions: every interleaving explored \(DPOR\), proved/);
  // every bundled verdict fits check's exploration budget (50,000 executions): all are proofs
  assert.match(ok.out, /(\d+) of \1 verdicts matched \(\1 by exhaustive DPOR exploration, a proof\)/);
  const sampled = await cli(['check', 'scenarios/write-fault-vs-read-fault-hole.yaml', '--no-explore']);
  assert.equal(sampled.code, 0);
  assert.match(sampled.out, /✓ scenarios\/write-fault-vs-read-fault-hole\.yaml  v4\.6  expected \[fault-sigbus, kernel-warn\], saw .* in 1000 schedules \(sampled\)/);
  assert.match(sampled.out, /verdicts matched \(3 sampled with 1000 random schedules each: a sampled clean is evidence, not a proof\)/);
  const bad = await cli(['check', 'test/fixtures/bad/wrong-expect.yaml']);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /✗ test\/fixtures\/bad\/wrong-expect\.yaml  v4\.6  expected clean, saw /);
  assert.match(bad.out, /Reproduce: daxsim run test\/fixtures\/bad\/wrong-expect\.yaml --kernel v4\.6 --schedule s1-/);
  // (the whole directory was checked above; the JSON report of two files is enough here)
  const json = JSON.parse((await cli(['check', 'scenarios/write-fault-vs-read-fault-hole.yaml', 'scenarios/three-read-faults-on-hole.yaml', '--runs', '50', '--reporter', 'json'])).out);
  assert.equal(json.total, json.results.length);
  assert.equal(json.results.length, 6);
  assert.ok(json.results.every((x: { exploration: string }) => x.exploration === 'exhaustive'));
  // a budget too small for the three-fault scenario: its verdicts fall back to sampling and say so
  const small = await cli(['check', 'scenarios/three-read-faults-on-hole.yaml', '--runs', '20', '--max-executions', '100']);
  assert.equal(small.code, 0, small.out + small.err);
  assert.match(small.out, /three-read-faults-on-hole\.yaml  v4\.10  expected clean, saw no violation in 20 schedules \(sampled\)/);
  const jsonSampled = JSON.parse((await cli(['check', 'scenarios/', '--runs', '50', '--no-explore', '--reporter', 'json'])).out);
  assert.ok(jsonSampled.results.every((x: { schedules: number; exploration: string }) => x.schedules === 50 && x.exploration === 'sampled'));
});

test('kernels, invariants and schema describe what the code has', async () => {
  const k = await cli(['kernels']);
  assert.equal(k.code, 0);
  for (const f of Object.keys(FLAGS)) assert.match(k.out, new RegExp(`^${f} `, 'm'));
  for (const p of PROFILES) assert.ok(k.out.split('\n')[0]!.includes(p.name));
  const one = await cli(['kernels', 'v4.7']);
  assert.match(one.out, /on +dax_entry_lock\n {8}ac401cc78242 dax: New fault locking \(v4\.7\)/);
  assert.equal((await cli(['kernels', 'v5.0'])).code, 2);
  const inv = await cli(['invariants']);
  for (const i of INVARIANTS) assert.match(inv.out, new RegExp(`^${i.id} +${i.promise.slice(0, 20).replace(/[()]/g, '.')}`, 'm'));
  const schema = await cli(['schema']);
  assert.equal(schema.out, readFileSync('schema/scenario.schema.json', 'utf8'), 'the committed schema is the output of `daxsim schema`');
});

test('colour: --color/--no-color, then FORCE_COLOR, then a non-empty NO_COLOR, then the TTY', () => {
  const tty = { write: () => 0, isTTY: true };
  const pipe = { write: () => 0, isTTY: false };
  assert.equal(colorLevel(undefined, {}, tty), 1);
  assert.equal(colorLevel(undefined, {}, pipe), 0);
  assert.equal(colorLevel(undefined, { NO_COLOR: '1' }, tty), 0);
  assert.equal(colorLevel(undefined, { NO_COLOR: '' }, tty), 1);
  assert.equal(colorLevel(undefined, { NO_COLOR: '1', FORCE_COLOR: '1' }, pipe), 1);
  assert.equal(colorLevel(undefined, { FORCE_COLOR: '0' }, tty), 0);
  assert.equal(colorLevel(false, { FORCE_COLOR: '3' }, tty), 0);
  assert.equal(colorLevel(true, {}, pipe), 1);
  assert.equal(colorLevel(undefined, { TERM: 'dumb' }, tty), 0);
});
