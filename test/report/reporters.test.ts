// Every reporter against golden files of real runs (reviewed by eye when they
// were made), plus format checks that do not depend on the goldens: JUnit
// against the junit-10 XSD's rules, TAP 13's grammar, NDJSON line by line,
// GitHub workflow-command escaping.
//
// After an intended change of output: UPDATE_GOLDEN=1 npm test, then review
// `git diff test/golden/report/` before committing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cli } from '../helpers.js';
import { all, junitProblems, parseXml } from './junit-schema.js';
import { escapeData, escapeProperty, errorCommand } from '../../src/report/github.js';
import { removeInvalidXmlChars, xmlAttr, xmlText } from '../../src/report/junit.js';
import { printable } from '../../src/report/pretty.js';
import { REPORTERS } from '../../src/report/index.js';

const GOLDEN = 'test/golden/report';
const RACE = 'scenarios/write-fault-vs-read-fault-hole.yaml';
const ESCAPES = 'test/fixtures/report/escapes.yaml';
const EXT: Record<string, string> = { pretty: 'txt', json: 'json', ndjson: 'ndjson', junit: 'xml', tap: 'tap', github: 'github.txt' };

/** The real runs every reporter is shown on: [golden stem, args, exit code]. */
const RUNS: Array<[string, string[], number]> = [
  ['run-race-v4.6-seed12', ['run', RACE, '--kernel', 'v4.6', '--seed', '12'], 1],
  ['run-race-v4.7-seed5', ['run', RACE, '--kernel', 'v4.7', '--seed', '5'], 0],
  ['run-escapes-seed0', ['run', ESCAPES, '--seed', '0'], 1],
  ['check-scenarios-and-fixtures', ['check', 'test/fixtures/report/', '--runs', '100'], 1],
];

const update = process.env.UPDATE_GOLDEN === '1';

/** Machine reports list every behaviour flag of the profile; goldens keep them out, so adding a flag does not churn them (`daxsim kernels` is tested on its own). */
function normalise(out: string): string {
  return out.replace(/"flags": ?\{[^}]*\}/g, '"flags": "(every flag of the profile)"');
}

async function output(args: string[], reporter: string): Promise<{ code: number; out: string; err: string }> {
  return cli([...args, '--reporter', reporter]);
}

