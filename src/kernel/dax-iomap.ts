// fs/dax.c from v4.9 to v4.12 at the PTE level: the entry encoding with
// PMD/HZP/EMPTY bits and PMD-aligned wait keys (642261ac995e, 63e95b5c4f16),
// the entry-lock helpers, holes as page-cache pages, the get_block fault that
// ext4 still used in v4.9, the iomap fault in its v4.9 order (entry lock,
// then ->iomap_begin; v4.12 again) and its v4.10 order (->iomap_begin first,
// 9f141d6ef625), and dax_pfn_mkwrite before and after 2f89dc12a25d.
//
// Sources (notes/kernel-v4.9-v4.19.md quotes them): v4.9 fs/dax.c, store id
// 706997388; v4.10 fs/dax.c (comments stripped), 24765410162; v4.11,
// 45162155; v4.12 logic, 1521764; the v4.9-era include/linux/dax.h entry
// bits, 39084630357; mm/filemap.c v4.10–v4.13, 24094697955; the postings of
// 965d004af540 (3055664430) and f449b936f1af (3063192620).
//
// PMD faults (src/kernel/huge.ts) use the PMD requests and the PMD downgrade of
// grab_mapping_entry() here, with 0cb80b484755's unmap/preload order. Not
// modelled: allocation failures (radix_tree_preload() and page allocation succeed).
// The DIRTY tag is set where the v4.9-v4.12 code sets it (dax_insert_mapping_entry()
// for a write fault, dax_pfn_mkwrite()); fsync/msync read it (src/kernel/writeback.ts).
import type { Sim } from '../sim/engine.js';
import {
  finishWait, initWaitEntry, prepareToWaitExclusive, schedule, waitqueueActive, wakeUp,
  type WaitQueueHead,
} from '../sim/waitqueue.js';
import {
  EBUSY, EEXIST, EIO, ENOMEM, daxEntryWaitqueue, deleteFromPageCacheLocked, describeEntry, errName, findOrCreatePage, isUnlocked, lockPage,
  radixTreePreload, radixTreePreloadEnd, unlockPage, wakeExceptionalEntryFunc,
  type AddressSpace, type DaxEntry, type EntryKey, type HolePage, type PageCacheDax, type TreeEntry,
} from './mapping.js';
import {
  FAULT_FLAG_WRITE, VM_FAULT_DAX_LOCKED, VM_FAULT_DONE_COW, VM_FAULT_ERROR, VM_FAULT_LOCKED, VM_FAULT_MAJOR, VM_FAULT_NEEDDSYNC, VM_FAULT_NOPAGE, VM_FAULT_OOM, VM_FAULT_SIGBUS,
  errToFault, faultName, finishFault, finishMkwriteFault, getBlockLogged, iSizeRead, vmInsertMixed, where,
  type FsOps, type Vmf,
} from './fault.js';
import { unmapMappingRange, type Vma } from './pagetable.js';
import { clearUserHighpage, copyUserDax } from './cow.js';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE } from './radix-tree.js';
import { RADIX_DAX_ZERO_PAGE, daxAssociateEntry, daxDisassociateEntry, daxEntrySize, vmInsertMixedMkwrite, vmInsertMixedZero } from './dax-pfn.js';
import type { Inode, KernelState } from './state.js';
import { bdevDirectAccess } from './media.js';
import { vfsFsyncRange } from './writeback.js';

// ---------------------------------------------------------------------------
// Entry encoding, include/linux/dax.h v4.9–v4.13 (store id 39084630357):
// RADIX_DAX_SHIFT = RADIX_TREE_EXCEPTIONAL_SHIFT + 4. The lock bit is the
// entry's `locked` field, the sector its `block`, the other bits `flags`.

export const RADIX_DAX_ENTRY_LOCK = 1 << 2;
export const RADIX_DAX_PMD = 1 << 3;
export const RADIX_DAX_HZP = 1 << 4;
export const RADIX_DAX_EMPTY = 1 << 5;
/** PG_PMD_COLOUR = (PMD_SIZE >> PAGE_SHIFT) - 1 */
export const PG_PMD_COLOUR = 511;

/** include/linux/iomap.h, v4.10: the flags ->iomap_begin gets */
export const IOMAP_WRITE = 1 << 0;
/** IOMAP_FAULT (9484ab1bf, v4.10): the fs is called from a page fault */
export const IOMAP_FAULT = 1 << 3;

// include/linux/dax.h dax_radix_locked_entry(), v4.9–v4.16: entries are created locked.
export function daxRadixLockedEntry(sim: Sim, block: number | null, flags: number): DaxEntry {
  return { kind: 'dax', block, locked: true, lockedBy: sim.me.name, flags };
}

function flagsOf(e: DaxEntry): number {
  return e.flags ?? 0;
}

// fs/dax.c dax_is_pmd_entry() / dax_is_pte_entry() / dax_is_zero_entry() / dax_is_empty_entry(), v4.9–v4.19
export function daxIsPmdEntry(e: DaxEntry): boolean {
  return (flagsOf(e) & RADIX_DAX_PMD) !== 0;
}
export function daxIsZeroEntry(e: DaxEntry): boolean {
  return (flagsOf(e) & RADIX_DAX_HZP) !== 0;
}
export function daxIsEmptyEntry(e: DaxEntry): boolean {
  return (flagsOf(e) & RADIX_DAX_EMPTY) !== 0;
}

// fs/dax.c lock_slot() / unlock_slot(), v4.9 (radix_tree_replace_slot(); the 3-argument form
// from v4.10 does the same): flip RADIX_DAX_ENTRY_LOCK of the slot's value. Caller holds tree_lock.
export function lockSlot(sim: Sim, mapping: AddressSpace, index: number, e: DaxEntry): DaxEntry {
  const locked: DaxEntry = { ...e, locked: true, lockedBy: sim.me.name };
  mapping.tree.set(index, locked);
  return locked;
}
// (unlock_slot(), the other half of the comment above)
function unlockSlot(mapping: AddressSpace, index: number, e: DaxEntry): DaxEntry {
  const unlocked: DaxEntry = { ...e, locked: false, lockedBy: null };
  mapping.tree.set(index, unlocked);
  return unlocked;
}

// ---------------------------------------------------------------------------
// The entry lock, v4.9–v4.12 (63e95b5c4f16 keys; identical text in v4.10, v4.11, v4.12).

