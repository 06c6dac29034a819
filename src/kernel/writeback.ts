// fsync(2) and msync(2) on an ext4 DAX file, v4.6–v4.19: the VFS and mm
// entry points, ext4's ->fsync and ->writepages, and the DAX cache flush of
// fs/dax.c (dax_writeback_mapping_range() / dax_writeback_one()). Sources:
// notes/kernel-rw-writeback.md §B.1, §B.2 (VERBATIM fs/dax.c, store ids
// 11726779 (v4.6) and 48298668521 / 24459562991 (v4.7/v4.8)), §B.3 (v4.9,
// 706997388), §B.4/B.5 (v4.10: a6abc2c0e77b posting 3260459334, 4b4bb46d00b3
// posting 2598978507, v4.10 text 24765410162; v4.12 text 1521764), §B.7 (what a
// flush is), §B.8 (who calls it; 7f6d5b529b7d posting, store id 37611721828).
// notes/kernel-rw-writeback-v4.9plus.md has what was re-read for v4.9+.
//
// What a flush does here: for each entry tagged DIRTY in the range, DIRTY is
// copied to TOWRITE, and dax_writeback_one() writes the entry's block's dirty
// cache line back to the media (wb_cache_pmem()) and clears TOWRITE.
//   v4.6–v4.9: DIRTY is never cleared (races-and-design.md 1.18), so every fsync
//   flushes every entry ever dirtied again. No entry lock is taken and no PTE is
//   write-protected: a store racing with the flush is not excluded, and TOWRITE
//   is cleared only after the flush.
//   v4.10+ (a6abc2c0e77b, 4b4bb46d00b3): the entry is locked and TOWRITE cleared
//   before the flush; the PTEs of the pfn are write-protected and cleaned
//   (dax_mapping_entry_mkclean()), the cache written back, DIRTY cleared, the
//   entry unlocked. A store after the write-protect faults, and its fault waits
//   for the entry lock before it re-dirties the entry.
import type { Sim } from '../sim/engine.js';
import { bdevDirectAccessRange } from './media.js';
import type { Inode, KernelState } from './state.js';
import { EIO, describeEntry, type AddressSpace, type DaxEntry, type TreeEntry } from './mapping.js';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE } from './radix-tree.js';
import { HPAGE_PMD_NR, PMD_ORDER, describePmd, describePte, setPte, type Vma } from './pagetable.js';
import {
  PG_PMD_COLOUR, daxIsEmptyEntry, daxIsPmdEntry, daxIsZeroEntry, getUnlockedMappingEntryV49, lockSlot, putLockedMappingEntryV49,
  putUnlockedMappingEntryV49,
} from './dax-iomap.js';
import { jbd2CompleteTransaction, xfsLogForceLsn } from './journal.js';
import { ext2Fsync } from './fs/ext2.js';

/** A byte range in pages, both ends inclusive (loff_t lstart, lend >> PAGE_SHIFT). */
export interface PageRange {
  first: number;
  last: number;
}

/** LLONG_MAX >> PAGE_SHIFT: "to the end of the file". */
export const RANGE_END = Number.MAX_SAFE_INTEGER;

/** struct writeback_control, the parts DAX reads. */
export interface Wbc {
  /** sync_mode == WB_SYNC_ALL (data integrity: fsync, msync(MS_SYNC), sync(2)'s second pass) */
  syncAll: boolean;
  range: PageRange;
}

const PAGEVEC_SIZE = 14;

/**
 * dax.size of dax_writeback_one() in pages: v4.6 `type == RADIX_DAX_PMD ? PMD_SIZE : PAGE_SIZE`
 * (a single-slot PMD entry at the PMD index), v4.9+ `PAGE_SIZE << dax_radix_order(entry)` (a
 * multi-order entry). The block of a PMD entry is the first of 512 (2 MiB-aligned).
 */
function daxEntryPages(e: DaxEntry): number {
  return e.pmdType === true || daxIsPmdEntry(e) ? HPAGE_PMD_NR : 1;
}

