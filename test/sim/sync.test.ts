// Engine-level programs that prove each primitive and each detector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, type ThreadBody } from '../../src/sim/engine.js';
import { RandomStrategy, ReplayStrategy } from '../../src/sim/strategy.js';
import { Mutex, RwSem, Spinlock } from '../../src/sim/sync.js';
import {
  WaitQueueHead, finishWait, initWaitEntry, prepareToWait, prepareToWaitExclusive, schedule, wakeUp,
} from '../../src/sim/waitqueue.js';
import { encodeSchedule } from '../../src/sim/schedule.js';

type Prog = (sim: Sim) => ThreadBody;
/** Builds a program's threads against the run's engine (shared objects need it for their ids). */
type Build = (sim: Sim) => Prog[];

function runWith(build: Build | Prog[], seed: string | null, token?: string): Sim {
  const sim = new Sim({ record: true, maxSteps: 10_000 });
  const progs = typeof build === 'function' ? build(sim) : build;
  progs.forEach((p, i) => sim.spawn(`t${i}`, () => p(sim)));
  sim.run(token !== undefined ? new ReplayStrategy(token) : new RandomStrategy(seed!));
  return sim;
}

/** Ids seen over `n` seeds, and the first seed showing each. */
function explore(build: Build, n: number): Map<string, number> {
  const seen = new Map<string, number>();
  for (let s = 0; s < n; s++) {
    for (const v of runWith(build, String(s)).violations) if (!seen.has(v.id)) seen.set(v.id, s);
  }
  return seen;
}

/** A non-atomic increment: read, yield, write. */
function* incr(box: { n: number }): Generator<void, void, void> {
  yield;
  const v = box.n;
  yield;
  box.n = v + 1;
}

test('an unprotected increment loses updates in some schedule; a spinlock or mutex prevents it', () => {
  let lost = 0;
  for (let s = 0; s < 200; s++) {
    const box = { n: 0 };
    runWith([() => incr(box), () => incr(box)], String(s));
    if (box.n !== 2) lost++;
  }
  assert.ok(lost > 0, 'the race must be reachable');
  for (const mk of [(sim: Sim) => new Spinlock(sim, 'l', 'l'), (sim: Sim) => new Mutex(sim, 'm', 'm')]) {
    for (let s = 0; s < 200; s++) {
      const box = { n: 0 };
      const build = (sim: Sim) => {
        const l = mk(sim);
        const body = () => (function* () {
          yield* l.lock(sim);
          yield* incr(box);
          yield;
          l.unlock(sim);
        })();
        return [body, body];
      };
      const sim = runWith(build, String(s));
      assert.equal(box.n, 2, `seed ${s}`);
      assert.deepEqual(sim.violations, []);
    }
  }
});

test('a mutex taken under a spinlock is sleep-in-atomic, even uncontended', () => {
  const sim = runWith([(s) => (function* () {
    const sl = new Spinlock(s, 'tree_lock', 'tree_lock');
    const m = new Mutex(s, 'm', 'm');
    yield* sl.lock(s);
    yield* m.lock(s);
    m.unlock(s);
    sl.unlock(s);
  })()], '0');
  assert.deepEqual(sim.violations.map((v) => v.id), ['sleep-in-atomic']);
  assert.match(sim.violations[0]!.message, /mutex_lock\(m\) with preemption disabled \(holding tree_lock\)/);
});

test('rwsem: readers share, a writer excludes, a waiting writer blocks new readers', () => {
  // Readers overlap in some schedule.
  let overlapped = false;
  for (let s = 0; s < 100 && !overlapped; s++) {
    let inside = 0;
    runWith((sim0) => {
      const sem = new RwSem(sim0, 'sem', 'sem');
      const reader = (sim: Sim) => (function* () {
        yield* sem.downRead(sim);
        inside++;
        if (inside === 2) overlapped = true;
        yield;
        inside--;
        sem.upRead(sim);
      })();
      return [reader, reader];
    }, String(s));
  }
  assert.ok(overlapped);

  // A writer never overlaps anyone.
  for (let s = 0; s < 200; s++) {
    let readers = 0;
    let writers = 0;
    const sim = runWith((sim0) => {
    const sem = new RwSem(sim0, 'sem', 'sem');
    const reader = (sim: Sim) => (function* () {
      yield* sem.downRead(sim);
      readers++;
      assert.equal(writers, 0);
      yield;
      readers--;
      sem.upRead(sim);
    })();
    const writer = (sim: Sim) => (function* () {
      yield* sem.downWrite(sim);
      writers++;
      assert.equal(readers, 0);
      assert.equal(writers, 1);
      yield;
      writers--;
      sem.upWrite(sim);
    })();
    return [reader, writer, reader, writer];
    }, String(s));
    assert.deepEqual(sim.violations, []);
  }

  // t0 reads and holds; t1 queues for write; t2's read arrives later and must wait for t1.
  const order: string[] = [];
  const sim = runWith((sim0) => {
    const sem = new RwSem(sim0, 'sem', 'sem');
    return [
      (s) => (function* () { yield* sem.downRead(s); order.push('r0'); yield; yield; yield; yield; sem.upRead(s); })(),
      (s) => (function* () { yield* sem.downWrite(s); order.push('w1'); yield; sem.upWrite(s); })(),
      (s) => (function* () { yield* sem.downRead(s); order.push('r2'); yield; sem.upRead(s); })(),
    ];
  }, null, 's1-a2b2c2a4');
  assert.deepEqual(order, ['r0', 'w1', 'r2']);
  assert.deepEqual(sim.violations, []);
});