// fs/dax.c dax_entry_waitqueue(), v4.9–v4.19: hash_long(mapping ^ entry_start, 12); entry_start
// is the index rounded down to the PMD when `entry` is a PMD entry.
function daxEntryWaitqueueV49(k: KernelState, mapping: AddressSpace, index: number, entry: DaxEntry): { wq: WaitQueueHead<EntryKey>; key: EntryKey } {
  const entryStart = daxIsPmdEntry(entry) ? index & ~PG_PMD_COLOUR : index;
  return { wq: daxEntryWaitqueue(k, mapping, entryStart), key: { mapping, index: entryStart } };
}

// fs/dax.c get_unlocked_mapping_entry(), v4.9–v4.12: called and returns with tree_lock
// held; sleeps exclusively while the slot holds a locked exceptional entry.
export function* getUnlockedMappingEntryV49(k: KernelState, mapping: AddressSpace, index: number): Generator<void, TreeEntry | undefined, void> {
  const sim = k.sim;
  const ewait = initWaitEntry<EntryKey>(sim, null, wakeExceptionalEntryFunc);
  for (;;) {
    const entry = mapping.tree.get(index);
    if (entry === undefined || entry.kind !== 'dax' || !entry.locked) return entry;
    const { wq, key } = daxEntryWaitqueueV49(k, mapping, index, entry);
    ewait.key = key;
    prepareToWaitExclusive(sim, wq, ewait);
    mapping.treeLock.unlock(sim);
    yield* schedule(sim, `get_unlocked_mapping_entry(${mapping.file}:${index}) [entry locked by ${entry.lockedBy ?? '?'}]`, () => isUnlocked(mapping, index));
    finishWait(sim, wq, ewait);
    yield* mapping.treeLock.lock(sim);
  }
}

// fs/dax.c dax_wake_mapping_entry_waiter(), v4.9–v4.13: the key comes from the entry the
// waker saw; waitqueue_active() peek, then __wake_up(nr_exclusive = wake_all ? 0 : 1).
export function daxWakeMappingEntryWaiterV49(k: KernelState, mapping: AddressSpace, index: number, entry: DaxEntry, wakeAll: boolean): void {
  const { wq, key } = daxEntryWaitqueueV49(k, mapping, index, entry);
  if (waitqueueActive(k.sim, wq)) wakeUp(k.sim, wq, wakeAll ? 0 : 1, key);
}

// fs/dax.c dax_unlock_mapping_entry(), v4.9–v4.12: clear the lock bit under tree_lock,
// wake one waiter after dropping it.
export function* daxUnlockMappingEntryV49(k: KernelState, mapping: AddressSpace, index: number): Generator<void, void, void> {
  const sim = k.sim;
  yield* mapping.treeLock.lock(sim);
  const entry = mapping.tree.get(index);
  if (entry === undefined || entry.kind !== 'dax' || !entry.locked) {
    sim.violate('kernel-warn', `WARN_ON_ONCE(!entry || !radix_tree_exceptional_entry(entry) || !slot_locked(mapping, slot)) in dax_unlock_mapping_entry(): ${mapping.file}:${index} holds ${describeEntry(entry)}`, 'dax_unlock_mapping_entry');
    mapping.treeLock.unlock(sim);
    return;
  }
  unlockSlot(mapping, index, entry);
  mapping.treeLock.unlock(sim);
  daxWakeMappingEntryWaiterV49(k, mapping, index, entry, false);
}

