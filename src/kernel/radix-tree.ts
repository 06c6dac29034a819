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

/** Multi-order entries cover 1 << MULTI_ORDER indices (PMD_SHIFT - PAGE_SHIFT). */
export const MULTI_ORDER = 9;

/**
 * A radix tree of entries with per-slot tags. Replacing an entry (`set` on a
 * present index, radix_tree_replace_slot()) keeps its tags; deleting it
 * (radix_tree_delete()) clears them, so a later insert starts untagged.
 *
 * Multi-order entries (lib/radix-tree.c with CONFIG_RADIX_TREE_MULTIORDER,
 * v4.9–v4.19, as __radix_tree_insert(order) makes them for DAX PMD entries):
 * an entry for which `isMultiOrder` holds is kept once, at its 512-aligned head
 * index, and every index it covers finds it: get/has/set/delete and the tag
 * calls on a covered index act on the head (the sibling slots of the real
 * tree all lead to the canonical slot). Which PMD ranges hold one is a shared
 * map of its own, keyed by index >> 9, so lookups that miss read one more
 * object and nothing else changes for trees without multi-order entries.
 */
export class RadixTree<V> extends SharedIntMap<V> {
  /** index -> tag bits (1 << tag); an index with no tag has no key */
  private readonly tags: SharedIntMap<number>;
  /** index >> 9 -> 1 when the head index of that range holds a multi-order entry */
  private readonly multi: SharedIntMap<1>;
  private readonly isMultiOrder: (v: V) => boolean;

  constructor(sim: Sim, isMultiOrder: (v: V) => boolean = () => false) {
    super(sim);
    this.tags = new SharedIntMap<number>(sim);
    this.multi = new SharedIntMap<1>(sim);
    this.isMultiOrder = isMultiOrder;
  }

  /** The slot an index resolves to: itself, or the head of the multi-order entry covering it. */
  slotIndex(k: number): number {
    if (super.peek(k) !== undefined) return k;
    const head = (k >> MULTI_ORDER) << MULTI_ORDER;
    if (head !== k && this.multi.get(k >> MULTI_ORDER) !== undefined) return head;
    return k;
  }

  override get(k: number): V | undefined {
    const v = super.get(k);
    if (v !== undefined) return v;
    const head = (k >> MULTI_ORDER) << MULTI_ORDER;
    if (head === k || this.multi.get(k >> MULTI_ORDER) === undefined) return undefined;
    return super.get(head);
  }

  override has(k: number): boolean {
    return this.get(k) !== undefined;
  }

  /** radix_tree_insert / radix_tree_replace_slot(); a multi-order entry is inserted at its aligned head. */
  override set(k: number, v: V): void {
    const i = this.slotIndex(k);
    const wasMulti = super.peek(i) !== undefined && this.isMultiOrder(super.peek(i)!);
    const multi = this.isMultiOrder(v);
    if (multi && (i & ((1 << MULTI_ORDER) - 1)) !== 0) throw new Error(`radix tree: a multi-order entry at unaligned index ${i}`);
    super.set(i, v);
    if (multi && !wasMulti) this.multi.set(i >> MULTI_ORDER, 1);
    else if (!multi && wasMulti) this.multi.delete(i >> MULTI_ORDER);
  }

  /** radix_tree_delete(): the slot and its tags (a covered index deletes the whole multi-order entry). */
  override delete(k: number): boolean {
    const i = this.slotIndex(k);
    const old = super.peek(i);
    const had = super.delete(i);
    if (had) {
      this.tags.delete(i);
      if (this.isMultiOrder(old!)) this.multi.delete(i >> MULTI_ORDER);
    }
    return had;
  }

  /**
   * __radix_tree_insert(order) of a multi-order entry at aligned `head`: -EEXIST (true here)
   * when any index of the range already holds an entry (reads the key set).
   */
  rangeOccupied(head: number): boolean {
    const last = head + (1 << MULTI_ORDER) - 1;
    for (const k of this.keys()) if (k >= head && k <= last) return true;
    return this.multi.get(head >> MULTI_ORDER) !== undefined;
  }

  /** radix_tree_tag_set(): caller holds tree_lock; the index must hold an entry. */
  tagSet(k: number, tag: number): void {
    k = this.slotIndex(k);
    if (!this.has(k)) throw new Error(`radix_tree_tag_set(${k}): no entry (BUG_ON in the kernel)`);
    const t = this.tags.get(k) ?? 0;
    this.tags.set(k, t | (1 << tag));
  }

  /** radix_tree_tag_clear(): caller holds tree_lock. */
  tagClear(k: number, tag: number): void {
    k = this.slotIndex(k);
    const t = this.tags.get(k) ?? 0;
    if ((t & (1 << tag)) === 0) return;
    const n = t & ~(1 << tag);
    if (n === 0) this.tags.delete(k);
    else this.tags.set(k, n);
  }

  /** radix_tree_tag_get() */
  tagGet(k: number, tag: number): boolean {
    k = this.slotIndex(k);
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
