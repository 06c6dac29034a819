// Exhaustive exploration of a program's schedules by re-execution (stateless
// model checking), with dynamic partial-order reduction: Flanagan & Godefroid,
// "Dynamic partial-order reduction for model checking software" (POPL 2005),
// with sleep sets (Godefroid 1996). Two steps are dependent when they belong to
// different threads and one writes an object the other reads or writes; the
// objects are the engine's footprint touches (locks, wait queues, tree slots,
// PTEs, blocks, ...). Every Mazurkiewicz trace of the program is explored at
// least once, so a violation that shows in some schedule shows in the search.
//
// With a preemption bound (CHESS, Musuvathi & Qadeer 2007) the search is a
// plain depth-first search of the schedules with at most B preemptions: DPOR
// is not complete under a bound, so none is applied then.
import type { EngineViolation, Sim, SimThread } from './engine.js';
import type { Strategy } from './strategy.js';

export interface Footprint {
  r: number[];
  w: number[];
}

export function dependent(a: Footprint, b: Footprint): boolean {
  for (const x of a.w) if (b.w.includes(x) || b.r.includes(x)) return true;
  for (const x of b.w) if (a.r.includes(x)) return true;
  return false;
}

interface Node {
  /** runnable threads at this state, ascending */
  enabled: number[];
  /** the thread stepped from here in the current execution */
  chosen: number;
  /** footprint of that step */
  fp: Footprint;
  backtrack: Set<number>;
  done: Set<number>;
  /** threads asleep here, with the footprint of their next step */
  sleep: Map<number, Footprint>;
  /** footprints of every step taken from here so far (for the children's sleep sets) */
  fpOf: Map<number, Footprint>;
  /** preemptions in the schedule up to and including this node's choice */
  preemptions: number;
}

export interface ExploreOptions {
  /** partial-order reduction (default true; off = plain DFS) */
  dpor: boolean;
  /** at most this many preemptions per schedule (plain DFS, no reduction) */
  preemptions?: number;
  /** stop after this many executions (the result then says it is incomplete) */
  maxExecutions: number;
}

export interface FoundViolation {
  id: string;
  message: string;
  thread: number | null;
  /** the schedule of the first execution that showed it */
  choices: number[];
  /** executions that showed it */
  count: number;
  /** the number of executions explored when it was first seen (1-based) */
  firstAt: number;
}

export interface ExploreResult {
  /** complete executions (every thread finished or the run ended in a deadlock/livelock) */
  executions: number;
  /** executions cut short because every runnable thread was asleep (redundant) */
  sleepBlocked: number;
  /** false when maxExecutions stopped the search */
  complete: boolean;
  violations: FoundViolation[];
  /** the most steps in one execution */
  maxDepth: number;
}

class ExplorerStrategy implements Strategy {
  private readonly nodes: Node[];
  private readonly prefix: number[];
  private readonly opts: ExploreOptions;
  /** per step: its thread and its clock (vector over threads of step stamps) */
  private readonly steps: { tid: number; fp: Footprint; vc: number[] }[] = [];
  private readonly threadClock: number[][] = [];
  private nThreads = 0;

  constructor(nodes: Node[], prefix: number[], opts: ExploreOptions) {
    this.nodes = nodes;
    this.prefix = prefix;
    this.opts = opts;
  }

  pick(runnable: readonly SimThread[], prev: SimThread | null, sim: Sim): SimThread | null {
    const d = sim.step;
    if (this.nThreads === 0) {
      this.nThreads = sim.threads.length;
      for (let i = 0; i < this.nThreads; i++) this.threadClock.push(new Array<number>(this.nThreads).fill(0));
    }
    const enabled = runnable.map((t) => t.id);
    if (d < this.prefix.length) {
      const node = this.nodes[d]!;
      if (node.enabled.join() !== enabled.join()) {
        throw new Error(`explore: the program is not deterministic (step ${d + 1} enables ${enabled.join(',')}, earlier ${node.enabled.join(',')})`);
      }
      const want = this.prefix[d]!;
      node.chosen = want;
      node.preemptions = (d > 0 ? this.nodes[d - 1]!.preemptions : 0) + (prev !== null && prev.id !== want && enabled.includes(prev.id) ? 1 : 0);
      return runnable.find((t) => t.id === want)!;
    }
    // A new state: its sleep set was computed when the parent step ran.
    const parent = d > 0 ? this.nodes[d - 1]! : null;
    const sleep = d < this.nodes.length ? this.nodes[d]!.sleep : new Map<number, Footprint>();
    const basePre = parent?.preemptions ?? 0;
    const cost = (id: number) => (prev !== null && prev.id !== id && enabled.includes(prev.id) ? 1 : 0);
    const allowed = enabled.filter((id) => !sleep.has(id) && (this.opts.preemptions === undefined || basePre + cost(id) <= this.opts.preemptions));
    if (allowed.length === 0) return null;
    // Prefer continuing the previous thread: the first execution is the non-preemptive one.
    const choice = prev !== null && allowed.includes(prev.id) ? prev.id : allowed[0]!;
    const node: Node = {
      enabled,
      chosen: choice,
      fp: { r: [], w: [] },
      backtrack: new Set(this.opts.dpor && this.opts.preemptions === undefined ? [choice] : allowed),
      done: new Set([choice]),
      sleep,
      fpOf: new Map(),
      preemptions: basePre + cost(choice),
    };
    this.nodes.length = d;
    this.nodes.push(node);
    return runnable.find((t) => t.id === choice)!;
  }

