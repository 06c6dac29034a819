// ext2's locks around the DAX calls, v4.6–v4.19: the get_block era (v4.6–v4.8)
// and the iomap era from v4.9 (dax_iomap_fault() with ext2_iomap_ops, the same
// locks): faults under EXT2_I(inode)->dax_sem for read
// (5726b27b09cc, v4.5), truncate under it for write, block allocation
// pre-zeroed under truncate_mutex before the block is spliced into the map.
// Sources: notes/kernel-rw-writeback.md §C.1–C.3 (fs/ext2/file.c store ids
// 32073903 and 37256359832, ext2_setsize() 18658040918, ext2_get_blocks()
// 45323244292 and 17997460508). ext2 has no hole punch. v4.14+ (91d25ba8a6b0):
// ->pfn_mkwrite is ext2_dax_fault() itself. read(2)/write(2)/fsync(2) below; see
// notes/kernel-ext2.md for what was read for v4.14–v4.19 and the rw/fsync paths.
import { LockdepMap, Mutex, RwSem } from '../../sim/sync.js';
import { allocBlock, blkList, freeBlock } from '../blockmap.js';
import {
  FAULT_FLAG_WRITE, VM_FAULT_SIGBUS, daxFaultV46, daxFaultV47, daxPfnMkwriteV46, daxPfnMkwriteV47,
  type Bh, type FsOps, type Vmf,
} from '../fault.js';
import type { Vma } from '../pagetable.js';
import type { Inode, KernelState } from '../state.js';
import { truncatePagecache } from '../truncate.js';
import { IOMAP_WRITE, daxIomapFault, daxPfnMkwriteV49Plus, type Iomap, type IomapOps } from '../dax-iomap.js';
import { zeroNewBlock } from '../media.js';
import type { PageValue } from '../../scenario/types.js';
import type { OpEvent } from '../kernel.js';
import { errWord } from '../mapping.js';
import { daxDoIo, genericFileDirectWrite, type Io, type RwResult, type UserCopy } from '../rw.js';
import { daxIomapRw, type IomapIo } from '../rw-iomap.js';
import { filemapWriteAndWaitRange, type PageRange } from '../writeback.js';
import { journalOf } from '../journal.js';
import type { Extent } from '../state.js';

/** ext2's per-inode locks (struct ext2_inode_info) and the superblock's freeze protection. */
export interface Ext2Info {
  /** ei->dax_sem */
  daxSem: RwSem;
  /** ei->truncate_mutex: serialises block allocation and truncation of the block map */
  truncateMutex: Mutex;
}

const infos = new WeakMap<Inode, Ext2Info>();
const pagefaults = new WeakMap<KernelState, LockdepMap>();

/** Creates ext2's per-inode state when the machine is built (shared objects need stable ids). */
export function ext2Init(k: KernelState): void {
  for (const inode of k.inodes.values()) {
    infos.set(inode, {
      daxSem: new RwSem(k.sim, `dax_sem ${inode.name}`, 'ext2 dax_sem'),
      truncateMutex: new Mutex(k.sim, `truncate_mutex ${inode.name}`, 'ext2 truncate_mutex'),
    });
  }
  pagefaults.set(k, new LockdepMap(k.sim, 'sb_pagefaults', 'sb_writers (SB_FREEZE_PAGEFAULT)'));
}

function ei(inode: Inode): Ext2Info {
  const i = infos.get(inode);
  if (i === undefined) throw new Error(`model: ext2 inode ${inode.name} not initialised`);
  return i;
}

function* daxSemRead(k: KernelState, inode: Inode): Generator<void, void, void> {
  if (k.flags.ext2_dax_sem) yield* ei(inode).daxSem.downRead(k.sim);
}
function daxSemUpRead(k: KernelState, inode: Inode): void {
  if (k.flags.ext2_dax_sem) ei(inode).daxSem.upRead(k.sim);
}

