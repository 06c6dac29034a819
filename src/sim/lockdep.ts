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
  /** class -> classes acquired while it was held */
  private readonly after = new Map<string, Map<string, Edge>>();

  constructor(sim: Sim) {
    this.sim = sim;
  }

  /** Called before a thread attempts `cls` (lock_acquire() precedes the real acquisition). */
  acquire(cls: string): void {
    const t = this.sim.me;
    for (const h of t.held) {
      if (h.cls === cls) continue; // nesting the same class is lockdep's subclass business
      const path = this.path(cls, h.cls);
      if (path !== null) {
        const first = this.after.get(path[0]!)!.get(path[1]!)!;
        this.sim.violate(
          'lock-order',
          `${t.name} takes ${cls} while holding ${h.cls}, but ${path.join(' -> ')} was established earlier (${first.thread}, step ${first.step})`,
          `${h.cls}\u0000${cls}`,
        );
        continue;
      }
      let m = this.after.get(h.cls);
      if (m === undefined) this.after.set(h.cls, (m = new Map()));
      if (!m.has(cls)) m.set(cls, { thread: t.name, step: this.sim.step });
    }
  }

  /** A path from `from` to `to` in the graph (depth-first, deterministic order), or null. */
  private path(from: string, to: string): string[] | null {
    const seen = new Set<string>();
    const walk = (c: string): string[] | null => {
      if (c === to) return [c];
      if (seen.has(c)) return null;
      seen.add(c);
      const next = this.after.get(c);
      if (next === undefined) return null;
      for (const n of next.keys()) {
        const p = walk(n);
        if (p !== null) return [c, ...p];
      }
      return null;
    };
    return walk(from);
  }
}