// fs/dax.c put_locked_mapping_entry(), v4.9–v4.13: a hole page is unlocked (and its
// reference dropped), an exceptional entry gets its lock bit cleared.
export function* putLockedMappingEntryV49(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, void, void> {
  if (entry.kind === 'page') {
    yield;
    unlockPage(k.sim, entry); // unlock_page(); put_page()
  } else {
    yield* daxUnlockMappingEntryV49(k, mapping, index);
  }
}

// fs/dax.c put_unlocked_mapping_entry(), v4.9–v4.13: pass the exclusive wakeup on.
export function putUnlockedMappingEntryV49(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry | undefined): void {
  if (entry === undefined || entry.kind !== 'dax') return;
  daxWakeMappingEntryWaiterV49(k, mapping, index, entry, false);
}

// fs/dax.c grab_mapping_entry(mapping, index, size_flag), v4.9–v4.12 (v4.9 text in
// notes/kernel-v4.9-v4.19.md §2.3, store id 706997388; v4.10 and v4.11 changes §2.4):
// a locked entry at `index`: a new locked EMPTY entry of the requested size, the
// existing exceptional entry with its lock bit set, or the hole page locked with
// lock_page(); a PTE request returns nothing else (allocation failures are not
// modelled). PTE requests go through this function, PMD requests through
// grabMappingEntryPmdV49(), which can also fail with -EEXIST.
//   v4.9–v4.10: with no entry, tree_lock is dropped for radix_tree_preload() and a
//   racing insert shows as -EEXIST from __radix_tree_insert(): a PTE request restarts.
//   v4.11 (e11f8b7b6c4e): the index is looked up again after the preload; restart if taken.
export function* grabMappingEntryV49(k: KernelState, mapping: AddressSpace, index: number, sizeFlag: number): Generator<void, TreeEntry, void> {
  if (sizeFlag & RADIX_DAX_PMD) throw new Error('model: grab_mapping_entry(RADIX_DAX_PMD) goes through grabMappingEntryPmdV49()');
  const r = yield* grabMappingEntryInner(k, mapping, index, 0);
  if (typeof r === 'number') throw new Error(`model: grab_mapping_entry(${mapping.file}:${index}) failed with ${errName(r)} for a PTE request`);
  return r;
}

/** grab_mapping_entry(mapping, pgoff, RADIX_DAX_PMD) for a PMD fault: `index` is PMD-aligned; -EEXIST when a page or a 4k entry is in the way. */
export function* grabMappingEntryPmdV49(k: KernelState, mapping: AddressSpace, index: number): Generator<void, TreeEntry | number, void> {
  return yield* grabMappingEntryInner(k, mapping, index, RADIX_DAX_PMD);
}

// (the body of grab_mapping_entry(), v4.9–v4.12, for both sizes)
//   A PMD request that finds a hole page or a PTE-sized entry: -EEXIST. A PTE request that
//   finds a 2 MiB zero or empty entry downgrades it: lock it, drop tree_lock, unmap the
//   2 MiB range if it is the huge zero page, preload, retake tree_lock, delete the PMD
//   entry and wake all its waiters, insert a 4k EMPTY entry. The unmap follows
//   radix_tree_preload() in v4.9 (preemption off: sleeping in atomic context) and
//   precedes it from v4.10 (0cb80b484755, flag dax_grab_unmap_before_preload).
function* grabMappingEntryInner(k: KernelState, mapping: AddressSpace, index: number, sizeFlag: number): Generator<void, TreeEntry | number, void> {
  const sim = k.sim;
  const pmdRequest = (sizeFlag & RADIX_DAX_PMD) !== 0;
  for (;;) {
    yield* mapping.treeLock.lock(sim);
    let entry = yield* getUnlockedMappingEntryV49(k, mapping, index);
    let pmdDowngrade = false;
    if (entry !== undefined) {
      if (pmdRequest) {
        if (entry.kind === 'page' || !daxIsPmdEntry(entry)) {
          putUnlockedMappingEntryV49(k, mapping, index, entry);
          mapping.treeLock.unlock(sim);
          if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}, PMD) -> -EEXIST (${describeEntry(entry)})`);
          return -EEXIST;
        }
      } else if (entry.kind === 'dax' && daxIsPmdEntry(entry) && (daxIsZeroEntry(entry) || daxIsEmptyEntry(entry))) {
        pmdDowngrade = true;
      }
    }
    if (entry === undefined || pmdDowngrade) {
      // "Make sure 'entry' remains valid while we drop mapping->tree_lock."
      if (pmdDowngrade) entry = lockSlot(sim, mapping, index, entry as DaxEntry);
      mapping.treeLock.unlock(sim);
      const zeroDowngrade = pmdDowngrade && daxIsZeroEntry(entry as DaxEntry);
      const head = index & ~PG_PMD_COLOUR;
      // "Besides huge zero pages the only other thing that gets downgraded are empty entries which don't need to be unmapped."
      if (zeroDowngrade && k.flags.dax_grab_unmap_before_preload) {
        yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, head, PG_PMD_COLOUR + 1)); // 0cb80b484755 (v4.10)
      }
      yield* radixTreePreload(sim);
      if (zeroDowngrade && !k.flags.dax_grab_unmap_before_preload) {
        // v4.9: after radix_tree_preload(), which returned with preemption disabled
        yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, head, PG_PMD_COLOUR + 1));
      }
      yield* mapping.treeLock.lock(sim);
      if (entry === undefined && k.flags.dax_grab_relookup_after_preload) {
        // e11f8b7b6c4e: "See if another thread inserted an entry at our index during this time."
        if (mapping.tree.get(index) !== undefined) {
          radixTreePreloadEnd(sim);
          mapping.treeLock.unlock(sim);
          continue;
        }
      }
      if (pmdDowngrade) {
        // (4.19.y calls dax_disassociate_entry(entry, mapping, false) first: a no-op for the zero and
        // empty entries that are downgraded, dax_entry_size() being 0 for them)
        mapping.tree.delete(index); // the whole 2 MiB entry
        mapping.nrexceptional--;
        daxWakeMappingEntryWaiterV49(k, mapping, index, entry as DaxEntry, true);
        if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}): PMD downgrade, ${describeEntry(entry)} deleted`);
      }
      const e = daxRadixLockedEntry(sim, null, sizeFlag | RADIX_DAX_EMPTY);
      // __radix_tree_insert(order): -EEXIST if any slot of the range is taken
      const collides = pmdRequest ? mapping.tree.rangeOccupied(index) : mapping.tree.has(index);
      if (collides) {
        radixTreePreloadEnd(sim);
        mapping.treeLock.unlock(sim);
        // "Someone already created the entry?" A PTE request restarts (v4.9–v4.10; from v4.11 the
        // re-lookup above makes this unreachable for it); a PMD request fails.
        if (!pmdRequest) continue;
        if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}, PMD) -> -EEXIST (__radix_tree_insert)`);
        return -EEXIST;
      }
      mapping.tree.set(index, e);
      radixTreePreloadEnd(sim);
      // "Good, we have inserted empty locked entry into the tree."
      mapping.nrexceptional++;
      mapping.treeLock.unlock(sim);
      if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}${pmdRequest ? ', PMD' : ''}) -> new ${pmdRequest ? 'PMD ' : ''}empty entry, locked`);
      return e;
    }
    if (entry.kind === 'page') {
      // "Normal page in radix tree?": get_page(), lock it outside tree_lock, re-check page->mapping
      mapping.treeLock.unlock(sim);
      yield* lockPage(sim, entry);
      if (entry.mapping !== mapping) {
        unlockPage(sim, entry); // "Page got truncated? Retry..."
        continue;
      }
      if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}) -> ${entry.label}, page locked`);
      return entry;
    }
    const locked = lockSlot(sim, mapping, index, entry);
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}${pmdRequest ? ', PMD' : ''}) -> ${describeEntry(entry)}, locked`);
    return locked;
  }
}