// include/linux/pmem.h wb_cache_pmem(addr, size) -> arch/x86 arch_wb_cache_pmem(), v4.6–v4.12
// (notes/kernel-rw-writeback.md B.7; dax_flush() in v4.19): CLWB of every cache line of
// [addr, addr + size). A 4 KiB entry is one block; a 2 MiB entry all 512 blocks of its extent,
// each dirty line written back (a clean line is read, not written: CLWB of a clean line changes
// nothing). Returns the trace text.
function wbCachePmem(k: KernelState, block: number, pages: number): string {
  if (pages === 1) {
    const b = k.pmem.block(block);
    const flushed = b.wbCache();
    return `wb_cache_pmem(blk ${block}) -> ${flushed ? `line written back, media = ${String(b.peekMedia())}` : 'no dirty line'}`;
  }
  const written: string[] = [];
  for (let i = 0; i < pages; i++) {
    const b = k.pmem.block(block + i);
    if (!b.dirty) continue;
    b.wbCache();
    written.push(`blk ${b.nr} = ${String(b.peekMedia())}`);
  }
  return `wb_cache_pmem(blk ${block}-${block + pages - 1}, PMD_SIZE) -> ${written.length ? `${written.length} line${written.length > 1 ? 's' : ''} written back (${written.join(', ')})` : 'no dirty line'}`;
}

/**
 * `*slot != entry` of dax_writeback_one(): entries are compared by value (the
 * sector, and from v4.7 the RADIX_DAX_ENTRY_LOCK bit), not by identity; a hole
 * page is a pointer.
 */
function sameSlotValue(a: TreeEntry, b: TreeEntry): boolean {
  if (a === b) return true;
  if (a.kind !== 'dax' || b.kind !== 'dax') return false;
  // v4.9+ entries also carry the PMD/HZP/EMPTY bits (undefined before v4.9, equal then)
  return a.block === b.block && a.locked === b.locked && a.flags === b.flags;
}

// mm/page-writeback.c tag_pages_for_writeback(), v4.6–v4.19 (from memory; notes
// B.1): under tree_lock, radix_tree_range_tag_if_tagged(DIRTY -> TOWRITE) over
// [start, end], in batches of WRITEBACK_TAG_BATCH = 4096 (one batch here).
function* tagPagesForWriteback(k: KernelState, mapping: AddressSpace, r: PageRange): Generator<void, number[], void> {
  yield* mapping.treeLock.lock(k.sim);
  const tagged = mapping.tree.tagged(PAGECACHE_TAG_DIRTY, r.first, r.last);
  for (const i of tagged) mapping.tree.tagSet(i, PAGECACHE_TAG_TOWRITE);
  mapping.treeLock.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`tag_pages_for_writeback(${mapping.file}): ${tagged.length ? `TOWRITE on ${tagged.join(',')}` : 'nothing dirty'}`);
  return tagged;
}

// mm/filemap.c find_get_entries_tag(), v4.5–v4.13 (from memory; notes B.1): an
// RCU gang lookup, without tree_lock, of up to nr entries tagged `tag` from start.
function* findGetEntriesTag(k: KernelState, mapping: AddressSpace, start: number, tag: number, nr: number): Generator<void, [number, TreeEntry][], void> {
  yield;
  const out: [number, TreeEntry][] = [];
  for (const i of mapping.tree.tagged(tag, start, RANGE_END)) {
    const e = mapping.tree.get(i);
    if (e !== undefined) out.push([i, e]);
    if (out.length === nr) break;
  }
  return out;
}