// fs/ext2/inode.c ext2_get_blocks() for one block, v4.6–v4.19: the map is read
// without a lock (ext2_get_branch() verifies the chain); to allocate, take
// truncate_mutex, look again, allocate, zero the block (v4.6 dax_clear_sectors(),
// v4.7+ sb_issue_zeroout(), 3dc29161070a) and only then splice it in. The block
// is not reported as new before e568df6b84ff (v4.10, flag ext2_dax_new_blocks).
function* ext2GetBlock(k: KernelState, inode: Inode, page: number, create: boolean): Generator<void, Bh | number, void> {
  yield;
  const found = inode.extents.get(page);
  if (found !== undefined) return { mapped: true, unwritten: false, isNew: false, block: found.block };
  if (!create) return { mapped: false, unwritten: false, isNew: false, block: null };
  const m = ei(inode).truncateMutex;
  yield* m.lock(k.sim);
  const again = inode.extents.get(page);
  if (again !== undefined) {
    m.unlock(k.sim);
    return { mapped: true, unwritten: false, isNew: false, block: again.block };
  }
  const b = allocBlock(k, inode, page);
  if (b === null) {
    m.unlock(k.sim);
    return -28; // -ENOSPC
  }
  yield; // the zeroing is I/O to the block before anyone can find it
  zeroNewBlock(k, b); // v4.6 dax_clear_sectors() (the CPU), v4.7 sb_issue_zeroout() (the driver)
  inode.extents.set(page, { block: b.nr, unwritten: false }); // ext2_splice_branch()
  m.unlock(k.sim);
  // e568df6b84ff (v4.10): "*new = true" also for the zeroed DAX block (BH_New / IOMAP_F_NEW)
  return { mapped: true, unwritten: false, isNew: k.flags.ext2_dax_new_blocks, block: b.nr };
}

// fs/ext2/inode.c ext2_iomap_begin(), v4.9–v4.19 (store id 32073903 is the v4.9
// fs/ext2/file.c that calls it): ext2_get_blocks(create = flags & IOMAP_WRITE) for the
// block; 0 blocks is IOMAP_HOLE, else IOMAP_MAPPED (ext2 has no unwritten extents);
// `if (new) iomap->flags |= IOMAP_F_NEW`, which ext2_get_blocks() reports for its zeroed
// DAX blocks from e568df6b84ff (v4.10): a fault counts a major fault, dax_iomap_actor()
// invalidates hole pages over it.
function* ext2IomapBegin(k: KernelState, inode: Inode, page: number, flags: number): Generator<void, Iomap | number, void> {
  const r = yield* ext2GetBlock(k, inode, page, (flags & IOMAP_WRITE) !== 0);
  if (typeof r === 'number') return r;
  if (!r.mapped) return { type: 'hole', block: null, isNew: false };
  return { type: 'mapped', block: r.block, isNew: r.isNew };
}

// fs/ext2/inode.c ext2_iomap_end(), v4.9–v4.19: only a short IOMAP_WRITE of a mapped
// extent does anything (ext2_write_failed() truncates blocks past i_size); a fault
// reports its page written or 0 bytes on an error, and never allocates past i_size.
// A write(2) is short here only when its copy fails: a known bad block (-EIO; a block
// this write allocated was zeroed through the driver, which cleared the poison, so it
// is inside i_size) or a user buffer that faults (`from:` is refused on ext2).
function* ext2IomapEnd(_k: KernelState, _inode: Inode, _page: number, _written: number, _flags: number, _iomap: Iomap): Generator<void, number, void> {
  return 0;
}

/** ext2_iomap_ops, v4.9–v4.19 */
export const ext2IomapOps: IomapOps = { iomapBegin: ext2IomapBegin, iomapEnd: ext2IomapEnd };

// fs/ext2/file.c ext2_dax_fault() (also ->page_mkwrite, as ext2_dax_mkwrite() in
// v4.6 with the same locking; ->pfn_mkwrite too from v4.14), v4.5–v4.19: sb_start_pagefault() for a write, then
// dax_sem for read around the DAX fault handler: dax_fault(ext2_get_block) up to
// v4.8, dax_iomap_fault(ext2_iomap_ops) from v4.9 (store id 32073903; the v4.11
// ->fault signature change, store id 2450038994, and v4.11's PE_SIZE_PTE argument and
// v4.15's NULL pfnp (diffs 3193511334, 16220403274) keep the locking).
function* ext2DaxFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const inode = k.inode(vma.mapping.file);
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  const pf = pagefaults.get(k)!;
  if (write) {
    yield;
    pf.acquire(k.sim); // sb_start_pagefault(); file_update_time()
  }
  yield* daxSemRead(k, inode);
  let ret: number;
  if (k.flags.ext2_dax_iomap) ret = yield* k.sim.fn('dax_iomap_fault', daxIomapFault(k, ext2IomapOps, vma, vmf));
  else if (k.flags.dax_entry_lock) ret = yield* daxFaultV47(k, ext2Ops, vma, vmf);
  else ret = yield* daxFaultV46(k, ext2Ops, vma, vmf);
  daxSemUpRead(k, inode);
  if (write) pf.release(k.sim);
  return ret;
}