// fs/dax.c dax_delete_mapping_entry(), v4.9: wait for the entry lock, delete, drop
// tree_lock, wake all waiters.
export function* daxDeleteMappingEntryV49(k: KernelState, mapping: AddressSpace, index: number): Generator<void, number, void> {
  const sim = k.sim;
  yield* mapping.treeLock.lock(sim);
  const entry = yield* getUnlockedMappingEntryV49(k, mapping, index);
  if (entry === undefined || entry.kind !== 'dax') {
    sim.violate('kernel-warn', `WARN_ON_ONCE(!entry || !radix_tree_exceptional_entry(entry)) in dax_delete_mapping_entry(): ${mapping.file}:${index} holds ${describeEntry(entry)}`, 'dax_delete_mapping_entry');
    mapping.treeLock.unlock(sim);
    return 0;
  }
  mapping.tree.delete(index);
  mapping.nrexceptional--;
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_delete_mapping_entry(${mapping.file}:${index})`);
  daxWakeMappingEntryWaiterV49(k, mapping, index, entry, true);
  return 1;
}

// fs/dax.c __dax_invalidate_mapping_entry(), v4.10–v4.13 (c6dcf52c23d2; VERBATIM v4.12
// text in notes/kernel-rw-writeback.md A.7, id 1521764): wait for the entry lock; unless
// truncating, keep a DIRTY/TOWRITE-tagged entry; delete; pass the wakeup on to ONE
// waiter, still under tree_lock.
function* daxInvalidateMappingEntryV410(k: KernelState, mapping: AddressSpace, index: number, trunc: boolean): Generator<void, number, void> {
  const sim = k.sim;
  let ret = 0;
  yield* mapping.treeLock.lock(sim);
  const entry = yield* getUnlockedMappingEntryV49(k, mapping, index);
  const keep = !trunc && entry !== undefined && entry.kind === 'dax' &&
    (mapping.tree.tagGet(index, PAGECACHE_TAG_DIRTY) || mapping.tree.tagGet(index, PAGECACHE_TAG_TOWRITE));
  if (entry !== undefined && entry.kind === 'dax' && !keep) {
    if (k.flags.dax_page_association) daxDisassociateEntry(k, entry, mapping, trunc); // d2c997c0f145 (v4.17)
    mapping.tree.delete(index);
    mapping.nrexceptional--;
    ret = 1;
  }
  putUnlockedMappingEntryV49(k, mapping, index, entry);
  mapping.treeLock.unlock(sim);
  if (sim.rec) {
    if (ret) sim.log(`${trunc ? 'dax_delete_mapping_entry' : 'dax_invalidate_mapping_entry_sync'}(${mapping.file}:${index})`);
    else if (keep) sim.log(`dax_invalidate_mapping_entry_sync(${mapping.file}:${index}): entry is tagged DIRTY/TOWRITE, kept`);
  }
  return ret;
}

// fs/dax.c dax_invalidate_mapping_entry_sync(), v4.10–v4.13 (c6dcf52c23d2): "Invalidate
// exceptional DAX entry if it is clean." 1 if it was deleted, 0 if it was kept (or gone).
export function* daxInvalidateMappingEntrySync(k: KernelState, mapping: AddressSpace, index: number): Generator<void, number, void> {
  return yield* daxInvalidateMappingEntryV410(k, mapping, index, false);
}

// fs/dax.c dax_delete_mapping_entry(), v4.10–v4.13: the truncate case of the above, WARN if nothing was deleted.
export function* daxDeleteMappingEntryV410(k: KernelState, mapping: AddressSpace, index: number): Generator<void, number, void> {
  const ret = yield* daxInvalidateMappingEntryV410(k, mapping, index, true);
  // "Since the caller has seen exceptional entry for this index, we better find it at that index as well..."
  if (!ret) k.sim.violate('kernel-warn', `WARN_ON_ONCE(!ret) in dax_delete_mapping_entry(): no DAX entry left at ${mapping.file}:${index}`, 'dax_delete_mapping_entry');
  return ret;
}

// ---------------------------------------------------------------------------
// Installing a mapping and loading holes.

/** How page_cache_tree_insert() treats our locked EMPTY entry in this kernel. */
function pageCacheDax(k: KernelState): PageCacheDax {
  return { entryLock: true, emptyBits: true, wakeAll: k.flags.dax_hole_insert_wake_all };
}

// fs/dax.c dax_insert_mapping_entry(), v4.9–v4.13 (PTE entries, flags 0): a hole page is
// unmapped, deleted from the page cache and replaced by the new locked entry; an EMPTY
// (or zero) entry is replaced; a real entry already there is left alone and only tagged.
export function* daxInsertMappingEntryV49(k: KernelState, vma: Vma, vmf: Vmf, entry: TreeEntry, block: number | null, flags: number): Generator<void, TreeEntry, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const index = vmf.pgoff;
  // if (vmf->flags & FAULT_FLAG_WRITE) __mark_inode_dirty(I_DIRTY_PAGES): no inode dirty state is modelled
  const holeFill = entry.kind === 'page';
  if (holeFill) {
    // "Unmap the page now before we remove it from page cache below. The page is locked so it cannot be faulted in again."
    yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, index, 1));
    yield* radixTreePreload(sim);
  } else if (daxIsZeroEntry(entry) && !(flags & RADIX_DAX_HZP)) {
    if (daxIsPmdEntry(entry)) {
      // "replacing huge zero page with PMD block mapping"
      yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, index & ~PG_PMD_COLOUR, PG_PMD_COLOUR + 1));
    } else {
      if (!k.flags.dax_zero_page_holes) throw new Error(`model: dax_insert_mapping_entry() over a 4k zero entry at ${where(vma, index)} before v4.14`);
      // v4.14 (91d25ba8a6b0): "we are replacing a zero page with block mapping": unmap the 4k zero page
      yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, index, 1));
    }
  }
  yield* mapping.treeLock.lock(sim);
  const newEntry = daxRadixLockedEntry(sim, block, flags);
  if (k.flags.dax_page_association && entry.kind === 'dax' && daxEntrySize(entry) !== daxEntrySize(newEntry)) {
    // v4.17 (d2c997c0f145): a size-class change moves page->mapping from the old pfns to the new ones
    daxDisassociateEntry(k, entry, mapping, false);
    daxAssociateEntry(k, newEntry, mapping, index);
  }
  let result: TreeEntry = newEntry;
  let what: string;
  if (entry.kind === 'page') {
    deleteFromPageCacheLocked(k, mapping, entry); // __delete_from_page_cache(); put_page()
    mapping.tree.set(index, newEntry); // __radix_tree_insert(): the slot was just emptied
    mapping.nrexceptional++;
    what = `replaced ${entry.label}`;
  } else if (daxIsZeroEntry(entry) || daxIsEmptyEntry(entry)) {
    const ret = mapping.tree.get(index);
    if (ret !== entry) {
      sim.violate('kernel-warn', `WARN_ON_ONCE(ret != entry) in dax_insert_mapping_entry(): ${where(vma, index)} holds ${describeEntry(ret)}, not the entry this fault locked`, 'dax_insert_mapping_entry');
    }
    mapping.tree.set(index, newEntry); // radix_tree_replace_slot()
    what = `replaced the ${daxIsPmdEntry(entry) ? 'PMD ' : ''}${daxIsZeroEntry(entry) ? (daxIsPmdEntry(entry) ? 'huge zero' : 'zero') : 'empty'} entry`;
  } else {
    // "If a normal PTE or PMD entry is already in the tree, we leave it alone." v4.9–v4.13:
    // the caller gets new_entry, which is not in the tree; its unlock looks the index up
    // again. v4.14 (91d25ba8a6b0) returns the entry that stays in the tree.
    result = k.flags.dax_zero_page_holes ? entry : newEntry;
    what = `left ${describeEntry(entry)} in place`;
  }
  if (vmf.flags & FAULT_FLAG_WRITE) {
    mapping.tree.tagSet(index, PAGECACHE_TAG_DIRTY); // radix_tree_tag_set(page_tree, index, PAGECACHE_TAG_DIRTY)
    what += ', tagged DIRTY';
  }
  mapping.treeLock.unlock(sim);
  if (entry.kind === 'page') {
    radixTreePreloadEnd(sim);
    unlockPage(sim, entry); // "We don't need hole page anymore": unlock_page(); put_page()
  }
  const made = block === null ? (flags & RADIX_DAX_PMD ? 'huge zero' : 'zero') : `blk ${block}`;
  if (sim.rec) sim.log(`dax_insert_mapping_entry(${where(vma, index)}) -> ${made}${flags & RADIX_DAX_PMD ? ' (PMD)' : ''}, locked, ${what}`);
  return result;
}

/** `void **entryp` of the C code */
export interface EntryRef {
  e: TreeEntry;
}

// fs/dax.c dax_insert_mapping(), v4.9–v4.14 (inlined into the fault in v4.15, 1b5a1cb21e0c):
// dax_map_atomic() (the device never goes away here), the tree entry, then
// vm_insert_mixed(): a write-protected PTE; from v4.14 a write fault maps writable with
// vm_insert_mixed_mkwrite() (91d25ba8a6b0's series).
function* daxInsertMapping(k: KernelState, vma: Vma, vmf: Vmf, block: number, entryp: EntryRef): Generator<void, number, void> {
  // dax_map_atomic() (v4.12: dax_direct_access() in dax_iomap_pfn()): -EIO for a bad block, -EINVAL off a page boundary
  const err = bdevDirectAccess(k, block, 'dax_map_atomic');
  if (err) return err;
  entryp.e = yield* daxInsertMappingEntryV49(k, vma, vmf, entryp.e, block, 0);
  if (k.flags.dax_zero_page_holes && vmf.flags & FAULT_FLAG_WRITE) return yield* vmInsertMixedMkwrite(k, vma, vmf.pgoff, block);
  return yield* vmInsertMixed(k, vma, vmf.pgoff, block);
}

// fs/dax.c dax_load_hole(), v4.9: a hole page replaces the locked EMPTY entry (inside
// page_cache_tree_insert(), which wakes the entry's waiters) and is returned locked
// (VM_FAULT_LOCKED) for the generic fault code to map and unlock.
function* daxLoadHoleV49(k: KernelState, vma: Vma, entry: TreeEntry, vmf: Vmf): Generator<void, number, void> {
  if (entry.kind === 'page') {
    // "Hole page already exists? Return it..."
    vmf.page = entry;
    if (k.sim.rec) k.sim.log(`dax_load_hole: ${entry.label} already there`);
    return VM_FAULT_LOCKED;
  }
  // "This will replace locked radix tree entry with a hole page"
  const page = yield* findOrCreatePage(k, vma.mapping, vmf.pgoff, pageCacheDax(k));
  if (page === null) {
    yield* putLockedMappingEntryV49(k, vma.mapping, vmf.pgoff, entry);
    return VM_FAULT_OOM;
  }
  vmf.page = page;
  if (k.sim.rec) k.sim.log(`dax_load_hole: ${page.label} replaces the locked entry`);
  return VM_FAULT_LOCKED;
}

// fs/dax.c dax_load_hole(), v4.10–v4.13 (f449b936f1af "dax: Finish fault completely when
// loading holes"): the hole page is mapped here (finish_fault()); *entry becomes the page,
// which the caller's put_locked_mapping_entry() unlocks. VM_FAULT_NOPAGE.
function* daxLoadHoleV410(k: KernelState, vma: Vma, entryp: EntryRef, vmf: Vmf): Generator<void, number, void> {
  let page: HolePage | null;
  if (entryp.e.kind === 'page') {
    page = entryp.e;
    if (k.sim.rec) k.sim.log(`dax_load_hole: ${page.label} already there`);
  } else {
    page = yield* findOrCreatePage(k, vma.mapping, vmf.pgoff, pageCacheDax(k));
    if (page === null) return VM_FAULT_OOM;
    if (k.sim.rec) k.sim.log(`dax_load_hole: ${page.label} replaces the locked entry`);
  }
  vmf.page = page;
  const ret = yield* finishFault(k, vma, vmf);
  vmf.page = null;
  entryp.e = page;
  if (!ret) return VM_FAULT_NOPAGE; // get_page() for the PTE
  return ret;
}

// fs/dax.c dax_load_hole(), v4.14–v4.19 (91d25ba8a6b0; store ids 24324988927 (v4.14),
// 3323916569 (4.19.y)): the locked EMPTY entry becomes a locked 4k ZERO entry
// (dax_insert_mapping_entry(..., RADIX_DAX_ZERO_PAGE), not dirty), and the shared zero
// page is mapped read-only with vm_insert_mixed(); its -EBUSY is ignored (v4.14: ret stays
// VM_FAULT_NOPAGE; 4.19: vmf_insert_mixed() turns -EBUSY into VM_FAULT_NOPAGE).
function* daxLoadHoleV414(k: KernelState, vma: Vma, entryp: EntryRef, vmf: Vmf): Generator<void, number, void> {
  entryp.e = yield* daxInsertMappingEntryV49(k, vma, { ...vmf, flags: vmf.flags & ~FAULT_FLAG_WRITE }, entryp.e, null, RADIX_DAX_ZERO_PAGE);
  yield* vmInsertMixedZero(k, vma, vmf.pgoff);
  if (k.sim.rec) k.sim.log(`dax_load_hole: zero entry, zero page mapped`);
  return VM_FAULT_NOPAGE;
}

/** dax_load_hole() of the version: the fault's return value, and whether the page stays locked for the caller (v4.9). */
function* daxLoadHole(k: KernelState, vma: Vma, entryp: EntryRef, vmf: Vmf): Generator<void, { ret: number; lockedStatus: boolean }, void> {
  if (k.flags.dax_zero_page_holes) return { ret: yield* daxLoadHoleV414(k, vma, entryp, vmf), lockedStatus: false }; // 91d25ba8a6b0 (v4.14)
  if (k.flags.dax_load_hole_finish_fault) {
    // f449b936f1af (v4.10)
    return { ret: yield* daxLoadHoleV410(k, vma, entryp, vmf), lockedStatus: false };
  }
  const ret = yield* daxLoadHoleV49(k, vma, entryp.e, vmf);
  return { ret, lockedStatus: ret === VM_FAULT_LOCKED };
}

// ---------------------------------------------------------------------------
// Fault handlers.

// fs/dax.c dax_fault() / dax_iomap_fault() COW return, v4.9 (store id 706997388): a hole
// page goes back locked (VM_FAULT_LOCKED, vmf->page), an exceptional entry locked
// (VM_FAULT_DAX_LOCKED, vmf->entry); do_cow_fault() unlocks either after the install
// (bc2466e42573). With that flag off (a hypothetical v4.9 without it) the entry is
// unlocked here and vmf->page is NULL.
function* daxCowLockedStatusGen(k: KernelState, vma: Vma, vmf: Vmf, entry: TreeEntry): Generator<void, number, void> {
  if (entry.kind === 'page') {
    vmf.page = entry;
    return VM_FAULT_LOCKED;
  }
  if (k.flags.dax_cow_entry_lock) {
    vmf.entry = entry;
    return VM_FAULT_DAX_LOCKED;
  }
  yield* daxUnlockMappingEntryV49(k, vma.mapping, vmf.pgoff);
  if (k.flags.dax_fault_i_mmap_lock) yield* vma.mapping.iMmapRwsem.downRead(k.sim);
  vmf.page = null;
  return VM_FAULT_LOCKED;
}

// fs/dax.c dax_fault(), v4.9 (store id 706997388): the get_block fault ext4 used until
// v4.10 (e2ae766c1b03). The v4.7 shape with grab_mapping_entry(mapping, pgoff, 0): entry
// lock, get_block, allocation under the entry lock for a write to a hole, the hole page
// returned locked for a read; a COW fault copies or zeroes and returns with the entry
// (VM_FAULT_DAX_LOCKED) or hole page (VM_FAULT_LOCKED) locked for do_cow_fault().
export function* daxFaultV49(k: KernelState, fs: FsOps, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  // "Caller is supposed to hold locks serializing us with truncate / punch hole so this is a reliable test."
  const size = yield* iSizeRead(k, vma);
  if (vmf.pgoff >= size) {
    if (sim.rec) sim.log(`dax_fault: i_size ${size} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  const entryp: EntryRef = { e: yield* grabMappingEntryV49(k, mapping, vmf.pgoff, 0) };
  let major = 0;
  let error = 0;
  let bh = yield* getBlockLogged(k, fs, vma, vmf.pgoff, false);
  if (typeof bh === 'number') {
    error = bh;
  } else if (vmf.cowPage) {
    // buffer_written(&bh) ? copy_user_dax() : clear_user_highpage(); return with the entry locked
    if (bh.mapped && !bh.unwritten) yield* copyUserDax(k, vma, vmf.pgoff, bh.block!, vmf.cowPage);
    else clearUserHighpage(k, vmf.cowPage);
    const st = yield* daxCowLockedStatusGen(k, vma, vmf, entryp.e);
    if (sim.rec) sim.log(`dax_fault (cow) -> ${faultName(st)}`);
    return st;
  } else {
    // aef39ab1534d (v4.7): `!buffer_mapped(&bh)`; before it `&& !buffer_unwritten(&bh)`
    if (!bh.mapped && (k.flags.dax_fault_unwritten_create || !bh.unwritten)) {
      if (vmf.flags & FAULT_FLAG_WRITE) {
        bh = yield* getBlockLogged(k, fs, vma, vmf.pgoff, true);
        major = VM_FAULT_MAJOR;
        if (typeof bh === 'number') error = bh;
      } else {
        return yield* daxLoadHoleV49(k, vma, entryp.e, vmf);
      }
    }
    if (typeof bh !== 'number') {
      if (bh.unwritten || bh.isNew) {
        // "Filesystem should not return unwritten buffers to us!"
        sim.violate('kernel-warn', `WARN_ON_ONCE(buffer_unwritten(&bh) || buffer_new(&bh)) in dax_fault() at ${where(vma, vmf.pgoff)}`, 'dax_fault-bh');
      }
      if (bh.block === null) throw new Error(`model: get_block(create) left ${where(vma, vmf.pgoff)} unmapped`);
      error = yield* daxInsertMapping(k, vma, vmf, bh.block!, entryp);
    }
  }
  yield* putLockedMappingEntryV49(k, mapping, vmf.pgoff, entryp.e);
  const ret = errToFault(error, major);
  if (sim.rec) sim.log(`dax_fault -> ${faultName(ret)}${error ? ` (${errName(error)})` : ''}`);
  return ret;
}

