// ext4's locks around the DAX calls: fault handlers, get_block, truncate and
// hole punch (fs/ext4/file.c, fs/ext4/inode.c). Sources: the patch mails
// quoted in notes/kernel-v4.6-v4.7.md §3 (no full v4.6/v4.7 ext4 file is in
// the index; the quoted hunks carry the lock order).
import { LockdepMap } from '../../sim/sync.js';
import { LOOKUP, blkList, ext4MapBlocks, ext4MapBlocksRange, ext4RemoveSpace, type MapResult } from '../blockmap.js';
import {
  FAULT_FLAG_WRITE, VM_FAULT_NEEDDSYNC, VM_FAULT_SIGBUS, daxFaultV46, daxFaultV47, daxPfnMkwriteV46, daxPfnMkwriteV47,
  type Bh, type FsOps, type Vmf,
} from '../fault.js';
import { HPAGE_PMD_NR, type Vma } from '../pagetable.js';
import { VM_FAULT_FALLBACK, daxFinishSyncFaultPmd, daxIomapPmdFault, daxPmdFaultV46, type BhRange } from '../huge.js';
import type { Inode, KernelState } from '../state.js';
import { truncatePagecache, truncatePagecacheRange } from '../truncate.js';
import { ext4BreakLayouts } from '../layout.js';
import { ext4InodeDatasyncDirty, ext4UpdateInodeFsyncTrans } from '../journal.js';
import { IOMAP_FAULT, IOMAP_WRITE, daxFaultV49, daxFinishSyncFault, daxIomapFault, daxPfnMkwriteV49Plus, type Iomap, type IomapOps } from '../dax-iomap.js';

/** Per-run ext4 superblock state: freeze protection and the journal, as lockdep sees them. */
export class Ext4Sb {
  /** sb_start_pagefault(): percpu freeze protection; no freeze happens in a scenario */
  readonly pagefault: LockdepMap;
  /** a running jbd2 handle; nested starts join it (jbd2__journal_start(): h_ref++) */
  readonly handle: LockdepMap;
  constructor(k: KernelState) {
    this.pagefault = new LockdepMap(k.sim, 'sb_pagefaults', 'sb_writers (SB_FREEZE_PAGEFAULT)');
    this.handle = new LockdepMap(k.sim, 'jbd2_handle', 'jbd2_handle');
  }
}

const superblocks = new WeakMap<KernelState, Ext4Sb>();

/** The ext4 superblock state of this machine (one ext4 filesystem per scenario). */
export function sbOf(k: KernelState): Ext4Sb {
  let sb = superblocks.get(k);
  if (sb === undefined) superblocks.set(k, (sb = new Ext4Sb(k)));
  return sb;
}

export function toBh(r: MapResult): Bh {
  if (r.extent === null) return { mapped: false, unwritten: false, isNew: false, block: null };
  return { mapped: !r.extent.unwritten, unwritten: r.extent.unwritten, isNew: r.isNew, block: r.extent.block };
}

const PRE_IO_CREATE_ZERO = { create: true, unwritExt: true, convert: false, zero: true };
const CONVERT_CREATE_ZERO = { create: true, unwritExt: false, convert: true, zero: true };