// fs/ext2/file.c ext2_dax_pfn_mkwrite(), v4.5–v4.13 (v4.9 store id 32073903, v4.11
// store id 2450038994): "check that the faulting page hasn't raced with truncate"
// under dax_sem, then dax_pfn_mkwrite().
function* ext2DaxPfnMkwrite(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const inode = k.inode(vma.mapping.file);
  const pf = pagefaults.get(k)!;
  yield;
  pf.acquire(k.sim);
  yield* daxSemRead(k, inode);
  yield;
  const ret = vmf.pgoff >= inode.size
    ? VM_FAULT_SIGBUS
    : k.flags.dax_radix_pmd_entries ? yield* daxPfnMkwriteV49Plus(k, vma, vmf)
    : k.flags.dax_entry_lock ? yield* daxPfnMkwriteV47(k, vma, vmf) : yield* daxPfnMkwriteV46(k, vma, vmf);
  daxSemUpRead(k, inode);
  pf.release(k.sim);
  return ret;
}

// ext2_dax_vm_ops: .fault and .page_mkwrite = ext2_dax_fault; .pfn_mkwrite =
// ext2_dax_pfn_mkwrite() to v4.13, ext2_dax_fault() from v4.14: 91d25ba8a6b0 "dax: use
// common 4k zero page for dax mmap reads" removed dax_pfn_mkwrite() (the v4.14 fs/dax.c,
// store id 24324988927, has none) and its series touches fs/ext2/file.c (v3 cover letter,
// id 38042093746: "fs/ext2/file.c | 25 +--"; the ext2 hunk itself not seen); later copies
// (ids 51401156549, 62179295) have `.pfn_mkwrite = ext2_dax_fault`. No .huge_fault: ext2
// allocations are not 2 MiB aligned (id 4049310484, v4.9).
export const ext2Ops: FsOps = {
  fault: ext2DaxFault,
  pageMkwrite: ext2DaxFault,
  pfnMkwrite: (k, vma, vmf) => (k.flags.dax_zero_page_holes ? ext2DaxFault(k, vma, vmf) : ext2DaxPfnMkwrite(k, vma, vmf)),
  getBlock: (k, vma, page, create) => ext2GetBlock(k, k.inode(vma.mapping.file), page, create),
};

// fs/ext2/inode.c __ext2_truncate_blocks(), v4.x: drop the block map from `from` on
// and free the blocks (the caller holds truncate_mutex).
function ext2FreeBlocks(k: KernelState, inode: Inode, from: number): number[] {
  const freed: number[] = [];
  for (const page of inode.extents.keys()) {
    if (page < from) continue;
    const e = inode.extents.get(page)!;
    inode.extents.delete(page);
    freeBlock(k, k.pmem.block(e.block));
    freed.push(e.block);
  }
  return freed;
}

// do_truncate() -> fs/ext2/inode.c ext2_setattr() -> ext2_setsize(), v4.6–v4.19:
// under inode_lock; no dax_layout_busy_page() in any of them (the text just before
// v5.15's invalidate_lock conversion, ids 42912975868 / 45629300199, still goes
// dax_sem_down_write(); truncate_setsize(); __ext2_truncate_blocks(): ext2 was not in
// the v4.18/v4.19 break-layouts series, so a pinned block is freed under the pin); dax_truncate_page() (v4.6–v4.8) / iomap_zero_range() (v4.9+) of
// the partial tail (nothing for page-aligned sizes); dax_sem for write across truncate_setsize() (i_size, then the page cache)
// and __ext2_truncate_blocks() (frees blocks under truncate_mutex).
export function* ext2Setsize(k: KernelState, inode: Inode, newSize: number): Generator<void, void, void> {
  const sim = k.sim;
  const info = ei(inode);
  yield* inode.iRwsem.downWrite(sim);
  if (k.flags.ext2_dax_sem) yield* info.daxSem.downWrite(sim);
  yield;
  inode.setSize(newSize); // truncate_setsize(): i_size_write()
  if (sim.rec) sim.log(`i_size_write(${inode.name}, ${newSize})`);
  yield* k.sim.fn('truncate_pagecache', truncatePagecache(k, inode.mapping, newSize));
  yield* info.truncateMutex.lock(sim);
  const freed = ext2FreeBlocks(k, inode, newSize);
  info.truncateMutex.unlock(sim);
  if (freed.length && sim.rec) sim.log(`__ext2_truncate_blocks: free blk ${blkList(freed)}`);
  if (k.flags.ext2_dax_sem) info.daxSem.upWrite(sim);
  inode.iRwsem.upWrite(sim);
}