export type IomapType = 'hole' | 'unwritten' | 'mapped';

/** struct iomap for one page (DAX requires block size = page size: one extent per fault). */
export interface Iomap {
  type: IomapType;
  /** the block of a mapped or unwritten extent */
  block: number | null;
  /** IOMAP_F_NEW: allocated by this call */
  isNew: boolean;
  /** IOMAP_F_DIRTY (v4.15+): the inode has metadata a datasync must still commit */
  dirty?: boolean;
  /** iomap.length in pages from `page` (a PMD fault asks for 512; absent = 1) */
  length?: number;
}

/** struct iomap_ops: the filesystem half of an iomap fault. */
export interface IomapOps {
  /** `pages`: the length asked for (PMD_SIZE = 512 pages from a PMD fault; default 1) */
  iomapBegin(k: KernelState, inode: Inode, page: number, flags: number, pages?: number): Generator<void, Iomap | number, void>;
  iomapEnd(k: KernelState, inode: Inode, page: number, written: number, flags: number, iomap: Iomap): Generator<void, number, void>;
}

/** An iomap as the trace shows it: `hole`, `blk N`, `unwritten blk N (new)`. */
export function iomapName(m: Iomap): string {
  return m.type === 'hole' ? 'hole' : `${m.type === 'unwritten' ? 'unwritten ' : ''}blk ${m.block}${m.isNew ? ' (new)' : ''}`;
}