// fs/dax.c dax_writeback_one(), v4.6–v4.9 (store ids 11726779, 48298668521, 706997388):
// under tree_lock re-check that the slot still holds the entry the lookup saw
// (v4.7+: the value includes the lock bit, so a lock taken or dropped meanwhile
// makes it differ and the entry is skipped without a flush, TOWRITE left set;
// races-and-design.md 1.16) and that TOWRITE is still set; WARN and -EIO on a
// non-PTE/PMD entry (v4.9: on an empty or zero entry); drop tree_lock;
// wb_cache_pmem() of the entry: PAGE_SIZE, or PMD_SIZE for a PMD entry (v4.6 RADIX_DAX_PMD,
// v4.9 PAGE_SIZE << dax_radix_order(entry)); clear TOWRITE.
function* daxWritebackOneV46(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, number, void> {
  const sim = k.sim;
  const at = `${mapping.file}:${index}`;
  yield* mapping.treeLock.lock(sim);
  const cur = mapping.tree.get(index);
  if (cur === undefined) {
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_writeback_one(${at}): no entry any more`);
    return 0;
  }
  if (!sameSlotValue(cur, entry)) {
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_writeback_one(${at}): *slot != entry (${describeEntry(cur)}, looked up ${describeEntry(entry)}): skipped`);
    return 0;
  }
  // "another fsync thread may have already written back this entry"
  if (!mapping.tree.tagGet(index, PAGECACHE_TAG_TOWRITE)) {
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_writeback_one(${at}): TOWRITE already clear`);
    return 0;
  }
  if (entry.kind !== 'dax' || entry.block === null || (k.flags.dax_radix_pmd_entries && (daxIsEmptyEntry(entry) || daxIsZeroEntry(entry)))) {
    // v4.6–v4.8: WARN_ON_ONCE(type != RADIX_DAX_PTE && type != RADIX_DAX_PMD): a hole page, or v4.7's empty entry (type 0)
    // v4.9 (642261ac995e): WARN_ON_ONCE(dax_is_empty_entry(entry) || dax_is_zero_entry(entry))
    const cond = k.flags.dax_radix_pmd_entries ? 'dax_is_empty_entry(entry) || dax_is_zero_entry(entry)' : 'type != RADIX_DAX_PTE && type != RADIX_DAX_PMD';
    sim.violate('kernel-warn', `WARN_ON_ONCE(${cond}) in dax_writeback_one(): ${at} holds ${describeEntry(entry)}`, 'dax_writeback_one');
    mapping.treeLock.unlock(sim);
    return -EIO;
  }
  const block = entry.block;
  const pages = daxEntryPages(entry); // dax.size
  mapping.treeLock.unlock(sim);
  // "We cannot hold tree_lock while calling dax_map_atomic() because it eventually
  // calls cond_resched()": blk_queue_enter(), which never fails here.
  yield;
  const err = bdevDirectAccessRange(k, block, pages, 'dax_writeback_one');
  if (err) return err; // dax_map_atomic() < 0: the error ends the writeback, TOWRITE stays set
  const flushed = wbCachePmem(k, block, pages); // wb_cache_pmem(dax.addr, dax.size)
  if (sim.rec) sim.log(`dax_writeback_one(${at}): ${flushed}`);
  yield* mapping.treeLock.lock(sim);
  mapping.tree.tagClear(index, PAGECACHE_TAG_TOWRITE);
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_writeback_one(${at}): TOWRITE cleared`);
  return 0;
}

