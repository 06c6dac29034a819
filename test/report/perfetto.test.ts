// run --trace-out: Chrome Trace Event JSON that Perfetto and chrome://tracing
// load. Checked on real runs of every bundled scenario and on a hand-made
// trace with nested kernel functions, sleeps and wakeups: the required fields,
// slices nesting per thread, every flow start paired with one finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, run, scenario } from '../helpers.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { chromeTraceJson, toChromeTrace, type ChromeTraceEvent } from '../../src/report/perfetto.js';
import type { RunResult } from '../../src/check/run.js';
import type { TraceEvent } from '../../src/sim/engine.js';

type Ev = ChromeTraceEvent & Record<string, unknown>;

/** Every problem a trace viewer would have with this document (empty when it loads cleanly). */
function traceProblems(doc: unknown): string[] {
  const p: string[] = [];
  const d = doc as { traceEvents?: Ev[]; displayTimeUnit?: string };
  if (!Array.isArray(d.traceEvents)) return ['no traceEvents array'];
  if (d.displayTimeUnit !== 'ms' && d.displayTimeUnit !== 'ns') p.push('displayTimeUnit is ms or ns');
  const named = new Set<number>();
  let process = false;
  for (const e of d.traceEvents) {
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || typeof e.pid !== 'number' || typeof e.tid !== 'number') {
      p.push(`missing name/ph/pid/tid: ${JSON.stringify(e)}`);
      continue;
    }
    if (e.ph === 'M') {
      if (e.name === 'thread_name' && typeof (e.args as { name?: unknown })?.name === 'string') named.add(e.tid);
      if (e.name === 'process_name' && typeof (e.args as { name?: unknown })?.name === 'string') process = true;
      continue;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) p.push(`bad ts: ${JSON.stringify(e)}`);
    if (e.ph === 'X' && (typeof e.dur !== 'number' || e.dur < 0)) p.push(`X without dur: ${JSON.stringify(e)}`);
    if (e.ph === 'i' && !['g', 'p', 't'].includes(e.s as string)) p.push(`instant without scope: ${JSON.stringify(e)}`);
    if ((e.ph === 's' || e.ph === 'f') && typeof e.id !== 'number') p.push(`flow without id: ${JSON.stringify(e)}`);
    if (!['X', 'i', 's', 'f'].includes(e.ph)) p.push(`unexpected phase ${e.ph}`);
  }
  if (!process) p.push('no process_name metadata');
  // Every thread with events has a name.
  for (const e of d.traceEvents) if (e.ph !== 'M' && !(e.ph === 'i' && e.s === 'g') && !named.has(e.tid)) p.push(`tid ${e.tid} has no thread_name`);
  // Complete events nest per thread: sorted by start (longer first), each lies inside the enclosing one.
  const byTid = new Map<number, Ev[]>();
  for (const e of d.traceEvents) if (e.ph === 'X') (byTid.get(e.tid) ?? byTid.set(e.tid, []).get(e.tid)!).push(e);
  for (const [tid, xs] of byTid) {
    xs.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const stack: Ev[] = [];
    for (const x of xs) {
      while (stack.length > 0 && stack[stack.length - 1]!.ts! + stack[stack.length - 1]!.dur! <= x.ts!) stack.pop();
      const top = stack[stack.length - 1];
      if (top && x.ts! + x.dur! > top.ts! + top.dur!) p.push(`tid ${tid}: '${x.name}' [${x.ts}, ${x.ts! + x.dur!}) overlaps '${top.name}' [${top.ts}, ${top.ts! + top.dur!})`);
      stack.push(x);
    }
  }
  // Flows pair up: one s and one f per id, the f not before the s, each inside a slice of its thread.
  const flows = new Map<number, { s: Ev[]; f: Ev[] }>();
  for (const e of d.traceEvents) {
    if (e.ph !== 's' && e.ph !== 'f') continue;
    const f = flows.get(e.id!) ?? flows.set(e.id!, { s: [], f: [] }).get(e.id!)!;
    f[e.ph].push(e);
  }
  for (const [id, f] of flows) {
    if (f.s.length !== 1 || f.f.length !== 1) {
      p.push(`flow ${id}: ${f.s.length} starts, ${f.f.length} finishes`);
      continue;
    }
    if (f.f[0]!.ts! < f.s[0]!.ts!) p.push(`flow ${id} finishes before it starts`);
    if (f.f[0]!.bp !== 'e') p.push(`flow ${id}: the finish binds to the enclosing slice (bp: e)`);
    for (const e of [f.s[0]!, f.f[0]!]) {
      const inside = (byTid.get(e.tid) ?? []).some((x) => x.ts! <= e.ts! && e.ts! <= x.ts! + x.dur!);
      if (!inside) p.push(`flow ${id} ${e.ph} at ${e.ts} on tid ${e.tid} is in no slice`);
    }
  }
  return p;
}

