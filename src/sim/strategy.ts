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