  stepped(t: SimThread, sim: Sim): void {
    const j = sim.step - 1;
    const node = this.nodes[j]!;
    const fp: Footprint = { r: sim.fpR.slice(), w: sim.fpW.slice() };
    node.fp = fp;
    node.fpOf.set(t.id, fp);
    const tid = t.id;
    const before = this.threadClock[tid]!;
    const useDpor = this.opts.dpor && this.opts.preemptions === undefined;
    // Races: the last earlier step of another thread, dependent with this one and
    // not already ordered before this thread, gets a backtrack point (FG05).
    const vc = before.slice();
    let raced = false;
    for (let i = j - 1; i >= 0; i--) {
      const s = this.steps[i]!;
      if (s.tid === tid || !dependent(s.fp, fp)) continue;
      if (useDpor && !raced && before[s.tid]! < i + 1) {
        raced = true;
        const at = this.nodes[i]!;
        if (at.enabled.includes(tid)) at.backtrack.add(tid);
        else for (const e of at.enabled) at.backtrack.add(e);
      }
      for (let k = 0; k < this.nThreads; k++) if (s.vc[k]! > vc[k]!) vc[k] = s.vc[k]!;
    }
    vc[tid] = j + 1;
    this.threadClock[tid] = vc;
    this.steps[j] = { tid, fp, vc };
    // The child's sleep set: threads asleep or already explored here whose next
    // step is independent of this one stay asleep (only with reduction).
    if (useDpor && j + 1 >= this.prefix.length) {
      const childSleep = new Map<number, Footprint>();
      for (const [q, f] of node.sleep) if (q !== tid && !dependent(f, fp)) childSleep.set(q, f);
      for (const q of node.done) {
        if (q === tid) continue;
        const f = node.fpOf.get(q);
        if (f !== undefined && !dependent(f, fp)) childSleep.set(q, f);
      }
      this.nodes.length = j + 1;
      this.nodes.push({ enabled: [], chosen: -1, fp: { r: [], w: [] }, backtrack: new Set(), done: new Set(), sleep: childSleep, fpOf: new Map(), preemptions: node.preemptions });
    }
  }
}

/** One execution of the program: a new engine with its threads spawned (tracking footprints), and how to run it. */
export interface Execution {
  sim: Sim;
  run(strategy: Strategy): void;
}

/** Explores every schedule of the program `fresh()` builds, up to the options' limits. */
export function explore(fresh: () => Execution, opts: ExploreOptions): ExploreResult {
  const nodes: Node[] = [];
  let prefix: number[] = [];
  const found = new Map<string, FoundViolation>();
  let executions = 0;
  let sleepBlocked = 0;
  let maxDepth = 0;
  for (;;) {
    if (executions + sleepBlocked >= opts.maxExecutions) {
      return { executions, sleepBlocked, complete: false, violations: [...found.values()], maxDepth };
    }
    const exec = fresh();
    const sim = exec.sim;
    exec.run(new ExplorerStrategy(nodes, prefix, opts));
    maxDepth = Math.max(maxDepth, sim.step);
    // a trailing placeholder node (the child of the last step) is not a state to backtrack to
    if (nodes.length > sim.step && nodes[nodes.length - 1]!.chosen === -1 && !sim.aborted) nodes.length = sim.step;
    if (sim.aborted) {
      sleepBlocked++;
      if (nodes.length > sim.step) nodes.length = sim.step;
    } else {
      executions++;
      for (const v of sim.violations) record(found, v, sim.choices, executions);
    }
    // Backtrack to the deepest state with an unexplored, awake choice.
    let d = nodes.length - 1;
    let next = -1;
    for (; d >= 0; d--) {
      const n = nodes[d]!;
      for (const p of [...n.backtrack].sort((a, b) => a - b)) {
        if (!n.done.has(p) && !n.sleep.has(p)) {
          next = p;
          break;
        }
      }
      if (next >= 0) break;
    }
    if (d < 0) return { executions, sleepBlocked, complete: true, violations: [...found.values()], maxDepth };
    const n = nodes[d]!;
    n.done.add(next);
    prefix = [...nodes.slice(0, d).map((x) => x.chosen), next];
    nodes.length = d + 1;
  }
}

function record(found: Map<string, FoundViolation>, v: EngineViolation, choices: number[], at: number): void {
  const f = found.get(v.id);
  if (f === undefined) found.set(v.id, { id: v.id, message: v.message, thread: v.thread, choices: choices.slice(), count: 1, firstAt: at });
  else f.count++;
}