const ev = (step: number, thread: number, kind: TraceEvent['kind'], text: string, other?: number): TraceEvent =>
  other === undefined ? { step, thread, kind, text } : { step, thread, kind, text, other };

/** A hand-made run with what the kernel model records: nested functions, a sleep on a lock, a wakeup, a violation, a deadlocked end. */
function syntheticRun(): RunResult {
  const trace: TraceEvent[] = [
    ev(1, 0, 'op', 'fault m:0 write'),
    ev(1, 0, 'enter', 'ext4_dax_fault'),
    ev(1, 0, 'log', 'down_read(i_mmap_sem a)'),
    ev(1, 0, 'enter', 'dax_fault'),
    ev(2, 1, 'op', 'truncate a 0'),
    ev(2, 1, 'enter', 'ext4_setattr'),
    ev(2, 1, 'block', 'waits in down_write(i_mmap_sem a)'),
    ev(3, 0, 'enter', 'grab_mapping_entry'),
    ev(3, 0, 'exit', 'grab_mapping_entry'),
    ev(3, 0, 'exit', 'dax_fault'),
    ev(3, 0, 'log', 'up_read(i_mmap_sem a)'),
    ev(3, 0, 'wake', 'wakes t1', 1),
    ev(3, 0, 'exit', 'ext4_dax_fault'),
    ev(3, 0, 'result', 'fault -> ok'),
    ev(4, 1, 'log', 'down_write(i_mmap_sem a)'),
    ev(4, 1, 'enter', 'truncate_pagecache'),
    ev(5, 1, 'exit', 'truncate_pagecache'),
    ev(5, 1, 'violation', 'stale-mapping: m:0 maps blk 0, freed'),
    ev(6, 0, 'op', 'load m:0'),
    ev(6, 0, 'block', 'waits in lock_page(a:0)'),
    ev(7, 1, 'block', 'waits in inode_dio_wait(a)'),
    ev(7, -1, 'violation', 'deadlock: every unfinished thread is blocked'),
  ];
  return {
    scenario: 'synthetic',
    file: 'synthetic.yaml',
    kernel: 'v4.7',
    flags: {} as RunResult['flags'],
    seed: '1',
    schedule: 's1-ab',
    steps: 7,
    threads: ['t0', 't1'],
    violations: [
      { id: 'stale-mapping', step: 5, thread: 't1', message: 'm:0 maps blk 0, freed', op: { index: 0, pos: { line: 9, col: 7 } } },
      { id: 'deadlock', step: 7, thread: null, message: 'every unfinished thread is blocked', op: null },
    ],
    trace,
  };
}