// fs/ext4/inode.c ext4_dax_mmap_get_block(), v4.5–v4.6 (store id 46040036124, the
// `-` lines of 7cb476f834d0): allocate with PRE_IO|CREATE_ZERO in a handle; any
// unwritten extent, even on a lookup, is converted and zeroed in a second handle;
// BH_New is cleared "so that DAX code doesn't attempt to zero blocks again".
function* ext4DaxMmapGetBlockV46(k: KernelState, inode: Inode, page: number, create: boolean): Generator<void, Bh | number, void> {
  const sb = sbOf(k);
  if (create) sb.handle.acquire(k.sim);
  let r = yield* ext4MapBlocks(k, inode, page, create ? PRE_IO_CREATE_ZERO : LOOKUP);
  if (create) sb.handle.release(k.sim);
  if (typeof r === 'number') return r;
  if (r.extent?.unwritten) {
    // "Note: We may get here even when create == 0."
    sb.handle.acquire(k.sim);
    const c = yield* ext4MapBlocks(k, inode, page, CONVERT_CREATE_ZERO);
    sb.handle.release(k.sim);
    if (typeof c === 'number') return c;
    // (an extent this call allocated unwritten with PRE_IO is not news; one it found is)
    if (c.isNew && !r.isNew && k.sim.rec) k.sim.log(`ext4_dax_mmap_get_block(${inode.name}:${page}): unwritten blk ${c.extent!.block} converted to written and zeroed`);
    r = c;
  }
  return { ...toBh(r), isNew: false };
}

// fs/ext4/inode.c ext4_dax_get_block(), v4.7–v4.9 (7cb476f834d0, 12735f881952;
// store ids 46040036124, 45507635876): a lookup stays a lookup (unwritten reads as
// not mapped); create allocates pre-zeroed, converting unwritten extents.
export function* ext4DaxGetBlockV47(k: KernelState, inode: Inode, page: number, create: boolean): Generator<void, Bh | number, void> {
  const sb = sbOf(k);
  if (!create) {
    const r = yield* ext4MapBlocks(k, inode, page, LOOKUP);
    return typeof r === 'number' ? r : toBh(r);
  }
  sb.handle.acquire(k.sim); // ext4_get_block_trans()
  let r = yield* ext4MapBlocks(k, inode, page, PRE_IO_CREATE_ZERO);
  sb.handle.release(k.sim);
  if (typeof r === 'number') return r;
  if (r.extent?.unwritten) {
    sb.handle.acquire(k.sim);
    const c = yield* ext4MapBlocks(k, inode, page, CONVERT_CREATE_ZERO);
    sb.handle.release(k.sim);
    if (typeof c === 'number') return c;
    // (an extent this call allocated unwritten with PRE_IO is not news; one it found is)
    if (c.isNew && !r.isNew && k.sim.rec) k.sim.log(`ext4_dax_get_block(${inode.name}:${page}): unwritten blk ${c.extent!.block} converted to written and zeroed`);
    r = c;
  }
  return { ...toBh(r), isNew: false }; // clear_buffer_new()
}

/** EXT4_GET_BLOCKS_CREATE_ZERO = CREATE | ZERO: a hole is allocated written and zeroed; an unwritten extent is converted and zeroed */
const EXT4_GET_BLOCKS_CREATE_ZERO = CONVERT_CREATE_ZERO;