// ---------------------------------------------------------------------------
// read(2), write(2), fsync(2) on an ext2 DAX file

// fs/ext2/inode.c ext2_direct_IO(), v4.6–v4.8, the DAX branch (from memory; its v4.9
// removal is in the iomap conversion): dax_do_io(iocb, inode, iter, ext2_get_block, NULL,
// DIO_LOCKING), the caller holding inode_lock for a write. A failed write would call
// ext2_write_failed() (truncate blocks past i_size); no modelled write fails past i_size.
function* ext2DirectIOWrite(k: KernelState, inode: Inode, page: number, io: Io): Generator<void, number, void> {
  return yield* daxDoIo(k, inode, page, ext2GetBlock, true, io);
}

// mm/filemap.c generic_file_write_iter(), ext2's ->write_iter to v4.8 (from memory; the
// same shape as ext4_file_write_iter() in rw.ts): inode_lock around generic_write_checks()
// and __generic_file_write_iter() -> generic_file_direct_write() (a DAX file is always
// IOCB_DIRECT): flush and invalidate the range, ext2_direct_IO(), extend i_size; then
// generic_write_sync() (no O_SYNC here). No dax_sem: that is for faults against truncate.
export function* ext2GenericFileWriteIter(k: KernelState, inode: Inode, page: number, value: PageValue, ev: OpEvent): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: Io = { ev, value, read: 0, record: null };
  yield* inode.iRwsem.downWrite(sim); // inode_lock()
  const ret = yield* genericFileDirectWrite(k, inode, page, io, ext2DirectIOWrite);
  inode.iRwsem.upWrite(sim);
  if (io.record !== null) io.record.end = sim.step;
  if (ret < 0) return errWord(ret);
  return ret > 0 ? 'ok' : 'short';
}

// mm/filemap.c generic_file_read_iter(), ext2's ->read_iter to v4.8 (from memory; as
// ext4FileReadIter() in rw.ts), IOCB_DIRECT: flush the range
// (filemap_write_and_wait_range()), then ext2_direct_IO() -> dax_do_io(ext2_get_block,
// DIO_LOCKING), which takes inode_lock for the read itself.
export function* ext2GenericFileReadIter(k: KernelState, inode: Inode, page: number, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const io: Io = { ev, value: null, read: 0, record: null, user };
  const err = yield* filemapWriteAndWaitRange(k, inode.mapping, { first: page, last: page });
  if (err) return errWord(err);
  const ret = yield* daxDoIo(k, inode, page, ext2GetBlock, true, io);
  if (ret < 0) {
    ev.readStep = 0;
    return errWord(ret);
  }
  return ret === 0 ? 'EOF' : io.read;
}

// fs/ext2/file.c ext2_dax_write_iter(), v4.9–v4.19 (VERBATIM v4.9 text, store id
// 32073903): inode_lock(); generic_write_checks(), file_remove_privs(), file_update_time();
// dax_iomap_rw(ext2_iomap_ops) (ext2_iomap_begin(IOMAP_WRITE) allocates zeroed blocks
// under truncate_mutex); "if (ret > 0 && iocb->ki_pos > i_size_read(inode))
// { i_size_write(); mark_inode_dirty(); }"; inode_unlock(); generic_write_sync().
// Exclusive i_rwsem for the whole write, no dax_sem.
export function* ext2DaxWriteIter(k: KernelState, inode: Inode, page: number, count: number, value: PageValue, ev: OpEvent): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: IomapIo = { ev, value, read: 0, pagesRead: [], done: 0, records: [] };
  yield* inode.iRwsem.downWrite(sim); // inode_lock()
  const ret = yield* k.sim.fn('dax_iomap_rw', daxIomapRw(k, inode, page, count, ext2IomapOps, io));
  if (ret > 0) {
    yield;
    if (page + ret > inode.size) {
      inode.setSize(page + ret); // i_size_write(inode, iocb->ki_pos); mark_inode_dirty(inode)
      if (sim.rec) sim.log(`i_size_write(${inode.name}, ${page + ret})`);
    }
  }
  inode.iRwsem.upWrite(sim); // inode_unlock()
  for (const r of io.records) r.end = sim.step;
  if (ret < 0) return errWord(ret);
  return ret === count ? 'ok' : 'short';
}

