// Exhaustive exploration: DPOR must reach every final state plain DFS reaches,
// on generated programs small enough for DFS to finish, and explore fewer
// executions where steps are independent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, type ThreadBody } from '../../src/sim/engine.js';
import { explore, type Execution, type ExploreOptions } from '../../src/sim/explore.js';
import { makeRng } from '../../src/sim/rng.js';
import { Mutex } from '../../src/sim/sync.js';

type Instr = { k: 'read'; v: number } | { k: 'write'; v: number } | { k: 'lock'; m: number } | { k: 'unlock'; m: number } | { k: 'warn'; v: number; eq: number };

/** A random program: threads of reads, writes and nested lock/unlock pairs over a few variables and mutexes. */
function genProgram(seed: string): Instr[][] {
  const rng = makeRng(seed);
  const nThreads = rng.below(3) === 0 ? 3 : 2;
  const prog: Instr[][] = [];
  for (let t = 0; t < nThreads; t++) {
    const ins: Instr[] = [];
    const n = 1 + rng.below(2);
    for (let i = 0; i < n; i++) {
      const v = rng.below(3);
      const body: Instr[] = rng.below(2) ? [{ k: 'read', v }, { k: 'write', v }] : [{ k: 'write', v }];
      if (rng.below(3) === 0) body.push({ k: 'warn', v: rng.below(3), eq: rng.below(3) });
      if (rng.below(2)) {
        const m = rng.below(2);
        ins.push({ k: 'lock', m }, ...body, { k: 'unlock', m });
      } else {
        ins.push(...body);
      }
    }
    prog.push(ins);
  }
  return prog;
}

/** Runs programs on the engine: variables are shared objects 1000+v; each access is one step. */
function build(prog: Instr[][], finals: Set<string>): () => Execution {
  return () => {
    const sim = new Sim({ record: false, maxSteps: 1000, track: true });
    const vars = [0, 0, 0];
    const varObj = sim.obj(3);
    const locks = [new Mutex(sim, 'A', 'A'), new Mutex(sim, 'B', 'B')];
    let finished = 0;
    prog.forEach((ins, tid) => {
      sim.spawn(`t${tid}`, () => (function* (): ThreadBody {
        let acc = 0;
        for (const i of ins) {
          if (i.k === 'lock') {
            yield* locks[i.m]!.lock(sim);
            continue;
          }
          if (i.k === 'unlock') {
            yield;
            locks[i.m]!.unlock(sim);
            continue;
          }
          yield;
          if (i.k === 'read') {
            sim.touch(varObj + i.v, false);
            acc = vars[i.v]!;
          } else if (i.k === 'write') {
            sim.touch(varObj + i.v, true);
            vars[i.v] = acc + tid + 1;
          } else {
            sim.touch(varObj + i.v, false);
            if (vars[i.v] === i.eq) sim.violate('kernel-warn', `v${i.v} == ${i.eq}`);
          }
        }
        finished++;
        if (finished === prog.length) finals.add(vars.join(','));
      })());
    });
    return {
      sim,
      run: (s) => {
        sim.run(s);
        if (!sim.aborted && finished < prog.length) finals.add(`stuck:${vars.join(',')}`);
      },
    };
  };
}

function outcomes(prog: Instr[][], opts: ExploreOptions) {
  const finals = new Set<string>();
  const r = explore(build(prog, finals), opts);
  return { r, finals: [...finals].sort(), ids: r.violations.map((v) => v.id).sort() };
}

test('DPOR reaches every final state and violation plain DFS reaches (150 generated programs)', () => {
  let smaller = 0;
  let compared = 0;
  for (let s = 0; s < 600 && compared < 150; s++) {
    const prog = genProgram(`p${s}`);
    const dfs = outcomes(prog, { dpor: false, maxExecutions: 4_000 });
    if (!dfs.r.complete) continue;
    compared++;
    const dpor = outcomes(prog, { dpor: true, maxExecutions: 20_000 });
    assert.ok(dpor.r.complete, `program p${s}`);
    assert.deepEqual(dpor.finals, dfs.finals, `final states of p${s}: ${JSON.stringify(prog)}`);
    assert.deepEqual(dpor.ids, dfs.ids, `violations of p${s}`);
    assert.ok(dpor.r.executions <= dfs.r.executions, `p${s}: ${dpor.r.executions} > ${dfs.r.executions}`);
    if (dpor.r.executions < dfs.r.executions) smaller++;
  }
  assert.ok(compared >= 150, `only ${compared} programs small enough`);
  console.log(`compared DPOR with DFS on ${compared} programs; DPOR explored fewer executions on ${smaller}`);
  assert.ok(smaller > compared / 2, `DPOR explored fewer executions on ${smaller} of ${compared}`);
});

test('independent threads: DPOR explores one execution, DFS all interleavings', () => {
  const prog: Instr[][] = [
    [{ k: 'write', v: 0 }, { k: 'write', v: 0 }],
    [{ k: 'write', v: 1 }, { k: 'write', v: 1 }],
    [{ k: 'write', v: 2 }],
  ];
  const dfs = outcomes(prog, { dpor: false, maxExecutions: 10_000 });
  const dpor = outcomes(prog, { dpor: true, maxExecutions: 10_000 });
  assert.equal(dfs.r.executions, 560); // 8! / (3! 3! 2!): each thread's accesses plus its exit step
  assert.equal(dpor.r.executions, 1);
  assert.deepEqual(dpor.finals, dfs.finals);
});

test('a preemption bound limits the schedules: 0 preemptions = one serial order per start choice', () => {
  const prog: Instr[][] = [
    [{ k: 'write', v: 0 }, { k: 'write', v: 0 }],
    [{ k: 'write', v: 0 }, { k: 'write', v: 0 }],
  ];
  const b0 = outcomes(prog, { dpor: false, preemptions: 0, maxExecutions: 1000 });
  assert.equal(b0.r.executions, 2);
  const b1 = outcomes(prog, { dpor: false, preemptions: 1, maxExecutions: 1000 });
  const all = outcomes(prog, { dpor: false, maxExecutions: 1000 });
  assert.ok(b0.r.executions < b1.r.executions && b1.r.executions <= all.r.executions);
  assert.equal(all.r.executions, 20); // 6! / (3! 3!)
});

test('the execution budget makes the result incomplete instead of wrong', () => {
  const prog: Instr[][] = [
    [{ k: 'write', v: 0 }, { k: 'write', v: 0 }, { k: 'write', v: 0 }],
    [{ k: 'write', v: 0 }, { k: 'write', v: 0 }, { k: 'write', v: 0 }],
  ];
  const r = outcomes(prog, { dpor: false, maxExecutions: 5 });
  assert.equal(r.r.complete, false);
  assert.equal(r.r.executions, 5);
});
