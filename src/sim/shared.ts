// Shared state whose every access is a footprint touch (for partial-order reduction).
import type { Sim } from './engine.js';

/** Keys are page indices or block numbers: below 2^20 (the loader's page limit). */
export const KEY_LIMIT = 1 << 20;

/**
 * A map from small integer keys to values in which each key is its own shared
 * object and the key set is one more: `get`/`has` read a key, `set`/`delete`
 * write it (and the key set when a key appears or disappears), iteration
 * reads the key set. `peek*` read without touching (checkers' bookkeeping,
 * setup before any thread runs).
 */
export class SharedIntMap<V> {
  private readonly m = new Map<number, V>();
  private readonly sim: Sim;
  private readonly base: number;
  private readonly keySet: number;

  constructor(sim: Sim) {
    this.sim = sim;
    this.base = sim.obj(KEY_LIMIT + 1);
    this.keySet = this.base + KEY_LIMIT;
  }

  /** The object id standing for key `k`. */
  objOf(k: number): number {
    return this.base + k;
  }

  get(k: number): V | undefined {
    this.sim.touch(this.base + k, false);
    return this.m.get(k);
  }

  has(k: number): boolean {
    this.sim.touch(this.base + k, false);
    return this.m.has(k);
  }

  set(k: number, v: V): void {
    if (!this.m.has(k)) this.sim.touch(this.keySet, true);
    this.sim.touch(this.base + k, true);
    this.m.set(k, v);
  }

  delete(k: number): boolean {
    if (!this.m.has(k)) {
      this.sim.touch(this.base + k, false);
      return false;
    }
    this.sim.touch(this.keySet, true);
    this.sim.touch(this.base + k, true);
    return this.m.delete(k);
  }

  /** The keys in ascending order. */
  keys(): number[] {
    this.sim.touch(this.keySet, false);
    return [...this.m.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    this.sim.touch(this.keySet, false);
    return this.m.size;
  }

  peek(k: number): V | undefined {
    return this.m.get(k);
  }

  peekKeys(): number[] {
    return [...this.m.keys()].sort((a, b) => a - b);
  }

  peekEntries(): [number, V][] {
    return this.peekKeys().map((k) => [k, this.m.get(k)!]);
  }
}
