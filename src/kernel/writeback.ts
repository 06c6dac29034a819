// fsync(2) and msync(2) on an ext4 DAX file, v4.6 and v4.7: the VFS and mm
// entry points, ext4's ->fsync and ->writepages, and the DAX cache flush of
// fs/dax.c (dax_writeback_mapping_range() / dax_writeback_one()). Sources:
// notes/kernel-rw-writeback.md §B.1, §B.2 (VERBATIM fs/dax.c, store ids
// 11726779 (v4.6) and 48298668521 / 24459562991 (v4.7/v4.8)), §B.7 (what a
// flush is), §B.8 (who calls it; 7f6d5b529b7d posting, store id 37611721828).
//
// What a flush does here: for each entry tagged DIRTY in the range, DIRTY is
// copied to TOWRITE, and dax_writeback_one() writes the entry's block's dirty
// cache line back to the media (wb_cache_pmem()) and clears TOWRITE. DIRTY is
// never cleared in v4.6–v4.9 (races-and-design.md 1.18; cleared from v4.10,
// 4b4bb46d00b3), so every fsync flushes every entry ever dirtied again. No
// entry lock is taken and no PTE is write-protected: a store racing with the
// flush is not excluded.
import type { Sim } from '../sim/engine.js';
import { bdevDirectAccess } from './media.js';
import type { Inode, KernelState } from './state.js';
import { EIO, describeEntry, type AddressSpace, type TreeEntry } from './mapping.js';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE } from './radix-tree.js';
import type { Vma } from './pagetable.js';

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
 * `*slot != entry` of dax_writeback_one(): entries are compared by value (the
 * sector, and from v4.7 the RADIX_DAX_ENTRY_LOCK bit), not by identity; a hole
 * page is a pointer.
 */
function sameSlotValue(a: TreeEntry, b: TreeEntry): boolean {
  if (a === b) return true;
  if (a.kind !== 'dax' || b.kind !== 'dax') return false;
  return a.block === b.block && a.locked === b.locked;
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

// fs/dax.c dax_writeback_one(), v4.6–v4.9 (store ids 11726779, 48298668521):
// under tree_lock re-check that the slot still holds the entry the lookup saw
// (v4.7+: the value includes the lock bit, so a lock taken or dropped meanwhile
// makes it differ and the entry is skipped without a flush, TOWRITE left set;
// races-and-design.md 1.16) and that TOWRITE is still set; WARN and -EIO on a
// non-PTE/PMD entry; drop tree_lock; wb_cache_pmem() of the block; clear TOWRITE.
function* daxWritebackOne(k: KernelState, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, number, void> {
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
  if (entry.kind !== 'dax' || entry.block === null) {
    // WARN_ON_ONCE(type != RADIX_DAX_PTE && type != RADIX_DAX_PMD): a hole page, or v4.7's empty entry (type 0)
    sim.violate('kernel-warn', `WARN_ON_ONCE(type != RADIX_DAX_PTE && type != RADIX_DAX_PMD) in dax_writeback_one(): ${at} holds ${describeEntry(entry)}`, 'dax_writeback_one');
    mapping.treeLock.unlock(sim);
    return -EIO;
  }
  const block = entry.block;
  mapping.treeLock.unlock(sim);
  // "We cannot hold tree_lock while calling dax_map_atomic() because it eventually
  // calls cond_resched()": blk_queue_enter(), which never fails here.
  yield;
  const err = bdevDirectAccess(k, block, 'dax_writeback_one');
  if (err) return err; // dax_map_atomic() < 0: the error ends the writeback, TOWRITE stays set
  const b = k.pmem.block(block);
  const flushed = b.wbCache(); // wb_cache_pmem(dax.addr, PAGE_SIZE)
  if (sim.rec) sim.log(`dax_writeback_one(${at}): wb_cache_pmem(blk ${block}) -> ${flushed ? `line written back, media = ${String(b.peekMedia())}` : 'no dirty line'}`);
  yield* mapping.treeLock.lock(sim);
  mapping.tree.tagClear(index, PAGECACHE_TAG_TOWRITE);
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_writeback_one(${at}): TOWRITE cleared`);
  return 0;
}

// fs/dax.c dax_writeback_mapping_range(), v4.6–v4.9 (store ids 11726779,
// 48298668521): only WB_SYNC_ALL with exceptional entries does anything; tag
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
  // The DAX_PMD_INDEX(start_index) lookup for a PMD entry covering the start is
  // left out: no PMD entries exist under v4.6/v4.7 here (v4.6 PMD faults are not
  // modelled; v4.7's fall back to PTEs, 348e967ab07c).
  const start = wbc.range.first;
  const end = wbc.range.last;
  yield* tagPagesForWriteback(k, mapping, wbc.range);
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
// Metadata (extents, i_size) is always durable in the model (every handle counts
// as committed), and the device flush is a fence with nothing left to order.
function* ext4SyncFile(k: KernelState, inode: Inode, range: PageRange): Generator<void, number, void> {
  const ret = yield* filemapWriteAndWaitRange(k, inode.mapping, range);
  if (ret) return ret;
  if (k.sim.rec) k.sim.log(`ext4_sync_file(${inode.name}): jbd2_complete_transaction(), blkdev_issue_flush()`);
  return 0;
}

// fs/sync.c vfs_fsync_range() -> file->f_op->fsync (ext4_sync_file); fsync(2) is
// vfs_fsync(file, 0) = vfs_fsync_range(file, 0, LLONG_MAX, 0). datasync changes only
// which jbd2 transaction ext4 waits for, which the model does not distinguish.
export function* vfsFsyncRange(k: KernelState, inode: Inode, range: PageRange): Generator<void, number, void> {
  return yield* k.sim.call('ext4_sync_file', ext4SyncFile(k, inode, range));
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