// fs/dax.c dax_iomap_fault() (v4.9–v4.10) / dax_iomap_pte_fault() (v4.11–v4.19), PTE faults,
// in either order:
//   v4.9 and v4.12 (13e451fdc1af): grab_mapping_entry(), ->iomap_begin(), install,
//     ->iomap_end(), unlock the entry. v4.12 (e2093926a098): a pmd that a racing PMD
//     fault made huge after the generic code looked at it: VM_FAULT_NOPAGE (retry).
//   v4.10–v4.11 (9f141d6ef625): ->iomap_begin() first, then grab_mapping_entry(), install,
//     unlock the entry, then ->iomap_end().
// Holes: v4.9 returns the locked hole page (VM_FAULT_LOCKED); from v4.10 (f449b936f1af)
// dax_load_hole() maps it and the entry put unlocks it. COW (vmf->cow_page, no IOMAP_WRITE):
// copy_user_dax() from a mapped extent, clear_user_highpage() for a hole or unwritten one;
// v4.9 returns the entry locked for do_cow_fault(); from v4.10 (b1aa812b2108)
// finish_fault() installs the COW page under the entry lock (VM_FAULT_DONE_COW).
export function* daxIomapFault(k: KernelState, ops: IomapOps, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const inode = k.inode(mapping.file);
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  const iomapFirst = k.flags.dax_iomap_begin_before_entry_lock;
  // "Caller is supposed to hold locks serializing us with truncate / punch hole so this is a reliable test."
  const size = yield* iSizeRead(k, vma);
  if (vmf.pgoff >= size) {
    if (sim.rec) sim.log(`dax_iomap_fault: i_size ${size} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  // IOMAP_FAULT is v4.10+ (9484ab1bf); only ext4's ->iomap_end reads it, and ext4 takes this path from v4.10.
  // "if ((vmf->flags & FAULT_FLAG_WRITE) && !vmf->cow_page) flags |= IOMAP_WRITE;": a COW fault allocates nothing
  const cow = vmf.cowPage ?? null;
  const flags = IOMAP_FAULT | (write && cow === null ? IOMAP_WRITE : 0);
  let entryp: EntryRef | null = null;

  const iomapBegin = function* (): Generator<void, Iomap | number, void> {
    const r = yield* ops.iomapBegin(k, inode, vmf.pgoff, flags);
    if (sim.rec) sim.log(`->iomap_begin(${where(vma, vmf.pgoff)}${flags & IOMAP_WRITE ? ', IOMAP_WRITE' : ''}) -> ${typeof r === 'number' ? errName(r) : iomapName(r)}`);
    return r;
  };

  let iomap: Iomap | number;
  if (iomapFirst) {
    // 9f141d6ef625: "Fix the problem by nesting grabbing of entry lock inside ->iomap_begin() - ->iomap_end() pair."
    iomap = yield* iomapBegin();
    if (typeof iomap === 'number') return errToFault(iomap, 0); // dax_fault_return(error)
    entryp = { e: yield* grabMappingEntryV49(k, mapping, vmf.pgoff, 0) };
  } else {
    entryp = { e: yield* grabMappingEntryV49(k, mapping, vmf.pgoff, 0) };
    if (k.flags.dax_pmd_pte_collision_checks && vma.pmd !== null) {
      // e2093926a098 (v4.12): "we have raced with a PMD fault that overlaps with the PTE we
      // need to set up. If so just return and the fault will be retried."
      yield;
      const pmd = vma.pmd.pmds.get(vmf.pgoff >> 9);
      if (pmd !== undefined && pmd.kind !== 'table') {
        if (sim.rec) sim.log(`dax_iomap_fault: pmd is huge (${pmd.kind}) -> VM_FAULT_NOPAGE`);
        yield* putLockedMappingEntryV49(k, mapping, vmf.pgoff, entryp.e);
        return VM_FAULT_NOPAGE;
      }
    }
    iomap = yield* iomapBegin();
    if (typeof iomap === 'number') {
      yield* putLockedMappingEntryV49(k, mapping, vmf.pgoff, entryp.e); // goto unlock_entry
      return errToFault(iomap, 0);
    }
  }

  let error = 0;
  let major = 0;
  let ret = 0;
  let lockedStatus = false;
  // v4.15 (caa51d26f85c): dax_fault_is_synchronous(): IOMAP_WRITE, VM_SYNC and IOMAP_F_DIRTY
  const sync = k.flags.dax_map_sync && write && vma.vmSync && iomap.dirty === true;
  if (cow !== null) {
    if (iomap.type === 'mapped') yield* copyUserDax(k, vma, vmf.pgoff, iomap.block!, cow);
    else clearUserHighpage(k, cow); // IOMAP_HOLE, IOMAP_UNWRITTEN
    if (k.flags.dax_cow_finish_fault) {
      // b1aa812b2108 (v4.10): "__SetPageUptodate(vmf->cow_page); vmf_ret = finish_fault(vmf);
      // if (!vmf_ret) vmf_ret = VM_FAULT_DONE_COW; goto unlock_entry;"
      ret = yield* finishFault(k, vma, vmf);
      if (!ret) ret = VM_FAULT_DONE_COW;
    } else {
      // v4.9: locked_status = VM_FAULT_LOCKED / VM_FAULT_DAX_LOCKED; goto finish_iomap
      ret = yield* daxCowLockedStatusGen(k, vma, vmf, entryp.e);
      lockedStatus = true;
    }
  } else if (iomap.type === 'mapped' && sync) {
    if (iomap.isNew) major = VM_FAULT_MAJOR;
    // "If we are doing synchronous page fault and inode needs fsync, we can insert PTE into page
    // tables only after that happens. Skip insertion for now and return the pfn so that caller
    // can insert it after fsync is done." The entry goes in clean (dirty = write && !sync).
    // (v4.15's `dirty` argument, "dax: Allow tuning whether dax_insert_mapping_entry() dirties
    // entry", is write && !sync: here the model's insert gets the fault without FAULT_FLAG_WRITE)
    entryp.e = yield* daxInsertMappingEntryV49(k, vma, { ...vmf, flags: vmf.flags & ~FAULT_FLAG_WRITE }, entryp.e, iomap.block!, 0);
    vmf.syncPfn = iomap.block!;
    ret = VM_FAULT_NEEDDSYNC | major;
    if (sim.rec) sim.log(`dax_iomap_fault: synchronous fault, blk ${iomap.block} not mapped yet -> VM_FAULT_NEEDDSYNC`);
  } else if (iomap.type === 'mapped') {
    if (iomap.isNew) major = VM_FAULT_MAJOR; // IOMAP_F_NEW: count_vm_event(PGMAJFAULT)
    error = yield* daxInsertMapping(k, vma, vmf, iomap.block!, entryp);
    // "-EBUSY is fine, somebody else faulted on the same PTE" (converted to 0 here from 9f141d6ef625)
    if (error === -EBUSY) error = 0;
    ret = errToFault(error, major);
  } else if (!write) {
    // IOMAP_UNWRITTEN, IOMAP_HOLE
    const r = yield* daxLoadHole(k, vma, entryp, vmf);
    ret = r.ret;
    lockedStatus = r.lockedStatus;
  } else {
    // a write to a hole or an unwritten extent: the filesystem should have allocated ("FALLTHRU")
    sim.violate('kernel-warn', `WARN_ON_ONCE(1) in dax_iomap_fault(): a write fault got IOMAP_${iomap.type.toUpperCase()} at ${where(vma, vmf.pgoff)}`, 'dax_iomap_fault-type');
    error = -EIO;
    ret = errToFault(error, major);
  }

  // ->iomap_end(): told 0 bytes on an error; its own return value is ignored here (from v4.10
  // explicitly: "there's no way back"; ext4's returns 0 for faults in every version modelled)
  const copied = ret & VM_FAULT_ERROR ? 0 : 1;
  const iomapEnd = function* (): Generator<void, void, void> {
    yield* ops.iomapEnd(k, inode, vmf.pgoff, copied, flags, iomap as Iomap);
  };
  if (iomapFirst) {
    // unlock_entry: precedes finish_iomap: in v4.10–v4.11
    if (!lockedStatus || error) yield* putLockedMappingEntryV49(k, mapping, vmf.pgoff, entryp.e);
    yield* iomapEnd();
  } else {
    yield* iomapEnd();
    // v4.9: "if (!locked_status || error) put_locked_mapping_entry()"
    if (!lockedStatus || error) yield* putLockedMappingEntryV49(k, mapping, vmf.pgoff, entryp.e);
  }
  if (sim.rec) sim.log(`dax_iomap_fault -> ${faultName(ret)}${error ? ` (${errName(error)})` : ''}`);
  return ret;
}

// fs/dax.c dax_pfn_mkwrite(), v4.9 (store id 706997388): wait for the entry to be
// unlocked, set its dirty tag without locking it, pass the wakeup on; the generic code
// (wp_pfn_shared()) makes the PTE writable afterwards, outside any DAX lock.
function* daxPfnMkwriteV49(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const mapping = vma.mapping;
  yield* mapping.treeLock.lock(k.sim);
  const entry = yield* getUnlockedMappingEntryV49(k, mapping, vmf.pgoff);
  if (entry !== undefined && entry.kind === 'dax') {
    mapping.tree.tagSet(vmf.pgoff, PAGECACHE_TAG_DIRTY); // radix_tree_tag_set(PAGECACHE_TAG_DIRTY)
    putUnlockedMappingEntryV49(k, mapping, vmf.pgoff, entry);
    if (k.sim.rec) k.sim.log(`dax_pfn_mkwrite(${where(vma, vmf.pgoff)}): entry tagged DIRTY, not locked`);
  }
  mapping.treeLock.unlock(k.sim);
  return VM_FAULT_NOPAGE;
}

// fs/dax.c dax_pfn_mkwrite(), v4.10–v4.13 (2f89dc12a25d "dax: protect PTE modification on
// WP fault by radix tree entry lock"; v4.10 text id 24765410162): tag the entry dirty, lock
// it, make the PTE writable with finish_mkwrite_fault(), unlock. Always VM_FAULT_NOPAGE.
function* daxPfnMkwriteV410(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  yield* mapping.treeLock.lock(sim);
  const entry = yield* getUnlockedMappingEntryV49(k, mapping, vmf.pgoff);
  if (entry === undefined || entry.kind !== 'dax') {
    if (entry !== undefined) putUnlockedMappingEntryV49(k, mapping, vmf.pgoff, entry);
    mapping.treeLock.unlock(sim);
    return VM_FAULT_NOPAGE;
  }
  mapping.tree.tagSet(vmf.pgoff, PAGECACHE_TAG_DIRTY); // radix_tree_tag_set(PAGECACHE_TAG_DIRTY)
  const locked = lockSlot(sim, mapping, vmf.pgoff, entry);
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_pfn_mkwrite(${where(vma, vmf.pgoff)}): entry locked (tagged DIRTY first)`);
  // "If we race with somebody updating the PTE and finish_mkwrite_fault() fails, we don't care."
  yield* finishMkwriteFault(k, vma, vmf);
  yield* putLockedMappingEntryV49(k, mapping, vmf.pgoff, locked);
  return VM_FAULT_NOPAGE;
}

// fs/dax.c dax_insert_pfn_mkwrite(vmf, PE_SIZE_PTE, pfn), v4.15–v4.19 (store id 3323916569;
// v4.15–v4.17 form in the `-` lines of id 28186067315): under tree_lock wait for the entry;
// "Did we race with someone splitting entry or so?" — no entry, or not a PTE-sized one
// (dax_is_pte_entry(): any entry without RADIX_DAX_PMD; the pfn is not compared): pass the
// wakeup on, VM_FAULT_NOPAGE (the access faults again); else tag it DIRTY, lock it, map the pfn
// writable with vm_insert_mixed_mkwrite() (its -EBUSY is VM_FAULT_NOPAGE too), unlock.
function* daxInsertPfnMkwrite(k: KernelState, vma: Vma, vmf: Vmf, block: number): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const index = vmf.pgoff;
  yield* mapping.treeLock.lock(sim);
  const entry = yield* getUnlockedMappingEntryV49(k, mapping, index);
  if (entry === undefined || entry.kind !== 'dax' || daxIsPmdEntry(entry)) {
    putUnlockedMappingEntryV49(k, mapping, index, entry);
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_insert_pfn_mkwrite(${where(vma, index)}): ${describeEntry(entry)} -> VM_FAULT_NOPAGE`);
    return VM_FAULT_NOPAGE;
  }
  mapping.tree.tagSet(index, PAGECACHE_TAG_DIRTY);
  const locked = lockSlot(sim, mapping, index, entry);
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_insert_pfn_mkwrite(${where(vma, index)}): ${describeEntry(entry)} tagged DIRTY, locked`);
  const err = yield* vmInsertMixedMkwrite(k, vma, index, block);
  yield* putLockedMappingEntryV49(k, mapping, index, locked);
  return err === -ENOMEM ? VM_FAULT_OOM : VM_FAULT_NOPAGE;
}