// fs/ext4/inode.c ext4_iomap_begin(), v4.10–v4.19, as DAX faults call it (read from a
// v4.15+ copy, store id 8558633314; its IOMAP_WRITE branch is that of 776722e85d3b
// "ext4: DAX iomap write support", v4.10): a lookup; or, for IOMAP_WRITE, a jbd2 handle
// of its own (it joins a running one) around ext4_map_blocks(EXT4_GET_BLOCKS_CREATE_ZERO),
// stopped before returning. The orphan-list step is skipped for IOMAP_FAULT, and the
// ENOSPC retry never runs (allocations do not fail here).
// A request longer than a page (a PMD fault's PMD_SIZE) maps the run from `page` with
// ext4MapBlocksRange(): iomap.length is the run (of blocks or of hole: "ext4: tell DAX the
// size of allocation holes", v4.9), a write to a hole allocates the 2 MiB-aligned extent.
function* ext4IomapBegin(k: KernelState, inode: Inode, page: number, flags: number, pages = 1): Generator<void, Iomap | number, void> {
  const sb = sbOf(k);
  if (pages > 1) {
    if (flags & IOMAP_WRITE) sb.handle.acquire(k.sim);
    const rr = yield* ext4MapBlocksRange(k, inode, page, pages, flags & IOMAP_WRITE ? EXT4_GET_BLOCKS_CREATE_ZERO : LOOKUP);
    if (flags & IOMAP_WRITE) sb.handle.release(k.sim);
    if (typeof rr === 'number') return rr;
    // v4.15 (MAP_SYNC series): IOMAP_F_DIRTY, as for one page below
    const dirtyRange = k.flags.dax_map_sync && ext4InodeDatasyncDirty(k, inode);
    if (rr.extent === null) return { type: 'hole', block: null, isNew: false, length: rr.len, dirty: dirtyRange };
    return { type: rr.extent.unwritten ? 'unwritten' : 'mapped', block: rr.extent.block, isNew: rr.isNew, length: rr.len, dirty: dirtyRange };
  }
  let r: MapResult | number;
  if (flags & IOMAP_WRITE) {
    sb.handle.acquire(k.sim); // ext4_journal_start(inode, EXT4_HT_MAP_BLOCKS, dio_credits)
    r = yield* ext4MapBlocks(k, inode, page, EXT4_GET_BLOCKS_CREATE_ZERO);
    sb.handle.release(k.sim); // ext4_journal_stop()
  } else {
    r = yield* ext4MapBlocks(k, inode, page, LOOKUP);
  }
  if (typeof r === 'number') return r;
  // v4.15 (MAP_SYNC series): "iomap->flags = 0; if (ext4_inode_datasync_dirty(inode)) iomap->flags |= IOMAP_F_DIRTY;"
  const dirty = k.flags.dax_map_sync && ext4InodeDatasyncDirty(k, inode);
  if (r.extent === null) return { type: 'hole', block: null, isNew: false, dirty };
  // EXT4_MAP_NEW -> IOMAP_F_NEW
  return { type: r.extent.unwritten ? 'unwritten' : 'mapped', block: r.extent.block, isNew: r.isNew, dirty };
}

// fs/ext4/inode.c ext4_iomap_end(), v4.10–v4.19: "if (!(flags & IOMAP_WRITE) || (flags &
// IOMAP_FAULT)) return 0;" — nothing to do for a fault. For write(2) (776722e85d3b): in a
// handle, ext4_update_inode_size(inode, offset + written) (i_size only grows); the
// truncation of blocks allocated past EOF but not written and the orphan-list cleanup
// are not modelled (allocations are never left unwritten here). (From memory; the
// copies read do not include it.)
function* ext4IomapEnd(k: KernelState, inode: Inode, page: number, written: number, flags: number, _iomap: Iomap): Generator<void, number, void> {
  if (!(flags & IOMAP_WRITE) || flags & IOMAP_FAULT) return 0;
  const sb = sbOf(k);
  sb.handle.acquire(k.sim); // ext4_journal_start(inode, EXT4_HT_INODE, 2)
  yield;
  if (page + written > inode.size) {
    inode.setSize(page + written); // ext4_update_inode_size(): i_size_write(), i_disksize
    if (k.sim.rec) k.sim.log(`ext4_iomap_end: i_size_write(${inode.name}, ${page + written})`);
  }
  sb.handle.release(k.sim); // ext4_journal_stop()
  return 0;
}

/** ext4_iomap_ops, v4.10–v4.19 */
export const ext4IomapOps: IomapOps = { iomapBegin: ext4IomapBegin, iomapEnd: ext4IomapEnd };

/** ext4's fault-vs-truncate lock: EXT4_I(inode)->i_mmap_sem (ea3d7209ca01), or nothing when the flag is off. */
function* mmapSemRead(k: KernelState, inode: Inode): Generator<void, void, void> {
  if (k.flags.ext4_i_mmap_sem) yield* inode.iMmapSem.downRead(k.sim);
}
function mmapSemUpRead(k: KernelState, inode: Inode): void {
  if (k.flags.ext4_i_mmap_sem) inode.iMmapSem.upRead(k.sim);
}