// fs/dax.c dax_mapping_entry_mkclean(), v4.10–v4.19 (4b4bb46d00b3, posting 2598978507; with
// f729c8c9b24f, posting 3356796948, v4.10 text 24765410162, v4.12 text 1521764): under
// i_mmap_lock_read, for every SHARED VMA mapping `index` (a PMD entry's index is PMD-aligned),
// look the address up; if what maps it maps this pfn and is dirty or writable, clear it with a
// TLB flush, write-protect, clean and set it back. Anything else (a hole page, another block,
// nothing) is left alone.
//   4b4bb46d00b3 alone: follow_pte() (mm/memory.c __follow_pte(), v4.9 text in the "-" lines of
//   097963959594, posting 2531112550): "if (pmd_none(*pmd) || unlikely(pmd_bad(*pmd))) goto out;"
//   and "We cannot handle huge page PFN maps. Luckily they don't exist." (pmd_huge()): a huge
//   pmd is -EINVAL and the VMA is skipped, so a DAX PMD keeps its write bit.
//   dax_mkclean_wrprotects_pmd (f729c8c9b24f with 097963959594, v4.10): follow_pte_pmd() returns
//   a pmd_huge() pmd under pmd_lock (re-checked under it; "Somebody removed the PMD entry, try it
//   as a pte"); a DAX PMD of this pfn that is dirty or writable gets pmdp_huge_clear_flush(),
//   pmd_wrprotect(), pmd_mkclean(), set_pmd_at() under that lock, so the next store through it
//   faults (wp_huge_pmd() -> ->pmd_fault) and its fault re-dirties the entry.
// The clear-and-set is one step under the pmd lock (no access sees the cleared pmd in between);
// TLB shootdowns (flush_pmd_tlb_range()) are not modelled, as for the PTE branch. The
// VM_BUG_ON(pmd_trans_huge(*pmd)) of both lookups (CONFIG_DEBUG_VM) never fires here: a huge
// zero page is unmapped before a block entry replaces its HZP entry.
export function* daxMappingEntryMkclean(k: KernelState, mapping: AddressSpace, index: number, block: number): Generator<void, void, void> {
  const sim = k.sim;
  const at = `${mapping.file}:${index}`;
  yield* mapping.iMmapRwsem.downRead(sim); // i_mmap_lock_read()
  for (const vma of mapping.iMmap) {
    if (!vma.shared) continue; // !(vma->vm_flags & VM_SHARED)
    const lvl = vma.pmd;
    if (lvl !== null) {
      // the page-table walk of follow_pte() / follow_pte_pmd() reads *pmd (VMAs of huge files have a PMD level)
      const i = index >> PMD_ORDER;
      yield;
      const pmd = lvl.pmds.get(i);
      if (pmd !== undefined && pmd.kind !== 'table') {
        if (!k.flags.dax_mkclean_wrprotects_pmd) {
          // follow_pte(): pmd_bad() / pmd_huge() -> -EINVAL: "continue"
          if (sim.rec) sim.log(`dax_mapping_entry_mkclean(${at}): follow_pte(${vma.name}:${index}) -> -EINVAL (${describePmd(pmd)}: pmd_huge), left alone`);
          continue;
        }
        // follow_pte_pmd(): "if (pmd_huge(*pmd)) { ... *ptlp = pmd_lock(mm, pmd); if (pmd_huge(*pmd)) { *pmdpp = pmd; return 0; }"
        yield* lvl.lock.lock(sim);
        const cur = lvl.pmds.get(i);
        if (cur !== undefined && cur.kind !== 'table') {
          // "if (pfn != pmd_pfn(*pmdp)) goto unlock_pmd; if (!pmd_dirty(*pmdp) && !pmd_write(*pmdp)) goto unlock_pmd;"
          if (cur.kind === 'devmap' && cur.block === block && (cur.dirty || cur.write)) {
            // flush_cache_page(); pmdp_huge_clear_flush(); pmd_wrprotect(); pmd_mkclean(); set_pmd_at()
            const now = { ...cur, write: false, dirty: false };
            lvl.pmds.set(i, now);
            if (sim.rec) sim.log(`dax_mapping_entry_mkclean(${at}): ${vma.name} pmd ${i} -> ${describePmd(now)}`);
          }
          lvl.lock.unlock(sim); // unlock_pmd: spin_unlock(ptl)
          continue;
        }
        lvl.lock.unlock(sim); // "Somebody removed the PMD entry, try it as a pte"
        yield;
      }
      // "if (pmd_none(*pmd) || unlikely(pmd_bad(*pmd))) goto out;" -> -EINVAL
      if (lvl.pmds.get(i)?.kind !== 'table') continue;
    }
    yield* vma.ptl.lock(sim); // follow_pte() / follow_pte_pmd(): pte_offset_map_lock()
    const pte = vma.ptes.get(index);
    if (pte !== undefined && pte.kind === 'pfn' && pte.block === block && (pte.dirty || pte.write)) {
      // flush_cache_page(); ptep_clear_flush(); pte_wrprotect(); pte_mkclean(); set_pte_at()
      setPte(k, vma, index, { ...pte, write: false, dirty: false });
      if (sim.rec) sim.log(`dax_mapping_entry_mkclean(${at}): ${vma.name}:${index} -> ${describePte(vma.ptes.get(index))}`);
    }
    vma.ptl.unlock(sim); // pte_unmap_unlock()
  }
  mapping.iMmapRwsem.upRead(sim);
}

