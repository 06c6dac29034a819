// One run of a scenario under one kernel and one schedule: wires the engine,
// the kernel model and the checkers, and returns the verdict.
import { Sim, type TraceEvent } from '../sim/engine.js';
import { RandomStrategy, ReplayStrategy, type Strategy } from '../sim/strategy.js';
import { encodeSchedule } from '../sim/schedule.js';
import { Kernel, unsupported } from '../kernel/kernel.js';
import { findProfile, resolveFlags, type Flags } from '../kernel/versions.js';
import { InputError, diag } from '../scenario/diagnostic.js';
import type { Pos, Scenario } from '../scenario/types.js';
import { checkFinal, checkers } from './invariants.js';

export const DEFAULT_MAX_STEPS = 100_000;

export interface Violation {
  id: string;
  step: number;
  /** thread name, or null for global ones (deadlock, final-state) */
  thread: string | null;
  message: string;
  /** the op the thread was running, as `index` into its list and its source position */
  op: { index: number; pos: Pos } | null;
}

export interface RunResult {
  scenario: string;
  file: string;
  kernel: string;
  flags: Flags;
  /** `seed` of a random run, or null for a replay */
  seed: string | null;
  schedule: string;
  steps: number;
  threads: string[];
  violations: Violation[];
  trace: TraceEvent[];
}

export interface RunOptions {
  /** profile name; default: the scenario's `kernel:` base, else the first `expect:` key */
  kernel?: string;
  seed?: string;
  schedule?: string;
  record?: boolean;
  maxSteps?: number;
}

/** The profile a run uses and the flags after the scenario's overrides. */
export function kernelFor(scn: Scenario, name: string | undefined): { name: string; flags: Flags } {
  const chosen = name ?? scn.kernel?.base ?? scn.expect[0]?.kernel;
  if (chosen === undefined) throw new InputError([diag(scn.file, scn.pos, 'no kernel chosen: give --kernel, or `kernel:` or an `expect:` block in the scenario')]);
  const p = findProfile(chosen);
  if (p === undefined) throw new InputError([diag(scn.file, scn.pos, `unknown kernel profile '${chosen}'`)]);
  return { name: p.name, flags: resolveFlags(p, scn.kernel?.flags ?? {}) };
}

/** Refuse, with positions, what the model cannot run under this kernel. */
export function assertSupported(scn: Scenario, kernel: { name: string; flags: Flags }): void {
  const d = unsupported(scn, kernel.flags, kernel.name);
  if (d.length > 0) throw new InputError(d);
}

/** A fresh machine for one execution of the scenario, threads spawned, not yet run. */
export function buildRun(scn: Scenario, flags: Flags, opts: { record?: boolean; maxSteps?: number; track?: boolean }): { sim: Sim; model: Kernel } {
  const sim = new Sim({ record: opts.record ?? false, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS, track: opts.track ?? false });
  const model = new Kernel(sim, scn, flags, checkers);
  for (const t of scn.threads) sim.spawn(t.name, (st) => model.thread(st, t.ops));
  return { sim, model };
}

/** Run a built machine to the end under `strategy`, then check the final state. */
export function finishRun(scn: Scenario, sim: Sim, model: Kernel, strategy: Strategy): void {
  sim.run(strategy);
  if (!sim.aborted && sim.threads.every((t) => t.done)) checkFinal(model, scn.final);
}

export function runScenario(scn: Scenario, opts: RunOptions): RunResult {
  const kernel = kernelFor(scn, opts.kernel);
  assertSupported(scn, kernel);
  const { sim, model } = buildRun(scn, kernel.flags, opts);
  const strategy: Strategy = opts.schedule !== undefined ? new ReplayStrategy(opts.schedule) : new RandomStrategy(opts.seed ?? '0');
  finishRun(scn, sim, model, strategy);
  return {
    scenario: scn.name,
    file: scn.file,
    kernel: kernel.name,
    flags: kernel.flags,
    seed: opts.schedule !== undefined ? null : opts.seed ?? '0',
    schedule: encodeSchedule(sim.choices),
    steps: sim.step,
    threads: sim.threads.map((t) => t.name),
    violations: sim.violations.map((v) => {
      const t = v.thread === null ? null : scn.threads[v.thread]!;
      const op = t !== null && v.opIndex >= 0 ? { index: v.opIndex, pos: t.ops[v.opIndex]!.pos } : null;
      return { id: v.id, step: v.step, thread: t?.name ?? null, message: v.message, op };
    }),
    trace: sim.trace,
  };
}
