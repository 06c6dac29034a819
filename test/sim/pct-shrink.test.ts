// PCT follows the paper; shrinking keeps the violation and never grows the schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, type ThreadBody } from '../../src/sim/engine.js';
import * as strategies from '../../src/sim/strategy.js';
import { PctStrategy } from '../../src/sim/strategy.js';
import { shrink, toBlocks } from '../../src/sim/shrink.js';

/** n threads of `steps` plain steps each. */
function straight(n: number, steps: number): Sim {
  const sim = new Sim({ record: false, maxSteps: 10_000 });
  for (let t = 0; t < n; t++) {
    sim.spawn(`t${t}`, () => (function* (): ThreadBody {
      for (let i = 0; i < steps - 1; i++) yield;
    })());
  }
  return sim;
}

test('PCT d=1: no change points; the highest-priority thread runs to its end, then the next', () => {
  for (let seed = 0; seed < 50; seed++) {
    const s = new PctStrategy(String(seed), 3, 1, 30);
    assert.deepEqual(s.changePoints, []);
    const sim = straight(3, 10);
    sim.run(s);
    assert.equal(toBlocks(sim.choices).length, 3, `seed ${seed}: ${sim.choices.join('')}`);
  }
});

test('PCT d=2: one change point in 1..k; after that step the running thread drops below every other', () => {
  const k = 20;
  const seen = new Set<number>();
  for (let seed = 0; seed < 400; seed++) {
    const s = new PctStrategy(String(seed), 2, 2, k);
    assert.equal(s.changePoints.length, 1);
    const at = s.changePoints[0]!;
    assert.ok(at >= 1 && at <= k);
    seen.add(at);
    const sim = straight(2, 10); // 20 steps in all
    sim.run(s);
    const blocks = toBlocks(sim.choices);
    if (at < 10) {
      // the first thread is preempted right after step `at`, the other runs to its end
      assert.deepEqual(blocks.map((b) => b.n), [at, 10, 10 - at], `seed ${seed}, change at ${at}`);
    } else {
      assert.deepEqual(blocks.map((b) => b.n), [10, 10]);
    }
  }
  assert.equal(seen.size, k, 'every step 1..k is drawn as a change point');
});

test('PCT finds a depth-2 ordering bug with at least the paper\'s probability 1/(n k)', () => {
  // t1 must run between t0's first and second step: a bug of depth 2
  const run = (seed: number) => {
    const sim = new Sim({ record: false, maxSteps: 1000 });
    const st = { a: 0, b: 0 };
    sim.spawn('t0', () => (function* (): ThreadBody { yield; st.a = 1; yield; st.a = 2; })());
    sim.spawn('t1', () => (function* (): ThreadBody { yield; if (st.a === 1) sim.violate('kernel-warn', 'saw the middle'); })());
    sim.run(new PctStrategy(String(seed), 2, 2, 5));
    return sim.violations.length > 0;
  };
  let hits = 0;
  const N = 2000;
  for (let s = 0; s < N; s++) if (run(s)) hits++;
  assert.ok(hits / N >= PctStrategy.hitProbability(2, 5, 2), `hit rate ${hits / N}`);
});

test('shrinking keeps the violation id and never grows the schedule', () => {
  // a race that needs t1 between t0's write and its check; noise threads add preemptions
  const program = () => {
    const sim = new Sim({ record: false, maxSteps: 1000 });
    const st = { x: 0 };
    sim.spawn('t0', () => (function* (): ThreadBody {
      yield; st.x = 1; yield; yield; if (st.x !== 1) sim.violate('kernel-warn', 'x changed under t0');
    })());
    sim.spawn('t1', () => (function* (): ThreadBody { yield; yield; st.x = 2; })());
    sim.spawn('t2', () => (function* (): ThreadBody { for (let i = 0; i < 6; i++) yield; })());
    return sim;
  };
  let shrunk = 0;
  for (let seed = 0; seed < 300; seed++) {
    const sim = program();
    const { RandomStrategy } = strategies;
    sim.run(new RandomStrategy(String(seed)));
    if (sim.violations.length === 0) continue;
    const before = { switches: toBlocks(sim.choices).length - 1, steps: sim.choices.length };
    const r = shrink(sim.choices, 'kernel-warn', (s) => {
      const p = program();
      p.run(s);
      return p;
    });
    // replaying the result shows the same id
    const again = program();
    const { ReplayStrategy } = strategies;
    again.run(new ReplayStrategy(`s1-${toBlocks(r.choices).map((b) => 'abc'[b.t] + (b.n > 1 ? b.n : '')).join('')}`));
    assert.ok(again.violations.some((v) => v.id === 'kernel-warn'), `seed ${seed}`);
    const after = { switches: toBlocks(r.choices).length - 1, steps: r.choices.length };
    assert.ok(after.steps <= before.steps, `seed ${seed}: steps ${before.steps} -> ${after.steps}`);
    assert.ok(r.preemptions <= before.switches, `seed ${seed}`);
    if (after.switches < before.switches) shrunk++;
  }
  assert.ok(shrunk > 0);
});