test('a hand-made trace with nested functions, a sleep, a wakeup and a deadlock exports as nested slices, a wait and a paired flow', () => {
  const t = toChromeTrace(syntheticRun(), '0.1.0');
  const doc = JSON.parse(chromeTraceJson(t));
  assert.deepEqual(traceProblems(doc), []);
  const xs = (doc.traceEvents as Ev[]).filter((e) => e.ph === 'X');
  const by = (name: string) => xs.find((x) => x.name === name)!;
  assert.deepEqual([by('fault m:0 write').ts, by('fault m:0 write').dur], [1000, 3000], 'an op spans from its step to the end of its result step');
  assert.ok(by('dax_fault').ts! > by('ext4_dax_fault').ts! && by('dax_fault').ts! + by('dax_fault').dur! <= by('ext4_dax_fault').ts! + by('ext4_dax_fault').dur!);
  const wait = by('waits in down_write(i_mmap_sem a)');
  assert.equal(wait.tid, 2);
  assert.equal(wait.ts! + wait.dur!, 4000, 'the wait lasts until t1 next runs');
  assert.equal(by('load m:0').args!.unfinished, true, 'what the deadlock left open is closed at the end of the run');
  const flows = (doc.traceEvents as Ev[]).filter((e) => e.ph === 's' || e.ph === 'f');
  assert.deepEqual(flows.map((f) => [f.ph, f.tid, f.ts]), [['s', 1, 3000 + Math.floor((4 * 1000) / 7)], ['f', 2, 4000]]);
  const inst = (doc.traceEvents as Ev[]).filter((e) => e.ph === 'i' && e.cat === 'violation');
  assert.deepEqual(inst.map((i) => [i.name, i.s, i.tid]), [['✗ stale-mapping', 't', 2], ['✗ deadlock', 'g', 0]]);
  assert.equal(inst[0]!.args!.line, 9);
  const meta = (doc.traceEvents as Ev[]).filter((e) => e.ph === 'M').map((e) => [e.name, e.tid, (e.args as { name: string }).name]);
  assert.deepEqual(meta, [['process_name', 0, 'synthetic on v4.7, seed 1'], ['thread_name', 1, 't0'], ['thread_name', 2, 't1']]);
});

test('real runs of every bundled scenario export valid, nesting traces', () => {
  const vocab = vocabulary();
  let waits = 0;
  let flows = 0;
  for (const f of readdirSync('scenarios').filter((n) => n.endsWith('.yaml')).sort()) {
    const scn = loadScenarioFile(join('scenarios', f), vocab);
    for (const e of scn.expect) {
      for (let seed = 0; seed < 20; seed++) {
        const r = run(scn, { kernel: e.kernel, seed: String(seed), record: true });
        const doc = JSON.parse(chromeTraceJson(toChromeTrace(r, '0.1.0')));
        assert.deepEqual(traceProblems(doc), [], `${f} ${e.kernel} seed ${seed}`);
        const evs = doc.traceEvents as Ev[];
        const ops = r.trace.filter((x) => x.kind === 'op').length;
        assert.equal(evs.filter((x) => x.ph === 'X' && x.cat === 'op').length, ops, 'one slice per op');
        assert.equal(evs.filter((x) => x.ph === 'i' && x.cat === 'violation').length, r.violations.length, 'one instant per violation');
        waits += evs.filter((x) => x.cat === 'wait').length;
        flows += evs.filter((x) => x.ph === 's').length;
      }
    }
  }
  assert.ok(waits > 0 && flows > 0, 'the bundled scenarios do sleep and wake');
});

test('run --trace-out writes the trace file atomically; the golden of seed 5 under v4.7 (a wait on the entry lock) is stable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-trace-'));
  try {
    const out = join(dir, 'race.json');
    const r = await cli(['run', 'scenarios/write-fault-vs-read-fault-hole.yaml', '--kernel', 'v4.7', '--seed', '5', '--trace-out', out]);
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    const text = readFileSync(out, 'utf8');
    assert.deepEqual(traceProblems(JSON.parse(text)), []);
    const golden = 'test/golden/report/trace-race-v4.7-seed5.json';
    if (process.env.UPDATE_GOLDEN === '1') (await import('node:fs')).writeFileSync(golden, text);
    assert.equal(text, readFileSync(golden, 'utf8'));
    assert.match(text, /"name":"waits in get_unlocked_mapping_entry\(a:0\) \[entry locked by t0\]","cat":"wait","ph":"X"/);
    assert.deepEqual(readdirSync(dir), ['race.json'], 'no temporary file left beside it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a trace of a scenario with an odd stored value is still valid JSON', () => {
  const scn = scenario(`name: odd
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - store: {map: m, page: 0, value: "\\u0000\\"\\n\\u2028</script>"}
`);
  const r = run(scn, { kernel: 'v4.7', seed: '0', record: true });
  const doc = JSON.parse(chromeTraceJson(toChromeTrace(r, '0.1.0')));
  assert.deepEqual(traceProblems(doc), []);
  assert.ok((doc.traceEvents as Ev[]).some((e) => e.name.includes('\u0000"\n\u2028</script>')));
});
