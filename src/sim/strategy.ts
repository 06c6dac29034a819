// Scheduling strategies: which runnable thread takes the next step.
import type { Sim, SimThread } from './engine.js';
import { makeRng, type Rng } from './rng.js';
import { decodeSchedule } from './schedule.js';

export interface Strategy {
  /** `runnable` is non-empty and ordered by thread id; null stops the run (an explorer pruning it) */
  pick(runnable: readonly SimThread[], prev: SimThread | null, sim: Sim): SimThread | null;
  /** called after each step, with the step's footprint in sim.fpR / sim.fpW when tracking */
  stepped?(t: SimThread, sim: Sim): void;
}

/** Uniformly random among runnable threads at every step, from a string seed. */
export class RandomStrategy implements Strategy {
  private readonly rng: Rng;
  constructor(seed: string) {
    this.rng = makeRng(seed);
  }
  pick(runnable: readonly SimThread[]): SimThread {
    return runnable.length === 1 ? runnable[0]! : runnable[this.rng.below(runnable.length)]!;
  }
}

/** The schedule does not fit the scenario under this kernel (a different file or kernel made it). */
export class ScheduleMismatch extends Error {}

/**
 * Replays a recorded schedule. When the recording ends before the threads do,
 * the run continues without preemption: the previous thread if it can run,
 * else the lowest-numbered runnable one.
 */
export class ReplayStrategy implements Strategy {
  private readonly choices: number[];
  private i = 0;
  constructor(token: string) {
    this.choices = decodeSchedule(token);
  }
  pick(runnable: readonly SimThread[], prev: SimThread | null): SimThread {
    if (this.i < this.choices.length) {
      const want = this.choices[this.i++]!;
      const t = runnable.find((r) => r.id === want);
      if (t === undefined) {
        throw new ScheduleMismatch(`step ${this.i} of the schedule runs thread #${want}, which is not runnable there: the schedule was recorded for another scenario or kernel`);
      }
      return t;
    }
    return prev !== null && prev.runnable ? prev : runnable[0]!;
  }
}

/** Run each thread to completion or until it blocks, lowest id first (no preemption). */
export class SerialStrategy implements Strategy {
  pick(runnable: readonly SimThread[], prev: SimThread | null): SimThread {
    return prev !== null && prev.runnable ? prev : runnable[0]!;
  }
}

/**
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A randomized scheduler
 * with probabilistic guarantees of finding bugs", ASPLOS 2010): the n threads
 * get distinct random initial priorities d..d+n-1; d-1 priority-change points
 * are drawn uniformly from steps 1..k; at the i-th change point the running
 * thread's priority drops to i (below every initial priority). The enabled
 * thread of highest priority always runs. A bug of depth d is found with
 * probability at least 1/(n·k^(d-1)) per run.
 */
export class PctStrategy implements Strategy {
  private readonly prio: number[];
  /** step number -> the priority to assign at that step (change point i gets priority i) */
  private readonly changes = new Map<number, number>();
  readonly changePoints: number[];

  constructor(seed: string, nThreads: number, depth: number, k: number) {
    const rng = makeRng(seed);
    // random permutation of d..d+n-1 (Fisher-Yates)
    const p = Array.from({ length: nThreads }, (_, i) => depth + i);
    for (let i = p.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    this.prio = p;
    this.changePoints = [];
    for (let i = 1; i < depth; i++) {
      const at = 1 + rng.below(Math.max(1, k));
      this.changePoints.push(at);
      if (!this.changes.has(at)) this.changes.set(at, i);
    }
  }

  pick(runnable: readonly SimThread[], prev: SimThread | null, sim: Sim): SimThread {
    // Algorithm 1: after the step numbered k_i, the thread that ran it gets priority i
    const c = this.changes.get(sim.step);
    if (c !== undefined && prev !== null) this.prio[prev.id] = c;
    let best = runnable[0]!;
    for (const t of runnable) if (this.prio[t.id]! > this.prio[best.id]!) best = t;
    return best;
  }

  /** The paper's lower bound on finding a depth-d bug in one run. */
  static hitProbability(n: number, k: number, d: number): number {
    return 1 / (n * Math.pow(Math.max(1, k), d - 1));
  }
}
