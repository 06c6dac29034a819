// fuzz and explore from the command line: determinism across workers and shards, proofs, shrinking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers.js';
import { fuzzCommand, type FuzzOpts } from '../../src/cli/fuzz.js';
import { exploreScenario } from '../../src/check/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { readdirSync } from 'node:fs';

const RACE = 'scenarios/write-fault-vs-read-fault-hole.yaml';

test('fuzz: the same bytes for --jobs 1 and --jobs 2, stopping or with --keep-going', async () => {
  for (const extra of [[], ['--keep-going', '--runs', '3000'], ['--strategy', 'random', '--runs', '700']]) {
    const one = await cli(['fuzz', RACE, '--kernel', 'v4.6', ...extra, '--jobs', '1']);
    const two = await cli(['fuzz', RACE, '--kernel', 'v4.6', ...extra, '--jobs', '2']);
    assert.equal(one.code, 1);
    assert.equal(two.code, 1);
    assert.equal(two.out, one.out, extra.join(' '));
    assert.match(one.out, /^Reproduce: daxsim run \S+ --kernel v4\.6 --schedule s1-\S+$/m);
  }
  const clean1 = await cli(['fuzz', RACE, '--kernel', 'v4.7', '--runs', '2000', '--jobs', '1']);
  const clean2 = await cli(['fuzz', RACE, '--kernel', 'v4.7', '--runs', '2000', '--jobs', '2']);
  assert.equal(clean1.code, 0);
  assert.equal(clean2.out, clean1.out);
  assert.match(clean1.out, /PCT bound: P\(miss a depth-3 bug\) <= \(1 - 1\/\(n\*k\^\(d-1\)\)\)\^runs = \(1 - 1\/\(2\*\d+\^2\)\)\^2000 = /);
});

test('fuzz: the printed schedule replays the violation', async () => {
  const r = await cli(['fuzz', RACE, '--kernel', 'v4.6', '--strategy', 'random']);
  const token = /--schedule (\S+)$/m.exec(r.out)![1]!;
  const replay = await cli(['run', RACE, '--kernel', 'v4.6', '--schedule', token]);
  assert.equal(replay.code, 1);
  assert.match(replay.out, /✗ fault-sigbus/);
});

test('fuzz: shards partition the seeds; their union is the unsharded run', async () => {
  const all = JSON.parse((await cli(['fuzz', RACE, '--kernel', 'v4.6', '--keep-going', '--runs', '600', '--strategy', 'random', '--reporter', 'json'])).out);
  let total = 0;
  const first = new Map<string, number>();
  for (const i of [1, 2, 3]) {
    const part = JSON.parse((await cli(['fuzz', RACE, '--kernel', 'v4.6', '--keep-going', '--runs', '600', '--strategy', 'random', '--shard', `${i}/3`, '--reporter', 'json'])).out);
    total += part.results[0].schedules;
    for (const v of part.results[0].violations) {
      const key = `${v.id}@${v.place}`;
      assert.equal(v.firstSeed % 3, i - 1, 'a shard only runs its own seeds');
      first.set(key, Math.min(first.get(key) ?? Infinity, v.firstSeed));
    }
  }
  assert.equal(total, all.results[0].schedules);
  const whole = new Map<string, number>(all.results[0].violations.map((v: { id: string; place: string; firstSeed: number }) => [`${v.id}@${v.place}`, v.firstSeed]));
  assert.deepEqual([...first.entries()].sort(), [...whole.entries()].sort());
  assert.equal((await cli(['fuzz', RACE, '--shard', '4/3'])).code, 2);
  assert.equal((await cli(['fuzz', RACE, '--shard', 'x'])).code, 2);
});

test('fuzz: an interrupt prints the summary so far and exits 130', async () => {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => 0 }, env: {} };
  const opts: FuzzOpts = { kernel: 'v4.7', strategy: 'pct', depth: 3, runs: 100_000, jobs: 1, shard: { i: 1, n: 1 }, reporter: 'pretty' };
  let chunks = 0;
  const code = await fuzzCommand([RACE], opts, io, () => ++chunks > 2);
  assert.equal(code, 130);
  assert.match(out, /: 512 schedules \(pct d=3, seeds 0\.\.511\), interrupted/);
});