// fs/dax.c dax_writeback_one(), v4.10–v4.16 (a6abc2c0e77b, 4b4bb46d00b3; the v4.10 text,
// id 24765410162, as reconstructed in notes/kernel-rw-writeback.md B.4): wait until the
// entry is unlocked; skip it if it is gone, not exceptional, or holds another sector
// ("we must not bail out due to difference in lockbit or entry type"); WARN on an empty
// or zero entry; skip it if TOWRITE is clear ("Another fsync thread may have already
// written back this entry"); else lock it and clear TOWRITE under tree_lock. Then, with
// the entry locked: dax_map_atomic() (never fails here), with dax_writeback_clear_dirty
// (4b4bb46d00b3) dax_mapping_entry_mkclean(), wb_cache_pmem(), DIRTY cleared; unlock.
function* daxWritebackOneV410(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, number, void> {
  const sim = k.sim;
  const at = `${mapping.file}:${index}`;
  // "A page got tagged dirty in DAX mapping? Something is seriously wrong."
  if (entry.kind !== 'dax') {
    sim.violate('kernel-warn', `WARN_ON(!radix_tree_exceptional_entry(entry)) in dax_writeback_one(): ${at} holds ${describeEntry(entry)}`, 'dax_writeback_one-page');
    return -EIO;
  }
  yield* mapping.treeLock.lock(sim);
  const entry2 = yield* getUnlockedMappingEntryV49(k, mapping, index);
  let skip: string | null = null;
  let ret = 0;
  // "Entry got punched out / reallocated?"
  if (entry2 === undefined || entry2.kind !== 'dax') skip = `${describeEntry(entry2)} there now`;
  // "Entry got reallocated elsewhere? No need to writeback."
  else if (entry2.block !== entry.block) skip = `sector changed (${describeEntry(entry2)}, looked up ${describeEntry(entry)})`;
  else if (daxIsEmptyEntry(entry) || daxIsZeroEntry(entry)) {
    sim.violate('kernel-warn', `WARN_ON_ONCE(dax_is_empty_entry(entry) || dax_is_zero_entry(entry)) in dax_writeback_one(): ${at} holds ${describeEntry(entry)}`, 'dax_writeback_one');
    ret = -EIO;
    skip = 'empty/zero entry';
  } else if (!mapping.tree.tagGet(index, PAGECACHE_TAG_TOWRITE)) skip = 'TOWRITE already clear';
  if (skip !== null) {
    putUnlockedMappingEntryV49(k, mapping, index, entry2); // put_unlocked_mapping_entry(mapping, index, entry2)
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_writeback_one(${at}): ${skip}, skipped`);
    return ret;
  }
  // "Lock the entry to serialize with page faults"
  const locked = lockSlot(sim, mapping, index, entry2 as Extract<TreeEntry, { kind: 'dax' }>);
  // "We can clear the tag now but we have to be careful so that concurrent
  // dax_writeback_one() calls for the same index cannot finish before we actually flush the caches."
  mapping.tree.tagClear(index, PAGECACHE_TAG_TOWRITE);
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_writeback_one(${at}): entry locked, TOWRITE cleared`);
  const block = locked.block!;
  // dax.size = PAGE_SIZE << dax_radix_order(entry): "the 'index' we are given will be aligned to
  // the start index of the PMD, as will the sector we pull from 'entry'. This allows us to flush
  // for PMD_SIZE and not have to worry about partial PMD writebacks."
  const pages = daxEntryPages(locked);
  // dax_map_atomic() (v4.10–v4.11) / dax_direct_access() (v4.12) of dax.size: -EIO for a known bad block
  yield;
  const err = bdevDirectAccessRange(k, block, pages, 'dax_writeback_one');
  if (err) {
    yield* putLockedMappingEntryV49(k, mapping, index, locked); // put_locked_mapping_entry(); return ret
    return err;
  }
  if (k.flags.dax_writeback_clear_dirty) yield* k.sim.fn('dax_mapping_entry_mkclean', daxMappingEntryMkclean(k, mapping, index, block)); // 4b4bb46d00b3
  yield;
  const flushed = wbCachePmem(k, block, pages); // wb_cache_pmem(dax.addr, dax.size)
  if (sim.rec) sim.log(`dax_writeback_one(${at}): ${flushed}`);
  if (k.flags.dax_writeback_clear_dirty) {
    // "After we have flushed the cache, we can clear the dirty tag. There cannot be new dirty
    // data in the pfn after the flush has completed as the pfn mappings are writeprotected and
    // fault waits for mapping entry lock."
    yield* mapping.treeLock.lock(sim);
    mapping.tree.tagClear(index, PAGECACHE_TAG_DIRTY);
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_writeback_one(${at}): DIRTY cleared`);
  }
  yield* putLockedMappingEntryV49(k, mapping, index, locked);
  return 0;
}

/** dax_writeback_one() of the version. */
function* daxWritebackOne(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, number, void> {
  if (k.flags.dax_writeback_entry_lock) return yield* daxWritebackOneV410(k, mapping, index, entry); // a6abc2c0e77b (v4.10)
  return yield* daxWritebackOneV46(k, mapping, index, entry);
}

// fs/dax.c dax_writeback_mapping_range(), v4.6–v4.11 (store ids 11726779,
// 48298668521, 706997388, 24765410162): only WB_SYNC_ALL with exceptional entries does anything; tag
// DIRTY -> TOWRITE, then look TOWRITE entries up from the range start again
// and again until none is left (start_index never advances, so an entry skipped
// by dax_writeback_one() is retried), flushing each; the first error aborts.
// v4.6 ends with wmb_pmem(); the v4.7-labelled copies have no fence here
// (notes §0, B.2); the model's write-backs are durable at once either way, so
// neither the fence nor its absence is modelled.
export function* daxWritebackMappingRange(k: KernelState, mapping: AddressSpace, wbc: Wbc): Generator<void, number, void> {
  const sim = k.sim;
  // WARN_ON_ONCE(inode->i_blkbits != PAGE_SHIFT): one block is one page in the model
  yield;
  if (mapping.nrexceptional === 0 || !wbc.syncAll) return 0;
  let start = wbc.range.first;
  const end = wbc.range.last;
  if (!k.flags.dax_radix_pmd_entries) {
    // v4.6–v4.8: "see if the start of our range is covered by a PMD entry": pmd_index =
    // DAX_PMD_INDEX(start_index), an RCU radix_tree_lookup() there (single-slot PMD entries sit
    // at the PMD index; read in the step above). Only v4.6 makes PMD entries (v4.7–v4.8 PMD
    // faults fall back, 348e967ab07c). v4.9 dropped the lookup: multi-order entries are found
    // at any index.
    const pmdIndex = start & ~PG_PMD_COLOUR;
    const e = mapping.tree.get(pmdIndex);
    if (e !== undefined && e.kind === 'dax' && e.pmdType === true) start = pmdIndex;
  }
  // The v4.12 copy (1521764) also advances start_index past each batch (commit not
  // identified); every skip in the v4.10+ dax_writeback_one() leaves the index without
  // TOWRITE, so not advancing retries nothing there.
  yield* tagPagesForWriteback(k, mapping, { first: start, last: end });
  for (;;) {
    const pvec = yield* findGetEntriesTag(k, mapping, start, PAGECACHE_TAG_TOWRITE, PAGEVEC_SIZE);
    if (pvec.length === 0) break;
    let done = false;
    for (const [index, entry] of pvec) {
      if (index > end) {
        done = true;
        break;
      }
      const ret = yield* daxWritebackOne(k, mapping, index, entry);
      if (ret < 0) return ret;
    }
    if (done) break;
  }
  if (sim.rec) sim.log(`dax_writeback_mapping_range(${mapping.file}) done`);
  return 0;
}

// fs/ext4/inode.c ext4_writepages(), v4.5–v4.14, its DAX branch (7f6d5b529b7d, v4.5;
// store id 37611721828): dax_writeback_mapping_range() with the superblock's bdev.
// A DAX mapping has no dirty page-cache page (hole pages are never dirtied), so the
// rest of ext4_writepages() writes nothing.
function* ext4Writepages(k: KernelState, mapping: AddressSpace, wbc: Wbc): Generator<void, number, void> {
  return yield* daxWritebackMappingRange(k, mapping, wbc);
}

// mm/filemap.c filemap_write_and_wait_range(), v4.5–v4.19 (the 7f6d5b529b7d hunk,
// store id 37611721828): when the mapping has pages, or is DAX with exceptional
// entries, __filemap_fdatawrite_range(WB_SYNC_ALL) -> do_writepages() ->
// ->writepages, then filemap_fdatawait_range() (no DAX or hole page is ever under
// writeback, so the wait returns at once).
export function* filemapWriteAndWaitRange(k: KernelState, mapping: AddressSpace, range: PageRange): Generator<void, number, void> {
  yield;
  if (mapping.nrpages === 0 && mapping.nrexceptional === 0) return 0;
  return yield* ext4Writepages(k, mapping, { syncAll: true, range });
}

// fs/ext4/fsync.c ext4_sync_file(), v4.5–v4.14 (from memory; notes B.8): no inode
// lock; filemap_write_and_wait_range() (the DAX flush above), then the jbd2
// commit of the inode's transaction and, with barriers, blkdev_issue_flush().
// The commit makes the metadata (extents, i_size) of the running transaction what a
// crash keeps (journal.ts); the device flush is a fence with nothing left to order.
function* ext4SyncFile(k: KernelState, inode: Inode, range: PageRange): Generator<void, number, void> {
  const ret = yield* filemapWriteAndWaitRange(k, inode.mapping, range);
  if (ret) return ret;
  yield* jbd2CompleteTransaction(k, inode); // journal.ts: commits the inode's datasync transaction
  if (k.sim.rec) k.sim.log(`ext4_sync_file(${inode.name}): jbd2_complete_transaction(), blkdev_issue_flush()`);
  return 0;
}

// fs/sync.c vfs_fsync_range() -> file->f_op->fsync (ext4_sync_file); fsync(2) is
// vfs_fsync(file, 0) = vfs_fsync_range(file, 0, LLONG_MAX, 0). datasync changes only
// which jbd2 transaction ext4 waits for, which the model does not distinguish.
export function* vfsFsyncRange(k: KernelState, inode: Inode, range: PageRange): Generator<void, number, void> {
  if (k.fs === 'xfs') return yield* k.sim.call('xfs_file_fsync', xfsFileFsync(k, inode, range));
  if (k.fs === 'ext2') return yield* k.sim.call('ext2_fsync', ext2Fsync(k, inode, range)); // fs/ext2.ts
  return yield* k.sim.call('ext4_sync_file', ext4SyncFile(k, inode, range));
}

// fs/xfs/xfs_file.c xfs_file_fsync(), v4.6–v4.19 (store id 11062151, head and tail; v4.14
// text, 24203291321): filemap_write_and_wait_range() (v4.14+: file_write_and_wait_range())
// first (xfs_vm_writepages(), from v4.16 xfs_dax_writepages(), -> the DAX writeback, store
// id 31763501), then under XFS_ILOCK_SHARED, if the inode is pinned, _xfs_log_force_lsn()
// up to its last LSN (journal.ts: the log model), and a device flush (a fence with nothing
// left to order in the model). The ILOCK itself is not modelled here.
function* xfsFileFsync(k: KernelState, inode: Inode, range: PageRange): Generator<void, number, void> {
  const ret = yield* filemapWriteAndWaitRange(k, inode.mapping, range);
  if (ret) return ret;
  yield* xfsLogForceLsn(k, inode);
  if (k.sim.rec) k.sim.log(`xfs_file_fsync(${inode.name}): _xfs_log_force_lsn(), xfs_blkdev_issue_flush()`);
  return 0;
}

// mm/msync.c sys_msync(MS_SYNC), v4.x (from memory; notes B.8): under mmap_sem
// find the VMA; for a shared file VMA drop mmap_sem and vfs_fsync_range(file,
// fstart, fend, 1) over the part of the file it maps (here the whole map: a
// scenario map covers the file as it was at mmap time). MS_ASYNC, which does
// nothing for DAX, is not an op. A range with no VMA is -ENOMEM.
export function* sysMsync(k: KernelState, vma: Vma): Generator<void, number, void> {
  const sim: Sim = k.sim;
  yield* k.mmapSem.downRead(sim);
  sim.touch(vma.obj, false);
  if (vma.unmapped) {
    k.mmapSem.upRead(sim);
    return -12; // -ENOMEM
  }
  // `(flags & MS_SYNC) && file && (vma->vm_flags & VM_SHARED)`: a private mapping has nothing to write back
  if (!vma.shared) {
    k.mmapSem.upRead(sim);
    return 0;
  }
  const inode = k.inode(vma.mapping.file);
  // the VMA's length is fixed at mmap time: the file's size at setup
  const pages = inode.sizeHistory[0]!;
  k.mmapSem.upRead(sim);
  if (pages === 0) return 0;
  return yield* vfsFsyncRange(k, inode, { first: 0, last: pages - 1 });
}