// fs/ext2/file.c ext2_dax_read_iter(), v4.9–v4.19 (VERBATIM v4.9 text, store id
// 32073903): inode_lock_shared() around dax_iomap_rw(ext2_iomap_ops); file_accessed().
export function* ext2DaxReadIter(k: KernelState, inode: Inode, page: number, count: number, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: IomapIo = { ev, value: null, user, read: 0, pagesRead: [], done: 0, records: [] };
  yield* inode.iRwsem.downRead(sim); // inode_lock_shared()
  const ret = yield* k.sim.fn('dax_iomap_rw', daxIomapRw(k, inode, page, count, ext2IomapOps, io));
  inode.iRwsem.upRead(sim);
  if (ret < 0) {
    ev.readStep = 0;
    return errWord(ret);
  }
  if (ret === 0) return 'EOF';
  if (count === 1) return io.read;
  ev.pagesRead = io.pagesRead;
  return io.pagesRead.map((p) => String(p.value)).join(' ');
}

// ext2 has no journal: the block map (the inode's i_data[] and indirect blocks) and
// i_size reach the media only when the inode and its buffers are written back. The model
// keeps the on-media copy of each inode in the crash model's `committed` table
// (journal.ts; set up with the machine, so the setup's files are on the media) and, as
// journal.ts does for jbd2's commit timer, leaves the flusher thread's periodic inode
// writeback out: only fsync/msync write the inode (the worst case). The block and inode
// bitmaps, and what e2fsck makes of a half-written state, are not modelled.
function ext2WriteInode(k: KernelState, inode: Inode): void {
  const j = journalOf(k);
  k.sim.touch(j.obj, true);
  const extents = new Map<number, Extent>();
  for (const p of inode.extents.keys()) extents.set(p, inode.extents.get(p)!);
  j.committed.set(inode.name, { size: inode.size, extents });
}

// fs/ext2/file.c ext2_fsync() (VERBATIM v4.9, store id 32073903) -> fs/libfs.c
// generic_file_fsync() -> __generic_file_fsync(), v4.6–v4.19 (the shape quoted in id
// 66437070568 — an older i_mutex copy; i_rwsem from v4.7 — and ext4_fsync_nojournal(),
// id 24346246863): filemap_write_and_wait_range() (-> ext2_writepages()'s DAX branch,
// ext2_dax_writepages() once ext2 has DAX aops: dax_writeback_mapping_range(), the same
// flush); inode_lock(); sync_mapping_buffers() (the indirect blocks); if the inode is
// dirty (I_DIRTY_DATASYNC for fdatasync/msync: allocation, truncate and i_size changes
// mark it so), sync_inode_metadata(inode, 1) writes it; inode_unlock(); then
// blkdev_issue_flush() of the device.
export function* ext2Fsync(k: KernelState, inode: Inode, range: PageRange): Generator<void, number, void> {
  const sim = k.sim;
  const ret = yield* filemapWriteAndWaitRange(k, inode.mapping, range);
  if (ret) return ret;
  yield* inode.iRwsem.downWrite(sim); // inode_lock()
  yield; // sync_mapping_buffers(); sync_inode_metadata()
  ext2WriteInode(k, inode);
  if (sim.rec) sim.log(`__generic_file_fsync(${inode.name}): sync_mapping_buffers(), sync_inode_metadata(): i_size ${inode.peekSize()} and the block map on the media`);
  inode.iRwsem.upWrite(sim);
  if (sim.rec) sim.log('blkdev_issue_flush()');
  return 0;
}
