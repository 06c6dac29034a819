// Removing the page cache / DAX entries of a range: mm/truncate.c as the
// DAX filesystems call it from truncate and hole punch.
import {
  daxDeleteMappingEntry, deleteFromPageCache, lockPage, unlockPage, type AddressSpace, type HolePage, type TreeEntry,
} from './mapping.js';
import { unmapMappingRange } from './pagetable.js';
import { daxDeleteMappingEntryV49Plus } from './dax-iomap.js';
import type { KernelState } from './state.js';

// mm/truncate.c clear_exceptional_entry(), for DAX mappings:
//   v4.5–v4.6: under tree_lock, radix_tree_delete_item(): delete only if the slot still
//              holds the entry the lookup saw (store ids 37003001596, 37373199851).
//   v4.7–v4.9 (ac401cc78242): dax_delete_mapping_entry(): wait for the entry lock, delete, wake all.
//   v4.10 (c6dcf52c23d2, truncate_exceptional_entry()): the same call, which now wakes one.
export function* clearExceptionalEntry(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, void, void> {
  if (k.flags.dax_entry_lock) {
    if (k.flags.dax_radix_pmd_entries) yield* daxDeleteMappingEntryV49Plus(k, mapping, index); // 642261ac995e (v4.9)
    else yield* daxDeleteMappingEntry(k, mapping, index);
    return;
  }
  yield* mapping.treeLock.lock(k.sim);
  if (mapping.tree.get(index) === entry) {
    mapping.tree.delete(index); // radix_tree_delete_item()
    mapping.nrexceptional--;
    if (k.sim.rec) k.sim.log(`clear_exceptional_entry(${mapping.file}:${index})`);
  }
  mapping.treeLock.unlock(k.sim);
}

// mm/truncate.c truncate_inode_page() -> truncate_complete_page(), v4.6–v4.7:
// unmap a still-mapped page, then delete it from the page cache.
function* truncateInodePage(k: KernelState, mapping: AddressSpace, page: HolePage): Generator<void, void, void> {
  if (page.mapcount > 0) yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, page.index, 1));
  if (page.mapping !== mapping) return; // -EIO
  yield* deleteFromPageCache(k, mapping, page);
}

// mm/swap.c pagevec_lookup_entries() -> find_get_entries(), v4.6–v4.19.
/** pagevec_lookup_entries(): a lockless (RCU) gang lookup of [start, end), at most PAGEVEC_SIZE = 14. */
export function* lookupEntries(k: KernelState, mapping: AddressSpace, start: number, end: number): Generator<void, [number, TreeEntry][], void> {
  yield;
  const out: [number, TreeEntry][] = [];
  // a multi-order (2 MiB) entry that covers `start` from a head below it is found too (v4.9+)
  const head = mapping.tree.slotIndex(start);
  if (head < start) out.push([head, mapping.tree.get(head)!]);
  for (const i of mapping.tree.keys()) {
    if (i >= start && i < end) out.push([i, mapping.tree.get(i)!]);
    if (out.length === 14) break;
  }
  return out;
}

// mm/truncate.c truncate_inode_pages_range(), v4.6–v4.7, for page-aligned ranges
// [start, end) in pages: a first pass that skips locked pages (trylock), then a
// second pass that waits for page locks and repeats until the range is empty.
export function* truncateInodePagesRange(k: KernelState, mapping: AddressSpace, start: number, end: number): Generator<void, void, void> {
  const sim = k.sim;
  yield;
  if (mapping.tree.size === 0) return; // mapping->nrpages == 0 && mapping->nrexceptional == 0
  let index = start;
  for (;;) {
    const pvec = yield* lookupEntries(k, mapping, index, end);
    if (pvec.length === 0) break;
    for (const [i, entry] of pvec) {
      index = i;
      if (entry.kind === 'dax') {
        yield* clearExceptionalEntry(k, mapping, i, entry);
        continue;
      }
      yield;
      if (entry.locked !== null) continue; // !trylock_page()
      entry.locked = sim.me.name;
      yield* truncateInodePage(k, mapping, entry);
      unlockPage(sim, entry);
    }
    index++;
  }
  index = start;
  for (;;) {
    const pvec = yield* lookupEntries(k, mapping, index, end);
    if (pvec.length === 0) {
      if (index === start) break; // "If all gone from start onwards, we're done"
      index = start; // "Otherwise restart to make sure all gone"
      continue;
    }
    for (const [i, entry] of pvec) {
      index = i;
      if (entry.kind === 'dax') {
        yield* clearExceptionalEntry(k, mapping, i, entry);
        continue;
      }
      yield* lockPage(sim, entry);
      yield* truncateInodePage(k, mapping, entry);
      unlockPage(sim, entry);
    }
    index++;
  }
}

// mm/truncate.c truncate_pagecache(), v3.x–v6.x (store id 102296363): unmap
// (even_cows = 1: private COW pages too), drop the cache from the new size on, unmap again.
export function* truncatePagecache(k: KernelState, mapping: AddressSpace, newSize: number): Generator<void, void, void> {
  yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, newSize, 0, true));
  yield* truncateInodePagesRange(k, mapping, newSize, Number.MAX_SAFE_INTEGER);
  // "it is possible for private pages to be COWed, which remain after truncate_inode_pages
  // finishes, hence the second unmap_mapping_range call must be made for correctness"
  yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, newSize, 0, true));
}

// mm/truncate.c truncate_pagecache_range(), v3.x–v6.x (store id 102296363): one
// unmap without even_cows ("hole-punching should not remove private COWed pages from
// the hole"), then drop the cache of [first, last].
export function* truncatePagecacheRange(k: KernelState, mapping: AddressSpace, first: number, last: number): Generator<void, void, void> {
  if (last >= first) yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, first, last - first + 1));
  yield* truncateInodePagesRange(k, mapping, first, last + 1);
}