test('each reporter on real runs matches its reviewed golden file', async () => {
  if (update) mkdirSync(GOLDEN, { recursive: true });
  for (const [stem, args, code] of RUNS) {
    for (const reporter of REPORTERS) {
      const r = await output(args, reporter);
      const path = join(GOLDEN, `${stem}.${EXT[reporter]}`);
      assert.equal(r.err, '', `${stem} ${reporter}: nothing on stderr`);
      assert.equal(r.code, code, `${stem} ${reporter}: exit code`);
      const got = normalise(r.out);
      if (update) writeFileSync(path, got);
      assert.equal(got, readFileSync(path, 'utf8'), `${path} (UPDATE_GOLDEN=1 npm test to regenerate, then review the diff)`);
      assert.doesNotMatch(r.out, /\x1b\[/, `${stem} ${reporter}: no colour when stdout is not a terminal`);
    }
  }
});

test('the pretty golden of `run` is the one reviewed in test/golden (the reporter did not change it)', () => {
  assert.equal(readFileSync(join(GOLDEN, 'run-race-v4.6-seed12.txt'), 'utf8'), readFileSync('test/golden/write-fault-vs-read-fault-hole.v4.6.seed12.txt', 'utf8'));
});

test('junit: well-formed XML that follows the junit-10 XSD (testcase file/line aside); names unique; failures carry trace and reproduce line', () => {
  for (const [stem] of RUNS) {
    const doc = readFileSync(join(GOLDEN, `${stem}.xml`), 'utf8');
    const root = parseXml(doc);
    assert.deepEqual(junitProblems(root), [], stem);
    assert.equal(root.name, 'testsuites');
    const cases = all(root, 'testcase');
    assert.equal(Number(root.attrs.get('tests')), cases.length, `${stem}: tests= counts the testcases`);
    const failures = cases.filter((c) => c.children.some((x) => x.name === 'failure'));
    assert.equal(Number(root.attrs.get('failures')), failures.length, `${stem}: failures= counts them`);
    for (const suite of all(root, 'testsuite')) {
      const own = suite.children.filter((c) => c.name === 'testcase');
      assert.equal(Number(suite.attrs.get('tests')), own.length);
      assert.equal(Number(suite.attrs.get('skipped')), own.filter((c) => c.children.some((x) => x.name === 'skipped')).length);
    }
    const keys = cases.map((c) => `${c.attrs.get('classname')}\u0000${c.attrs.get('name')}`);
    assert.equal(new Set(keys).size, keys.length, `${stem}: classname+name unique`);
    for (const c of cases) {
      assert.ok(existsSync(c.attrs.get('file')!), `${stem}: file= names the scenario`);
      assert.match(c.attrs.get('line')!, /^[1-9]\d*$/);
      assert.doesNotMatch(c.attrs.get('classname')!, /\..*\./, 'one dot: Jenkins splits classname at the last one');
    }
    for (const c of failures) {
      const f = c.children.find((x) => x.name === 'failure')!;
      assert.ok(f.attrs.get('message'));
      if (f.text.includes('step  ')) assert.match(f.text, /\nReproduce: daxsim run \S+ --kernel \S+ --schedule s1-\S+\n$/, `${stem}: the trace ends with the reproduce line`);
    }
    assert.doesNotMatch(doc, /timestamp=|hostname=|time=/, 'nothing that differs between machines or runs');
  }
  // The escapes fixture: the value survives escaping; the characters XML cannot hold are gone.
  const esc = parseXml(readFileSync(join(GOLDEN, 'run-escapes-seed0.xml'), 'utf8'));
  const failure = all(esc, 'failure')[0]!;
  assert.match(failure.text, /<b a="1"> & 'q' 50% a:b,c \]\]>/);
  // A wrong expect: that was never seen points at the expect: entry (never-seen.yaml line 14).
  const check = parseXml(readFileSync(join(GOLDEN, 'check-scenarios-and-fixtures.xml'), 'utf8'));
  const never = all(check, 'testcase').find((c) => c.attrs.get('name') === 'report-never-seen [v4.7]')!;
  assert.equal(never.attrs.get('line'), '14');
  assert.match(never.children.find((x) => x.name === 'failure')!.text, /not seen: stale-mapping/);
  const skipped = all(check, 'testcase').find((c) => c.attrs.get('name') === 'report-no-expect')!;
  assert.equal(skipped.children[0]!.name, 'skipped');
});

test('junit: the structural check itself rejects what the XSD rejects', () => {
  const ok = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x"/></testsuite></testsuites>\n';
  assert.deepEqual(junitProblems(parseXml(ok)), []);
  const bad = [
    ok.replace(' errors="0"', ''), // a required attribute missing
    ok.replace('<testcase name="x"/>', '<testcase name="x" timestamp="now"/>'), // an attribute testcase does not have
    ok.replace('<testcase name="x"/>', '<testcase name="x"><failure><b/></failure></testcase>'), // an element in failure
    ok.replace('<testcase name="x"/>', '<testcase name="x"><property name="a" value="b"/></testcase>'), // property outside properties
    ok.replace('<testsuites>', '<testsuites time="1.5s">'), // not a surefire time
  ];
  for (const b of bad) assert.notDeepEqual(junitProblems(parseXml(b)), [], b);
  assert.throws(() => parseXml(ok.replace('name="x"', 'name="a & b"')), /bare '&'/);
  assert.throws(() => parseXml(ok.replace('name="x"', 'name="\u0001"')), /does not allow/);
  assert.throws(() => parseXml(ok.replace('</testsuite>', '')), /does not close/);
});

test('xml escaping: entities, attribute whitespace, characters XML 1.0 cannot hold', () => {
  assert.equal(xmlText('a<b>&c ]]>'), 'a&lt;b&gt;&amp;c ]]&gt;');
  assert.equal(xmlAttr(`"q" 'a'\n\tx\r`), '&quot;q&quot; &apos;a&apos;&#10;&#9;x&#13;');
  assert.equal(removeInvalidXmlChars('a\u0000b\u0008c\u000bd\u001fe\ud800f\uffffg\u{1f600}h\t\n\r'), 'abcdefg\u{1f600}h\t\n\r');
  const root = parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n<p v="${xmlAttr('x\u0001"<&>\n')}">${xmlText('y\u0002<&>')}</p>\n`);
  assert.equal(root.attrs.get('v'), 'x"<&>\n');
  assert.equal(root.text, 'y<&>');
});