test('ABBA mutexes: lock-order in every schedule that takes both orders, deadlock in some', () => {
  const progs = (sim: Sim): Prog[] => {
    const a = new Mutex(sim, 'A', 'A');
    const b = new Mutex(sim, 'B', 'B');
    const ab = (x: Mutex, y: Mutex) => (s: Sim) => (function* () {
      yield* x.lock(s);
      yield* y.lock(s);
      yield;
      y.unlock(s);
      x.unlock(s);
    })();
    return [ab(a, b), ab(b, a)];
  };
  const seen = explore(progs, 300);
  assert.ok(seen.has('deadlock'), 'some schedule deadlocks');
  assert.ok(seen.has('lock-order'), 'lockdep sees the inversion');
  // Serial: t0 finishes before t1 starts, no deadlock, but lockdep still reports the inversion.
  const serial = runWith(progs, null, 's1-a4');
  assert.deepEqual(serial.violations.map((v) => v.id), ['lock-order']);
  assert.match(serial.violations[0]!.message, /t1 takes A while holding B, but A -> B was established earlier \(t0, step 3\)/);
});

/**
 * Two exclusive waiters sleep until `ready`; the waker sets it and wakes.
 * With wake-one (nr_exclusive = 1) and no baton passing, the second sleeper
 * is stranded though its condition holds: lost-wakeup. Wake-all is clean.
 */
function waiters(nrExclusive: number): Build {
  return (sim0) => waitersOn(sim0, nrExclusive);
}

function waitersOn(sim0: Sim, nrExclusive: number): Prog[] {
  const wq = new WaitQueueHead<null>(sim0, 'wq');
  const st = { ready: false };
  const waiter = (sim: Sim) => (function* () {
    const e = initWaitEntry<null>(sim, null);
    for (;;) {
      prepareToWaitExclusive(sim, wq, e);
      yield;
      if (st.ready) break;
      yield* schedule(sim, 'wait_event(ready)', () => st.ready);
    }
    finishWait(sim, wq, e);
  })();
  const waker = (sim: Sim) => (function* () {
    yield;
    yield;
    yield;
    st.ready = true;
    yield;
    wakeUp(sim, wq, nrExclusive, null);
  })();
  return [waiter, waiter, waker];
}

test('wake-one where wake-all was needed strands an exclusive waiter: lost-wakeup', () => {
  const one = explore(waiters(1), 300);
  assert.deepEqual([...one.keys()], ['lost-wakeup']);
  const all = explore(waiters(0), 300);
  assert.deepEqual([...all.keys()], []);
});

test('checking the condition before prepare_to_wait loses a wakeup in some schedule', () => {
  const progs = (sim0: Sim): Prog[] => {
    const wq = new WaitQueueHead<null>(sim0, 'wq');
    const st = { ready: false };
    return [
      (sim) => (function* () {
        const e = initWaitEntry<null>(sim, null);
        yield;
        if (st.ready) return;              // the check...
        yield;
        prepareToWait(sim, wq, e);         // ...then the queueing: the wakeup can fall in between
        yield* schedule(sim, 'wait_event(ready)', () => st.ready);
        finishWait(sim, wq, e);
      })(),
      (sim) => (function* () {
        yield;
        st.ready = true;
        wakeUp(sim, wq, 1, null);
      })(),
    ];
  };
  const seen = explore(progs, 200);
  assert.deepEqual([...seen.keys()], ['lost-wakeup']);
});

test('a thread blocked forever on a sleeping lock with no true condition is a deadlock, with the holder named', () => {
  const sim = runWith((sim0) => {
    const m = new Mutex(sim0, 'M', 'M');
    return [
      (s) => (function* () { yield* m.lock(s); })(),            // exits holding M
      (s) => (function* () { yield; yield; yield* m.lock(s); })(),
    ];
  }, null, 's1-a2');
  const ids = sim.violations.map((v) => v.id);
  assert.deepEqual(ids, ['kernel-warn', 'deadlock']);
  assert.match(sim.violations[1]!.message, /t1 waits in mutex_lock\(M\) \(held by t0\)/);
});

test('the step budget turns a spinning program into a livelock report', () => {
  const sim = new Sim({ record: false, maxSteps: 50 });
  sim.spawn('spinner', () => (function* () { for (;;) yield; })());
  sim.run(new RandomStrategy('1'));
  assert.deepEqual(sim.violations.map((v) => v.id), ['livelock']);
});

test('same seed, same schedule; replaying the token gives the same schedule', () => {
  const a = runWith(waiters(1), '42');
  const b = runWith(waiters(1), '42');
  assert.deepEqual(a.choices, b.choices);
  const tok = encodeSchedule(a.choices);
  const c = runWith(waiters(1), null, tok);
  assert.equal(encodeSchedule(c.choices), tok);
  assert.deepEqual(c.trace, a.trace);
});
