// A lockdep-style dependency graph over lock classes for one run
// (kernel/locking/lockdep.c, check_prev_add()/check_noncircular(), simplified:
// read acquisitions count like writes, and there is no irq-state tracking).
import type { Sim } from './engine.js';

interface Edge {
  /** thread name and step where the edge was first recorded, for the report */
  thread: string;
  step: number;
}

export class Lockdep {
  private readonly sim: Sim;
  /** class name -> index, in the order classes are first seen in this run */
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  /** class index -> indices of classes acquired while it was held */
  private readonly after: Set<number>[] = [];
  private readonly edges = new Map<number, Edge>();

  constructor(sim: Sim) {
    this.sim = sim;
  }

  /** The run's index of a lock class (locks look it up once, when they are made). */
  classId(cls: string): number {
    let id = this.ids.get(cls);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(cls, id);
      this.names.push(cls);
      this.after.push(new Set());
    }
    return id;
  }

  /** Called before a thread attempts class `cls` (lock_acquire() precedes the real acquisition). */
  acquire(cls: string | number): void {
    const c = typeof cls === 'number' ? cls : this.classId(cls);
    const t = this.sim.me;
    for (const h of t.held) {
      const hc = h.clsId ?? this.classId(h.cls);
      if (hc === c) continue; // nesting the same class is lockdep's subclass business
      // A known dependency was checked for cycles when it was first added, and any later
      // edge that closed a cycle through it was reported then (check_prev_add() does the same).
      if (this.after[hc]!.has(c)) continue;
      const path = this.path(c, hc);
      if (path !== null) {
        const first = this.edges.get(path[0]! * 65536 + path[1]!)!;
        this.sim.violate(
          'lock-order',
          `${t.name} takes ${this.names[c]} while holding ${this.names[hc]}, but ${path.map((i) => this.names[i]).join(' -> ')} was established earlier (${first.thread}, step ${first.step})`,
          `${this.names[hc]}\u0000${this.names[c]}`,
        );
        continue;
      }
      this.after[hc]!.add(c);
      this.edges.set(hc * 65536 + c, { thread: t.name, step: this.sim.step });
    }
  }

  /** A path from `from` to `to` (depth-first, neighbours by name so reports do not depend on ids), or null. */
  private path(from: number, to: number): number[] | null {
    const seen = new Set<number>();
    const walk = (c: number): number[] | null => {
      if (c === to) return [c];
      if (seen.has(c)) return null;
      seen.add(c);
      const next = [...this.after[c]!].sort((a, b) => (this.names[a]! < this.names[b]! ? -1 : 1));
      for (const n of next) {
        const p = walk(n);
        if (p !== null) return [c, ...p];
      }
      return null;
    };
    return walk(from);
  }
}