test('explore: a proof on v4.7, the violation on v4.6, and --preemptions bounds the search', async () => {
  const v47 = await cli(['explore', RACE, '--kernel', 'v4.7']);
  assert.equal(v47.code, 0);
  assert.match(v47.out, /\d+ executions explored by dynamic partial-order reduction/);
  assert.match(v47.out, /no violation in any interleaving: a proof for this scenario and kernel/);
  const v46 = await cli(['explore', RACE, '--kernel', 'v4.6']);
  assert.equal(v46.code, 1);
  assert.match(v46.out, /✗ fault-sigbus in \d+ of \d+ executions/);
  assert.match(v46.out, /^Reproduce: /m);
  const b = await cli(['explore', RACE, '--kernel', 'v4.7', '--preemptions', '1']);
  assert.match(b.out, /no violation in any schedule with at most 1 preemption: a proof for this scenario and kernel within the bound/);
  const cut = await cli(['explore', RACE, '--kernel', 'v4.7', '--no-dpor', '--max-executions', '10']);
  assert.match(cut.out, /the search is incomplete, this is no proof/);
});

test('DPOR finds every violation a 2-preemption DFS finds, on every bundled scenario and kernel', () => {
  for (const f of readdirSync('scenarios').filter((n) => n.endsWith('.yaml')).sort()) {
    const scn = loadScenarioFile(`scenarios/${f}`, vocabulary());
    for (const e of scn.expect) {
      const dpor = exploreScenario(scn, { kernel: e.kernel });
      const dfs = exploreScenario(scn, { kernel: e.kernel, dpor: false, preemptions: 2 });
      assert.ok(dpor.complete && dfs.complete, `${f} ${e.kernel}`);
      const d = [...dpor.tokens.keys()].sort();
      for (const id of dfs.tokens.keys()) assert.ok(d.includes(id), `${f} ${e.kernel}: DFS found ${id}, DPOR did not`);
      assert.deepEqual(d, e.verdict === 'clean' ? [] : [...e.verdict].sort(), `${f} ${e.kernel}: the expected verdict, proved`);
    }
  }
});


test('fuzz and explore speak every reporter: TAP, JUnit, GitHub annotations at the op, NDJSON', async () => {
  const tap = await cli(['fuzz', RACE, '--kernel', 'v4.6', '--reporter', 'tap']);
  assert.equal(tap.code, 1);
  assert.match(tap.out, /^TAP version 13\nnot ok 1 - write-fault-vs-read-fault-hole \[v4\.6\]\n/);
  assert.match(tap.out, /^1\.\.1$/m);
  const gh = await cli(['fuzz', RACE, '--kernel', 'v4.6', '--reporter', 'github']);
  assert.match(gh.out, /^::error file=scenarios\/write-fault-vs-read-fault-hole\.yaml,line=\d+,col=\d+,title=daxsim%3A fault-sigbus in write-fault-vs-read-fault-hole on v4\.6::/m);
  const nd = await cli(['fuzz', RACE, '--kernel', 'v4.7', '--runs', '300', '--reporter', 'ndjson']);
  assert.equal(nd.code, 0);
  const lines = nd.out.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].type, 'start');
  assert.equal(lines[lines.length - 1].type, 'end');
  const junit = await cli(['explore', RACE, '--kernel', 'v4.7', '--reporter', 'junit']);
  assert.equal(junit.code, 0);
  assert.match(junit.out, /<testsuites name="daxsim explore" tests="1" failures="0"/);
  const wrong = await cli(['explore', 'test/fixtures/bad/wrong-expect.yaml', '--reporter', 'tap']);
  assert.equal(wrong.code, 1, 'explore judges the case by the scenario\'s expect: for the kernel');
  assert.match(wrong.out, /^not ok 1 - wrong-expect \[v4\.6\]$/m);
});