test('tap: version 13, test points numbered in order, YAML blocks indented two spaces that parse, the plan counts them', () => {
  for (const [stem] of RUNS) {
    const lines = readFileSync(join(GOLDEN, `${stem}.tap`), 'utf8').split('\n');
    assert.equal(lines[0], 'TAP version 13');
    assert.equal(lines[lines.length - 1], '', 'ends with a newline');
    let n = 0;
    let plan: number | null = null;
    for (let i = 1; i < lines.length - 1; i++) {
      const l = lines[i]!;
      const point = /^(not ok|ok) (\d+) - ([^#]+?)( # SKIP .+)?$/.exec(l);
      if (point) {
        assert.equal(Number(point[2]), ++n, `${stem}: test point ${n} in order`);
        if (lines[i + 1] === '  ---') {
          const end = lines.indexOf('  ...', i + 2);
          assert.ok(end > i, `${stem}: the YAML block ends with '  ...'`);
          const body = lines.slice(i + 2, end);
          for (const b of body) assert.ok(b === '' || b.startsWith('  '), `${stem}: YAML lines are indented two spaces: ${JSON.stringify(b)}`);
          const y = parseYaml(body.map((b) => b.slice(2)).join('\n')) as Record<string, unknown>;
          for (const k of ['message', 'file', 'line', 'col', 'kernel', 'expected', 'seen', 'schedules']) assert.ok(k in y, `${stem}: ${k} in the YAML block`);
          if (point[1] === 'not ok') assert.ok(typeof y.reproduce === 'string' || Array.isArray(y.missing), `${stem}: a failure says how to reproduce it or what was missing`);
          i = end;
        }
        continue;
      }
      const p = /^1\.\.(\d+)$/.exec(l);
      if (p) {
        assert.equal(plan, null, 'one plan');
        plan = Number(p[1]);
        continue;
      }
      assert.match(l, /^# /, `${stem}: only test points, YAML blocks, the plan and comments: ${JSON.stringify(l)}`);
    }
    assert.equal(plan, n, `${stem}: the plan counts the test points`);
  }
  const esc = readFileSync(join(GOLDEN, 'run-escapes-seed0.tap'), 'utf8');
  const block = esc.slice(esc.indexOf('  ---\n') + 6, esc.indexOf('  ...\n'));
  const y = parseYaml(block.split('\n').map((b) => b.slice(2)).join('\n')) as { trace: string };
  assert.match(y.trace, /<b a="1"> & 'q' 50% a:b,c \]\]>/);
});

test('ndjson: one JSON object per line; start first with version; stable types; counts add up', () => {
  for (const [stem, , code] of RUNS) {
    const text = readFileSync(join(GOLDEN, `${stem}.ndjson`), 'utf8');
    assert.ok(text.endsWith('\n'));
    const objs = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(objs[0]!.type, 'start');
    assert.equal(objs[0]!.version, 1);
    assert.equal(objs[objs.length - 1]!.type, 'end');
    assert.equal(objs[objs.length - 1]!.exitCode, code);
    for (const o of objs) assert.ok(['start', 'event', 'violation', 'case', 'end'].includes(o.type as string), String(o.type));
    const cases = objs.filter((o) => o.type === 'case');
    assert.equal(cases.length, objs[0]!.cases);
    const end = objs[objs.length - 1]!;
    assert.equal(end.total, cases.length);
    assert.equal(end.failed, cases.filter((c) => c.status === 'fail').length);
    for (const c of cases) {
      for (const k of ['name', 'scenario', 'file', 'line', 'col', 'kernel', 'status', 'expected', 'seen', 'missing', 'unexpected', 'schedules', 'exploration', 'seed', 'schedule', 'reproduce']) {
        assert.ok(k in c, `${stem}: case field ${k}`);
      }
    }
    for (const v of objs.filter((o) => o.type === 'violation')) {
      for (const k of ['case', 'id', 'step', 'thread', 'message', 'file', 'line', 'col']) assert.ok(k in v, `${stem}: violation field ${k}`);
    }
    for (const e of objs.filter((o) => o.type === 'event')) {
      for (const k of ['case', 'step', 'thread', 'kind', 'text']) assert.ok(k in e, `${stem}: event field ${k}`);
    }
  }
});

test('github: toolkit escaping; annotations point at the op of the violation; the text report is printed too', () => {
  assert.equal(escapeData('50% a:b,c\r\nx'), '50%25 a:b,c%0D%0Ax');
  assert.equal(escapeProperty('50% a:b,c\r\nx'), '50%25 a%3Ab%2Cc%0D%0Ax');
  assert.equal(
    errorCommand({ file: 'scenarios/a,b.yaml', line: 7, col: 15, title: 'invariant: durability', message: 'lost write\n50% of data' }),
    '::error file=scenarios/a%2Cb.yaml,line=7,col=15,title=invariant%3A durability::lost write%0A50%25 of data\n',
  );
  const run = readFileSync(join(GOLDEN, 'run-race-v4.6-seed12.github.txt'), 'utf8');
  assert.ok(run.startsWith(readFileSync(join(GOLDEN, 'run-race-v4.6-seed12.txt'), 'utf8')), 'the full pretty report first');
  const ann = run.split('\n').filter((l) => l.startsWith('::error '));
  assert.equal(ann.length, 2);
  for (const a of ann) assert.match(a, /^::error file=scenarios\/write-fault-vs-read-fault-hole\.yaml,line=21,col=7,title=daxsim%3A (kernel-warn|fault-sigbus) in write-fault-vs-read-fault-hole on v4\.6::/);
  // A value from the scenario can never start a line of its own (it would be read as a command).
  const esc = readFileSync(join(GOLDEN, 'run-escapes-seed0.github.txt'), 'utf8');
  assert.equal(esc.split('\n').filter((l) => l.startsWith('::')).length, 1);
  assert.doesNotMatch(esc, /[\x00-\x08\x0b-\x1f]/, 'no raw control characters in the log');
  const check = readFileSync(join(GOLDEN, 'check-scenarios-and-fixtures.github.txt'), 'utf8');
  assert.match(check, /^::group::trace: report-escapes \[v4\.7\]$/m);
  assert.match(check, /^::error file=test\/fixtures\/report\/never-seen\.yaml,line=14,col=3,title=/m);
  assert.match(check, /^::error file=test\/fixtures\/report\/escapes\.yaml,line=14,col=7,title=/m);
});

test('printable: control characters from a scenario are shown as escapes', () => {
  assert.equal(printable('a\nb\tc\r\u0001\u001b[31m\u009b\u2028ok ✗'), 'a\\nb\\tc\\r\\x01\\x1b[31m\\x9b\\u2028ok ✗');
});

test('--reporter-out writes the report atomically and shows the pretty report on stdout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-out-'));
  try {
    for (const reporter of REPORTERS) {
      const file = join(dir, `report.${EXT[reporter]}`);
      const r = await cli(['run', RACE, '--kernel', 'v4.6', '--seed', '12', '--reporter', reporter, '--reporter-out', file]);
      assert.equal(r.code, 1);
      assert.equal(r.out, readFileSync(join(GOLDEN, 'run-race-v4.6-seed12.txt'), 'utf8'), 'stdout: the pretty report');
      assert.equal(normalise(readFileSync(file, 'utf8')), readFileSync(join(GOLDEN, `run-race-v4.6-seed12.${EXT[reporter]}`), 'utf8'), `${reporter} in the file`);
    }
    const c = await cli(['check', 'scenarios/', '--runs', '20', '--reporter', 'junit', '--reporter-out', join(dir, 'daxsim.xml')]);
    assert.equal(c.code, 0);
    assert.deepEqual(junitProblems(parseXml(readFileSync(join(dir, 'daxsim.xml'), 'utf8'))), []);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
    // Unwritable destinations: exit 2 with a file:line:col message, checked before running, nothing written.
    for (const bad of [join(dir, 'no-such-dir', 'r.xml'), dir]) {
      for (const cmd of [['run', RACE, '--seed', '1'], ['check', 'scenarios/', '--runs', '1']]) {
        const r = await cli([...cmd, '--reporter', 'junit', '--reporter-out', bad]);
        assert.equal(r.code, 2);
        assert.equal(r.out, '');
        assert.match(r.err, /^--reporter-out:1:1: cannot write .*: (its directory .* does not exist|it is a directory)\n$/);
      }
    }
    const t = await cli(['run', RACE, '--seed', '1', '--trace-out', join(dir, 'nope', 't.json')]);
    assert.equal(t.code, 2);
    assert.match(t.err, /^--trace-out:1:1: cannot write /);
    assert.ok(!existsSync(join(dir, 'nope')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