// fs/dax.c dax_finish_sync_fault(vmf, PE_SIZE_PTE, pfn), v4.15–v4.19 (store id 3323916569;
// "dax: Implement dax_finish_sync_fault()", id believed 71eab6dfd91e, not verified): called by
// the filesystem after its journal handle is stopped, still under its fault lock:
// vfs_fsync_range(file, start, start + PAGE_SIZE - 1, datasync = 1) — the flush and the
// journal commit that make the new block's allocation durable — then the PTE.
export function* daxFinishSyncFault(k: KernelState, vma: Vma, vmf: Vmf, block: number): Generator<void, number, void> {
  const inode = k.inode(vma.mapping.file);
  const err = yield* vfsFsyncRange(k, inode, { first: vmf.pgoff, last: vmf.pgoff });
  if (err) return VM_FAULT_SIGBUS;
  return yield* daxInsertPfnMkwrite(k, vma, vmf, block);
}

/** dax_pfn_mkwrite() of the v4.9+ kernels. */
export function* daxPfnMkwriteV49Plus(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  if (k.flags.dax_pfn_mkwrite_under_entry_lock) return yield* daxPfnMkwriteV410(k, vma, vmf); // 2f89dc12a25d (v4.10)
  return yield* daxPfnMkwriteV49(k, vma, vmf);
}

/** dax_delete_mapping_entry() of the v4.9+ kernels, for truncate and punch. */
export function* daxDeleteMappingEntryV49Plus(k: KernelState, mapping: AddressSpace, index: number): Generator<void, number, void> {
  if (k.flags.dax_invalidate_entry_wake_one) return yield* daxDeleteMappingEntryV410(k, mapping, index); // c6dcf52c23d2 (v4.10)
  return yield* daxDeleteMappingEntryV49(k, mapping, index);
}
