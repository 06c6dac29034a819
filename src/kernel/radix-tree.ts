// The page-cache radix tree's tags (lib/radix-tree.c as mm/ and fs/dax.c use
// them, v4.6–v4.19): each slot carries tag bits beside it (PAGECACHE_TAG_DIRTY,
// _WRITEBACK, _TOWRITE). Tags are shared state like the slots: every get, set
// and clear is a footprint touch of the index's tag object, and a gang lookup
// by tag reads the set of tagged indices.
import type { Sim } from '../sim/engine.js';
import { SharedIntMap } from '../sim/shared.js';

// include/linux/fs.h
export const PAGECACHE_TAG_DIRTY = 0;
export const PAGECACHE_TAG_WRITEBACK = 1;
export const PAGECACHE_TAG_TOWRITE = 2;

export function tagName(tag: number): string {
  return ['DIRTY', 'WRITEBACK', 'TOWRITE'][tag] ?? String(tag);
}

/**
 * A radix tree of entries with per-slot tags. Replacing an entry (`set` on a
 * present index, radix_tree_replace_slot()) keeps its tags; deleting it
 * (radix_tree_delete()) clears them, so a later insert starts untagged.
 */
export class RadixTree<V> extends SharedIntMap<V> {
  /** index -> tag bits (1 << tag); an index with no tag has no key */
  private readonly tags: SharedIntMap<number>;

  constructor(sim: Sim) {
    super(sim);
    this.tags = new SharedIntMap<number>(sim);
  }

  /** radix_tree_delete(): the slot and its tags. */
  override delete(k: number): boolean {
    const had = super.delete(k);
    if (had) this.tags.delete(k);
    return had;
  }

  /** radix_tree_tag_set(): caller holds tree_lock; the index must hold an entry. */
  tagSet(k: number, tag: number): void {
    if (!this.has(k)) throw new Error(`radix_tree_tag_set(${k}): no entry (BUG_ON in the kernel)`);
    const t = this.tags.get(k) ?? 0;
    this.tags.set(k, t | (1 << tag));
  }

  /** radix_tree_tag_clear(): caller holds tree_lock. */
  tagClear(k: number, tag: number): void {
    const t = this.tags.get(k) ?? 0;
    if ((t & (1 << tag)) === 0) return;
    const n = t & ~(1 << tag);
    if (n === 0) this.tags.delete(k);
    else this.tags.set(k, n);
  }

  /** radix_tree_tag_get() */
  tagGet(k: number, tag: number): boolean {
    return ((this.tags.get(k) ?? 0) & (1 << tag)) !== 0;
  }

  /** The indices in [first, last] carrying `tag`, ascending (a gang lookup by tag). */
  tagged(tag: number, first: number, last: number): number[] {
    const out: number[] = [];
    for (const k of this.tags.keys()) {
      if (k < first || k > last) continue;
      if (((this.tags.get(k) ?? 0) & (1 << tag)) !== 0) out.push(k);
    }
    return out;
  }

  /** Tag bits of an index, without a footprint (tests and reports). */
  peekTags(k: number): number {
    return this.tags.peek(k) ?? 0;
  }
}