// fs/ext4/file.c ext4_dax_fault(), v4.5–v4.10, and ext4_dax_huge_fault() for a PTE,
// v4.11–v4.12 (store ids 37256359832, 45495921990; v4.10 and v4.12 from the diffs of
// 1db175428ee3 (id 2812243979) and of its v4.12 reversal (id 37953395956)). A write fault:
// sb_start_pagefault(), file_update_time(), i_mmap_sem for read, a jbd2 handle (not in
// v4.10–v4.11: ext4_iomap_begin() starts its own), then the DAX fault:
//   v4.6 __dax_fault(), v4.7–v4.8 dax_fault(), v4.9 dax_fault() with the v4.9 entries,
//   all with ext4's get_block; from v4.10 (e2ae766c1b03) dax_iomap_fault(ext4_iomap_ops).
// Also ->page_mkwrite since 1e9d180ba39f (v4.5).
function* ext4DaxFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  const inode = k.inode(vma.mapping.file);
  // fd96b8da68d3 (v4.12): "write" is FAULT_FLAG_WRITE on a VM_SHARED mapping; before, any FAULT_FLAG_WRITE (a COW fault too)
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (vma.shared || !k.flags.ext4_dax_cow_fault_not_write);
  // 1db175428ee3 (v4.10): no handle here; the v4.12 reversal starts it here again
  const handle = write && !k.flags.ext4_dax_fault_no_handle;
  if (write) {
    yield;
    sb.pagefault.acquire(sim); // sb_start_pagefault(); file_update_time()
    yield* mmapSemRead(k, inode);
    if (handle) sb.handle.acquire(sim); // ext4_journal_start_sb(EXT4_HT_WRITE_PAGE)
  } else {
    yield* mmapSemRead(k, inode);
  }
  let result: number;
  if (!k.flags.dax_entry_lock) result = yield* daxFaultV46(k, ext4Ops, vma, vmf);
  else if (k.flags.ext4_dax_iomap_fault) result = yield* daxIomapFault(k, ext4IomapOps, vma, vmf); // e2ae766c1b03 (v4.10)
  else if (k.flags.dax_radix_pmd_entries) result = yield* daxFaultV49(k, ext4Ops, vma, vmf); // 642261ac995e (v4.9)
  else result = yield* daxFaultV47(k, ext4Ops, vma, vmf);
  if (write) {
    if (handle) sb.handle.release(sim);
    // v4.15 (MAP_SYNC): "if (result & VM_FAULT_NEEDDSYNC) result = dax_finish_sync_fault(vmf, pe_size, pfn);"
    if (result & VM_FAULT_NEEDDSYNC) result = yield* sim.fn('dax_finish_sync_fault', daxFinishSyncFault(k, vma, vmf, vmf.syncPfn!));
    mmapSemUpRead(k, inode);
    sb.pagefault.release(sim);
  } else {
    mmapSemUpRead(k, inode);
  }
  return result;
}

