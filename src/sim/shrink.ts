// Shrinking a failing schedule: fewer preemptions first, then fewer steps,
// keeping the same violation id. A candidate is a list of blocks "thread t
// runs up to n steps"; it is replayed leniently (a block whose thread cannot
// run is skipped, and after the list the run continues without preemption),
// so any edit of the list is a schedule that can be tried.
import type { Sim, SimThread } from './engine.js';
import type { Strategy } from './strategy.js';

export interface Block {
  t: number;
  n: number;
}

export interface Replayed {
  choices: number[];
  preemptions: number;
  ids: ReadonlySet<string>;
}

/** Blocks from a list of per-step thread choices. */
export function toBlocks(choices: readonly number[]): Block[] {
  const out: Block[] = [];
  for (const c of choices) {
    const last = out[out.length - 1];
    if (last !== undefined && last.t === c) last.n++;
    else out.push({ t: c, n: 1 });
  }
  return out;
}

/** Follows blocks leniently, then runs without preemption; counts preemptions as it goes. */
export class BlockStrategy implements Strategy {
  private readonly blocks: Block[];
  private bi = 0;
  private used = 0;
  preemptions = 0;
  constructor(blocks: readonly Block[]) {
    this.blocks = blocks.map((b) => ({ ...b }));
  }
  pick(runnable: readonly SimThread[], prev: SimThread | null): SimThread {
    let pick: SimThread | undefined;
    while (this.bi < this.blocks.length) {
      const b = this.blocks[this.bi]!;
      if (this.used < b.n) {
        pick = runnable.find((r) => r.id === b.t);
        if (pick !== undefined) {
          this.used++;
          break;
        }
      }
      this.bi++;
      this.used = 0;
    }
    if (pick === undefined) pick = prev !== null && prev.runnable ? prev : runnable[0]!;
    if (prev !== null && prev !== pick && prev.runnable) this.preemptions++;
    return pick;
  }
}

/** Preemptions of a recorded schedule: switches away from a thread that could still run. */
export function better(a: { preemptions: number; steps: number }, b: { preemptions: number; steps: number }): boolean {
  return a.preemptions < b.preemptions || (a.preemptions === b.preemptions && a.steps < b.steps);
}

/**
 * Shrinks `choices` (a schedule that shows violation `id`) with at most
 * `budget` replays. `replay` runs the program under a strategy and returns
 * the finished engine. Returns the best schedule found (never worse than the input).
 */
export function shrink(choices: readonly number[], id: string, replay: (s: Strategy) => Sim, budget = 2000): { choices: number[]; preemptions: number; replays: number } {
  let replays = 0;
  const tryBlocks = (blocks: Block[]): Replayed | null => {
    if (replays >= budget) return null;
    replays++;
    const st = new BlockStrategy(blocks);
    const sim = replay(st);
    if (sim.aborted) return null;
    return { choices: sim.choices.slice(), preemptions: st.preemptions, ids: new Set(sim.violations.map((v) => v.id)) };
  };
  const start = tryBlocks(toBlocks(choices));
  if (start === null || !start.ids.has(id)) return { choices: choices.slice(), preemptions: Number.NaN, replays };
  let best = start;
  const score = (r: Replayed) => ({ preemptions: r.preemptions, steps: r.choices.length });
  const accept = (r: Replayed | null): boolean => {
    if (r === null || !r.ids.has(id) || !better(score(r), score(best))) return false;
    best = r;
    return true;
  };
  let improved = true;
  while (improved && replays < budget) {
    improved = false;
    const blocks = toBlocks(best.choices);
    // 1. the shortest prefix of blocks whose non-preemptive completion still fails
    for (let k = 0; k < blocks.length && !improved; k++) {
      if (accept(tryBlocks(blocks.slice(0, k)))) improved = true;
    }
    if (improved) continue;
    // 2. drop one block (its thread's steps move to its next turn)
    for (let i = 0; i < blocks.length && !improved; i++) {
      if (accept(tryBlocks([...blocks.slice(0, i), ...blocks.slice(i + 1)]))) improved = true;
    }
    if (improved) continue;
    // 3. shorten or lengthen one block by a step (moves a context switch)
    for (let i = 0; i < blocks.length && !improved; i++) {
      for (const dn of [-1, 1]) {
        const n = blocks[i]!.n + dn;
        if (n < 1) continue;
        const cand = blocks.map((b, j) => (j === i ? { t: b.t, n } : b));
        if (accept(tryBlocks(cand))) {
          improved = true;
          break;
        }
      }
    }
  }
  return { choices: best.choices, preemptions: best.preemptions, replays };
}
