// Fuzzing a scenario: many schedules from seeds, under random or PCT
// scheduling, in chunks that any worker can run. Pure per-seed work, so the
// results do not depend on how many workers run the chunks.
import { PctStrategy, RandomStrategy, SerialStrategy, type Strategy } from '../sim/strategy.js';
import { shrink } from '../sim/shrink.js';
import { encodeSchedule } from '../sim/schedule.js';
import type { Scenario } from '../scenario/types.js';
import type { Flags } from '../kernel/versions.js';
import { buildRun, finishRun, DEFAULT_MAX_STEPS } from './run.js';

export type StrategyName = 'random' | 'pct' | 'portfolio';

export interface FuzzConfig {
  strategy: StrategyName;
  /** PCT bug depth d (for `pct`); `portfolio` cycles random, d=1, d=2, d=3 */
  depth: number;
  maxSteps?: number;
}

/** One failing seed: the ids it showed, with where each happened. */
export interface SeedFailure {
  seed: number;
  violations: { id: string; place: string; message: string }[];
  choices: number[];
}

export interface ChunkResult {
  start: number;
  end: number;
  /** schedules run in the chunk (those in the shard) */
  runs: number;
  steps: number;
  failures: SeedFailure[];
}

/** The strategy of one seed; `k` is PCT's estimate of the steps in a run. */
export function strategyFor(seed: number, cfg: FuzzConfig, nThreads: number, k: number): { strategy: Strategy; label: string } {
  let kind: 'random' | 'pct' = cfg.strategy === 'random' ? 'random' : 'pct';
  let d = cfg.depth;
  if (cfg.strategy === 'portfolio') {
    const slot = seed % 4;
    kind = slot === 0 ? 'random' : 'pct';
    d = slot;
  }
  if (kind === 'random') return { strategy: new RandomStrategy(String(seed)), label: 'random' };
  return { strategy: new PctStrategy(`pct:${d}:${seed}`, nThreads, d, k), label: `pct d=${d}` };
}

/** PCT's k: the steps of the run without preemption (the model's runs vary little around it). */
export function estimateSteps(scn: Scenario, flags: Flags, maxSteps?: number): number {
  const { sim, model } = buildRun(scn, flags, { maxSteps: maxSteps ?? DEFAULT_MAX_STEPS });
  finishRun(scn, sim, model, new SerialStrategy());
  return Math.max(1, sim.step);
}

/** Runs seeds [start, end) that belong to shard `shard` (1-based i of n). */
export function runChunk(scn: Scenario, flags: Flags, cfg: FuzzConfig, start: number, end: number, shard: { i: number; n: number }, k: number): ChunkResult {
  const out: ChunkResult = { start, end, runs: 0, steps: 0, failures: [] };
  for (let seed = start; seed < end; seed++) {
    if (seed % shard.n !== shard.i - 1) continue;
    const { sim, model } = buildRun(scn, flags, { maxSteps: cfg.maxSteps });
    finishRun(scn, sim, model, strategyFor(seed, cfg, scn.threads.length, k).strategy);
    out.runs++;
    out.steps += sim.step;
    if (sim.violations.length > 0) {
      out.failures.push({
        seed,
        choices: sim.choices.slice(),
        violations: sim.violations.map((v) => ({
          id: v.id,
          place: v.thread === null ? '-' : `${scn.threads[v.thread]!.name}#${v.opIndex}`,
          message: v.message,
        })),
      });
    }
  }
  return out;
}

/** The shrunk schedule token of a failing run, keeping violation `id`. */
export function shrinkToken(scn: Scenario, flags: Flags, choices: number[], id: string, maxSteps?: number): { token: string; preemptions: number; steps: number; replays: number } {
  const r = shrink(choices, id, (strategy) => {
    const { sim, model } = buildRun(scn, flags, { maxSteps });
    finishRun(scn, sim, model, strategy);
    return sim;
  });
  return { token: encodeSchedule(r.choices), preemptions: r.preemptions, steps: r.choices.length, replays: r.replays };
}