// fs/ext4/file.c ext4_dax_pfn_mkwrite(), v4.5–v4.13 (store ids 2450038994, 37112263221;
// v4.11 only changed its arguments): i_size checked under i_mmap_sem; no journal handle.
function* ext4DaxPfnMkwrite(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  const inode = k.inode(vma.mapping.file);
  yield;
  sb.pagefault.acquire(sim);
  yield* mmapSemRead(k, inode);
  yield; // i_size_read()
  let ret: number;
  if (vmf.pgoff >= inode.size) {
    if (sim.rec) sim.log(`ext4_dax_pfn_mkwrite: i_size ${inode.size} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    ret = VM_FAULT_SIGBUS;
  } else {
    if (!k.flags.dax_entry_lock) ret = yield* daxPfnMkwriteV46(k, vma, vmf);
    else if (k.flags.dax_radix_pmd_entries) ret = yield* daxPfnMkwriteV49Plus(k, vma, vmf); // 642261ac995e (v4.9)
    else ret = yield* daxPfnMkwriteV47(k, vma, vmf);
  }
  mmapSemUpRead(k, inode);
  sb.pagefault.release(sim);
  return ret;
}

// fs/ext4/inode.c ext4_dax_mmap_get_block(), v4.5–v4.6, asked for PMD_SIZE by __dax_pmd_fault()
// (bh.b_size = PMD_SIZE): a lookup maps the run of contiguous blocks from `head`; a hole
// reports no size (b_state stays 0: buffer_size_valid() is false; "ext4: tell DAX the size of
// allocation holes" is v4.9); create allocates in a handle (ext4MapBlocksRange(): the 2 MiB-
// aligned extent when the whole range is a hole). Its unwritten-then-convert sequence is folded
// into one written, zeroed allocation (huge files have no unwritten extents), BH_New cleared.
function* ext4DaxMmapGetBlockPmdV46(k: KernelState, inode: Inode, head: number, create: boolean): Generator<void, BhRange | number, void> {
  const sb = sbOf(k);
  if (create) sb.handle.acquire(k.sim);
  const r = yield* ext4MapBlocksRange(k, inode, head, HPAGE_PMD_NR, create ? CONVERT_CREATE_ZERO : LOOKUP);
  if (create) sb.handle.release(k.sim);
  if (typeof r === 'number') return r;
  if (r.extent === null) return { mapped: false, unwritten: false, isNew: false, block: null, len: 0 };
  return { mapped: !r.extent.unwritten, unwritten: r.extent.unwritten, isNew: false, block: r.extent.block, len: r.len };
}

// fs/ext4/file.c ext4_dax_pmd_fault(), v4.5–v4.10, and ext4_dax_huge_fault() for a PMD,
// v4.11–v4.12 (v4.6 body from the `-` lines of store id 37256359832; v4.10 from the context
// of 2577308578; v4.12 per 37953395956): the locks of ext4DaxFault() (a write: sb_start_pagefault(),
// file_update_time(), i_mmap_sem for read, a jbd2 handle except in v4.10–v4.11), around
//   v4.6 __dax_pmd_fault() with ext4_dax_mmap_get_block();
//   v4.7–v4.8 dax_pmd_fault(), which falls back at once (CONFIG_FS_DAX_PMD depends on BROKEN);
//   v4.9 the dax_pmd_fault() stub: VM_FAULT_FALLBACK ("dax: remove dax_pmd_fault()");
//   v4.10+ dax_iomap_pmd_fault() with ext4_iomap_ops (e2ae766c1b03).
function* ext4DaxPmdFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  const inode = k.inode(vma.mapping.file);
  // fd96b8da68d3 (v4.12): a COW fault on a private mapping is not a "write" for ext4_dax_huge_fault()
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (vma.shared || !k.flags.ext4_dax_cow_fault_not_write);
  const handle = write && !k.flags.ext4_dax_fault_no_handle;
  if (write) {
    yield;
    sb.pagefault.acquire(sim);
    yield* mmapSemRead(k, inode);
    if (handle) sb.handle.acquire(sim);
  } else {
    yield* mmapSemRead(k, inode);
  }
  let result: number;
  if (!k.flags.dax_entry_lock) result = yield* daxPmdFaultV46(k, ext4DaxMmapGetBlockPmdV46, vma, vmf);
  else if (k.flags.ext4_dax_iomap_fault) result = yield* daxIomapPmdFault(k, ext4IomapOps, vma, vmf); // e2ae766c1b03 (v4.10)
  else {
    // v4.7–v4.8: dax_pmd_broken (348e967ab07c); v4.9: dax_get_block_pmd_fault_stub
    yield;
    if (sim.rec) sim.log(`dax_pmd_fault -> VM_FAULT_FALLBACK (${k.flags.dax_pmd_broken ? 'CONFIG_FS_DAX_PMD depends on BROKEN' : 'a stub since "dax: remove dax_pmd_fault()"'})`);
    result = VM_FAULT_FALLBACK;
  }
  if (write) {
    if (handle) sb.handle.release(sim);
    // v4.15 (MAP_SYNC): "if (result & VM_FAULT_NEEDDSYNC) result = dax_finish_sync_fault(vmf, pe_size, pfn);"
    if (result & VM_FAULT_NEEDDSYNC) result = yield* sim.fn('dax_finish_sync_fault', daxFinishSyncFaultPmd(k, vma, vmf, vmf.syncPfn!));
    mmapSemUpRead(k, inode);
    sb.pagefault.release(sim);
  } else {
    mmapSemUpRead(k, inode);
  }
  return result;
}

export const ext4Ops: FsOps = {
  fault: ext4DaxFault,
  pmdFault: ext4DaxPmdFault,
  pageMkwrite: ext4DaxFault,
  // v4.14 (91d25ba8a6b0, which removed dax_pfn_mkwrite()): `.pfn_mkwrite = ext4_dax_fault`
  // (4.19 table, store id 48065734641): a write to a read-only DAX PTE is a full DAX fault
  pfnMkwrite: (k, vma, vmf) => (k.flags.dax_zero_page_holes ? ext4DaxFault(k, vma, vmf) : ext4DaxPfnMkwrite(k, vma, vmf)),
  getBlock: (k, vma, page, create) => {
    const inode = k.inode(vma.mapping.file);
    // dax_entry_lock and the get_block rewrite landed together in the v4.7 series (7cb476f834d0)
    return k.flags.dax_entry_lock ? ext4DaxGetBlockV47(k, inode, page, create) : ext4DaxMmapGetBlockV46(k, inode, page, create);
  },
};

// fs/ext4/inode.c ext4_truncate() -> ext4_ext_truncate(), v4.x: in a handle, free
// every block from the new size on.
function* ext4Truncate(k: KernelState, inode: Inode): Generator<void, void, void> {
  const sb = sbOf(k);
  sb.handle.acquire(k.sim);
  const freed = yield* ext4RemoveSpace(k, inode, inode.size, Number.MAX_SAFE_INTEGER);
  sb.handle.release(k.sim);
  if (freed.length && k.sim.rec) k.sim.log(`ext4_truncate: free blk ${blkList(freed)}`);
}

// do_truncate() -> notify_change() -> fs/ext4/inode.c ext4_setattr(ATTR_SIZE),
// v4.5–v4.7 (ea3d7209ca01 hunk, store id 70673009967): under inode_lock; i_size
// and i_disksize are set under i_data_sem in a handle FIRST; then i_mmap_sem for
// write across truncate_pagecache() and ext4_truncate().
export function* ext4SetattrSize(k: KernelState, inode: Inode, newSize: number): Generator<void, void, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  yield* inode.iRwsem.downWrite(sim); // inode_lock() in do_truncate()
  const shrink = newSize < inode.size;
  if (newSize !== inode.size) {
    sb.handle.acquire(sim);
    yield* inode.iDataSem.downWrite(sim);
    inode.setSize(newSize); // i_size_write() under i_data_sem
    ext4UpdateInodeFsyncTrans(k, inode); // i_disksize in the handle's transaction (journal.ts)
    inode.iDataSem.upWrite(sim);
    sb.handle.release(sim);
    if (sim.rec) sim.log(`i_size_write(${inode.name}, ${newSize})`);
  }
  if (k.flags.ext4_i_mmap_sem) yield* inode.iMmapSem.downWrite(sim);
  // v4.19 (430657b6be89): "rc = ext4_break_layouts(inode);" before the page cache goes
  if (k.flags.ext4_break_layouts) yield* sim.fn('ext4_break_layouts', ext4BreakLayouts(k, inode));
  yield* k.sim.fn('truncate_pagecache', truncatePagecache(k, inode.mapping, inode.size));
  if (shrink) yield* ext4Truncate(k, inode);
  if (k.flags.ext4_i_mmap_sem) inode.iMmapSem.upWrite(sim);
  inode.iRwsem.upWrite(sim);
}

const CREATE_UNWRIT_EXT = { create: true, unwritExt: true, convert: false, zero: false };

// fs/ext4/extents.c ext4_fallocate() mode 0 / FALLOC_FL_KEEP_SIZE -> ext4_alloc_file_blocks(),
// v4.5–v4.19 (from memory, not verified against a stored copy; notes/kernel-rw-writeback-v4.9plus.md
// §6): under inode_lock (no i_mmap_sem: nothing is unmapped or freed), inode_dio_wait(), then
// per chunk (here per page) a jbd2 handle around ext4_map_blocks(EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT)
// (a hole gets an UNWRITTEN extent, not zeroed; an existing extent is left as it is) and, unless
// KEEP_SIZE, ext4_update_inode_size() to the end of what is allocated so far. A fault or read of
// an unwritten extent sees zeros; a write fault or write(2) converts and zeroes it.
export function* ext4Fallocate(k: KernelState, inode: Inode, first: number, count: number, keepSize: boolean): Generator<void, string, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  yield* inode.iRwsem.downWrite(sim); // inode_lock()
  let ret = 'ok';
  for (let page = first; page < first + count; page++) {
    sb.handle.acquire(sim); // ext4_journal_start(inode, EXT4_HT_MAP_BLOCKS, credits)
    const r = yield* ext4MapBlocks(k, inode, page, CREATE_UNWRIT_EXT);
    if (typeof r === 'number') {
      sb.handle.release(sim);
      ret = r === -28 ? 'ENOSPC' : String(r);
      break;
    }
    if (sim.rec) sim.log(`ext4_alloc_file_blocks(${inode.name}:${page}) -> ${r.extent === null ? 'hole' : `${r.extent.unwritten ? 'unwritten ' : ''}blk ${r.extent.block}${r.isNew ? ' (new)' : ''}`}`);
    if (!keepSize) {
      yield;
      if (page + 1 > inode.size) {
        inode.setSize(page + 1); // ext4_update_inode_size(inode, epos)
        if (sim.rec) sim.log(`i_size_write(${inode.name}, ${page + 1})`);
      }
    }
    sb.handle.release(sim); // ext4_journal_stop()
  }
  inode.iRwsem.upWrite(sim);
  return ret;
}

// fs/ext4/inode.c ext4_punch_hole(), v4.5–v4.7 (ea3d7209ca01 hunks, store id
// 70673009967): inode_lock; a range at or past EOF is a no-op and the length is
// clipped to i_size; i_mmap_sem for write across the page-cache drop and the
// block free (ext4_ext_remove_space() under i_data_sem in a handle).
export function* ext4PunchHole(k: KernelState, inode: Inode, first: number, count: number): Generator<void, void, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  yield* inode.iRwsem.downWrite(sim);
  yield; // i_size_read()
  if (first >= inode.size) {
    inode.iRwsem.upWrite(sim);
    return;
  }
  const last = Math.min(first + count, inode.size) - 1;
  if (k.flags.ext4_i_mmap_sem) yield* inode.iMmapSem.downWrite(sim);
  // v4.19 (430657b6be89): "ret = ext4_break_layouts(inode);" after down_write(i_mmap_sem)
  if (k.flags.ext4_break_layouts) yield* sim.fn('ext4_break_layouts', ext4BreakLayouts(k, inode));
  yield* k.sim.fn('truncate_pagecache_range', truncatePagecacheRange(k, inode.mapping, first, last));
  sb.handle.acquire(sim);
  const freed = yield* ext4RemoveSpace(k, inode, first, last);
  if (freed.length && sim.rec) sim.log(`ext4_punch_hole: free blk ${blkList(freed)}`);
  sb.handle.release(sim);
  if (k.flags.ext4_i_mmap_sem) inode.iMmapSem.upWrite(sim);
  inode.iRwsem.upWrite(sim);
}
