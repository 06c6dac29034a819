// Exhaustive exploration of a scenario under one kernel: every interleaving
// that matters (DPOR), or every schedule within a preemption bound.
import { explore, type ExploreResult } from '../sim/explore.js';
import { encodeSchedule } from '../sim/schedule.js';
import type { Strategy } from '../sim/strategy.js';
import type { Scenario } from '../scenario/types.js';
import { assertSupported, buildRun, finishRun, kernelFor } from './run.js';

/** Per-execution step budget while exploring: long enough for the catalogue, short enough that a spin loop ends. */
export const EXPLORE_MAX_STEPS = 5_000;
export const DEFAULT_MAX_EXECUTIONS = 200_000;

export interface ScenarioExploration extends ExploreResult {
  kernel: string;
  /** schedule token of the first execution that showed each violation id */
  tokens: Map<string, string>;
  dpor: boolean;
  preemptions: number | undefined;
}

export function exploreScenario(
  scn: Scenario,
  opts: { kernel?: string; preemptions?: number; dpor?: boolean; maxExecutions?: number; maxSteps?: number },
): ScenarioExploration {
  const kernel = kernelFor(scn, opts.kernel);
  assertSupported(scn, kernel);
  const dpor = opts.dpor ?? true;
  const res = explore(
    () => {
      const { sim, model } = buildRun(scn, kernel.flags, { track: true, maxSteps: opts.maxSteps ?? EXPLORE_MAX_STEPS });
      return { sim, run: (strategy: Strategy) => finishRun(scn, sim, model, strategy) };
    },
    { dpor, preemptions: opts.preemptions, maxExecutions: opts.maxExecutions ?? DEFAULT_MAX_EXECUTIONS },
  );
  const tokens = new Map<string, string>();
  for (const v of res.violations) tokens.set(v.id, encodeSchedule(v.choices));
  return { ...res, kernel: kernel.name, tokens, dpor, preemptions: opts.preemptions };
}
