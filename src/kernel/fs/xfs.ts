// XFS's locks and block mapping around the DAX calls (and, for v4.6–v4.7, read(2)/write(2)/fsync) (fs/xfs/xfs_file.c,
// xfs_iops.c, xfs_aops.c, xfs_iomap.c, xfs_bmap_util.c), v4.6–v4.12: faults under
// XFS_MMAPLOCK_SHARED, truncate and hole punch under XFS_IOLOCK_EXCL +
// XFS_MMAPLOCK_EXCL, DAX allocations as zeroed written extents inside the
// allocating transaction (1ca191576fc8 XFS_BMAPI_CONVERT | XFS_BMAPI_ZERO).
// Sources (quoted in notes/kernel-rw-writeback.md §C.4–C.8 and
// notes/kernel-xfs-media-errors.md §X): xfs_file.c v4.7-rc1 (store id 11062151),
// xfs_aops.c v4.7–v4.14 __xfs_get_blocks() (31763501), xfs_iops.c v4.10–v4.17
// xfs_vn_setattr()/xfs_setattr_size() (29719335), the DAX branch of
// xfs_iomap_write_direct() (43007631155). The xfs_file.c of v4.9–v4.12 was not
// seen: its fault handlers are taken to have the v4.7 shape with dax_iomap_fault()
// in place of __dax_fault() (as the notes derive).
//
// Not modelled: pNFS layouts (xfs_break_layouts() never has a lease to break, so it
// never drops the iolock), dquots, the reserve pool, extent size hints, delalloc
// (never used for DAX), di_size vs i_size (every transaction counts as committed),
// the partial-block zeroing of truncate (page-granular sizes leave nothing to zero),
// the filemap_write_and_wait_range() of truncate (only for extending truncates past
// di_size), xfs_break_dax_layouts() (v4.18).
import { LockdepMap, RwSem } from '../../sim/sync.js';
import { allocAlignedRun, allocBlock, blkList, freeBlock } from '../blockmap.js';
import { VM_FAULT_FALLBACK, daxFinishSyncFaultPmd, daxIomapPmdFault } from '../huge.js';
import {
  FAULT_FLAG_WRITE, VM_FAULT_NEEDDSYNC, VM_FAULT_SIGBUS, daxFaultV46, daxFaultV47, daxPfnMkwriteV46, daxPfnMkwriteV47,
  type Bh, type FsOps, type Vmf,
} from '../fault.js';
import { daxFinishSyncFault, daxIomapFault, daxPfnMkwriteV49Plus, IOMAP_WRITE, type Iomap, type IomapOps } from '../dax-iomap.js';
import { daxIomapRw, type IomapIo } from '../rw-iomap.js';
import { daxLayoutBusyPage, waitVarRefcountIdle } from '../layout.js';
import { schedule } from '../../sim/waitqueue.js';
import { xfsInodePinnedDirty, xfsTransLogInode } from '../journal.js';
import type { UserCopy } from '../rw.js';
import { zeroNewBlock } from '../media.js';
import type { Vma } from '../pagetable.js';
import type { Extent, Inode, KernelState } from '../state.js';
import { truncatePagecache, truncatePagecacheRange } from '../truncate.js';
import { filemapWriteAndWaitRange } from '../writeback.js';
import { daxDoIo, errWord, invalidateInodePages2Range, type Io, type RwResult } from '../rw.js';
import type { OpEvent } from '../kernel.js';
import type { PageValue } from '../../scenario/types.js';

/** struct xfs_inode's locks, and the superblock's freeze/transaction state as lockdep sees it. */
export interface XfsInfo {
  /** XFS_IOLOCK: ip->i_iolock until v4.10, the VFS inode->i_rwsem from v4.10 (65523218fa5a) */
  iolock: RwSem;
  /** XFS_MMAPLOCK: ip->i_mmaplock (653c60b633a9, v4.1) */
  mmaplock: RwSem;
  /** XFS_ILOCK: ip->i_lock, the extent map lock */
  ilock: RwSem;
}

interface XfsSb {
  /** sb_start_pagefault() */
  pagefault: LockdepMap;
  /** xfs_trans_alloc(): sb_start_intwrite() and a log reservation */
  trans: LockdepMap;
}

const infos = new WeakMap<Inode, XfsInfo>();
const sbs = new WeakMap<KernelState, XfsSb>();

/** Creates XFS's per-inode locks when the machine is built (shared objects need stable ids). */
export function xfsInit(k: KernelState): void {
  for (const inode of k.inodes.values()) {
    infos.set(inode, {
      iolock: k.flags.xfs_iolock_is_i_rwsem ? inode.iRwsem : new RwSem(k.sim, `xfs_iolock ${inode.name}`, 'xfs_iolock'),
      mmaplock: new RwSem(k.sim, `xfs_mmaplock ${inode.name}`, 'xfs_mmaplock'),
      ilock: new RwSem(k.sim, `xfs_ilock ${inode.name}`, 'xfs_ilock'),
    });
  }
  sbs.set(k, {
    pagefault: new LockdepMap(k.sim, 'sb_pagefaults', 'sb_writers (SB_FREEZE_PAGEFAULT)'),
    trans: new LockdepMap(k.sim, 'xfs_trans', 'sb_internal (xfs_trans_alloc)'),
  });
}

export function xfsInfo(inode: Inode): XfsInfo {
  const i = infos.get(inode);
  if (i === undefined) throw new Error(`model: xfs inode ${inode.name} not initialised`);
  return i;
}

function sbOf(k: KernelState): XfsSb {
  return sbs.get(k)!;
}

function* mmaplockShared(k: KernelState, inode: Inode): Generator<void, void, void> {
  if (k.flags.xfs_mmaplock) yield* xfsInfo(inode).mmaplock.downRead(k.sim);
}
function mmaplockSharedUnlock(k: KernelState, inode: Inode): void {
  if (k.flags.xfs_mmaplock) xfsInfo(inode).mmaplock.upRead(k.sim);
}

// ---------------------------------------------------------------------------
// Block mapping

/** What xfs_bmapi_read() finds for one page: null = hole. */
function* xfsBmapiRead(k: KernelState, inode: Inode, page: number): Generator<void, Extent | null, void> {
  yield;
  return inode.extents.get(page) ?? null;
}

// fs/xfs/xfs_iomap.c xfs_iomap_write_direct(), v4.5–v4.12, for a DAX inode (the DAX
// branch quoted in store id 43007631155; the locking from the v4.7 caller's comment,
// store id 31763501, "xfs_iomap_write_direct() expects the shared lock. It is unlocked
// on return"; the body from memory): drop the caller's ILOCK_SHARED, xfs_trans_alloc(),
// ILOCK_EXCL, xfs_bmapi_write(XFS_BMAPI_CONVERT | XFS_BMAPI_ZERO): a hole gets a new
// block, an unwritten extent is converted; either is zeroed by xfs_zero_extent() before
// the transaction commits (v4.6 dax_clear_sectors(), v4.7 blkdev_issue_zeroout(),
// 3dc29161070a). A written extent found under ILOCK_EXCL (a racing allocation) is
// returned as it is.
function* xfsIomapWriteDirect(k: KernelState, inode: Inode, page: number): Generator<void, Extent | number, void> {
  const sim = k.sim;
  const info = xfsInfo(inode);
  const sb = sbOf(k);
  info.ilock.upRead(sim);
  yield;
  sb.trans.acquire(sim); // xfs_trans_alloc(mp, &M_RES(mp)->tr_write, ...)
  yield* info.ilock.downWrite(sim);
  let res: Extent | number;
  const found = inode.extents.get(page) ?? null;
  if (found !== null && !found.unwritten) {
    res = found;
  } else if (found !== null) {
    // xfs_bmapi_convert_unwritten() with XFS_BMAPI_ZERO: xfs_zero_extent(), then mark it written
    const b = k.pmem.block(found.block);
    zeroNewBlock(k, b);
    res = { block: found.block, unwritten: false };
    inode.extents.set(page, res);
    xfsTransLogInode(k, inode); // the extent change is logged in the transaction (journal.ts)
    if (sim.rec) sim.log(`xfs_bmapi_write(${inode.name}:${page}, CONVERT|ZERO): unwritten blk ${found.block} zeroed and converted`);
  } else {
    const b = allocBlock(k, inode, page);
    if (b === null) {
      res = -28; // -ENOSPC
    } else {
      zeroNewBlock(k, b); // xfs_bmapi_allocate() -> xfs_zero_extent() (XFS_BMAPI_ZERO)
      res = { block: b.nr, unwritten: false };
      inode.extents.set(page, res);
      xfsTransLogInode(k, inode);
      if (sim.rec) sim.log(`xfs_bmapi_write(${inode.name}:${page}, CONVERT|ZERO): blk ${b.nr} allocated and zeroed`);
    }
  }
  sb.trans.release(sim); // xfs_trans_commit()
  info.ilock.upWrite(sim);
  return res;
}

// xfs_iomap_write_direct() for a PMD write fault's PMD_SIZE request on a hole, v4.9–v4.12
// (caller holds ILOCK_SHARED; the hole-clamp "if (nmaps && (imap->br_startblock ==
// HOLESTARTBLOCK)) last_fsb = min(last_fsb, imap->br_blockcount + imap->br_startoff)" from
// memory): the hole run from `first`, at most `max` blocks, allocated written and zeroed
// (XFS_BMAPI_CONVERT | XFS_BMAPI_ZERO) in one transaction under ILOCK_EXCL. As for ext4's
// huge files (blockmap.ts ext4MapBlocksRange()), the filesystem is taken to be made for DAX
// huge pages (a 2 MiB extent size hint or stripe unit, as xfstests' and ndctl's PMD tests
// set up), so a request for a whole 2 MiB hole gets a 2 MiB-aligned extent; a shorter hole
// run is allocated block by block and the PMD fault falls back. Unwritten extents are not
// modelled in huge files (kernel.ts refuses them). Returns the extent at `first` and its run.
function* xfsIomapWriteDirectRange(k: KernelState, inode: Inode, first: number, max: number): Generator<void, Iomap | number, void> {
  const sim = k.sim;
  const info = xfsInfo(inode);
  const sb = sbOf(k);
  info.ilock.upRead(sim);
  yield;
  sb.trans.acquire(sim); // xfs_trans_alloc(mp, &M_RES(mp)->tr_write, ...)
  yield* info.ilock.downWrite(sim);
  const runOf = (head: Extent | null): number => {
    let n = 1;
    while (n < max) {
      const e = inode.extents.get(first + n) ?? null;
      if (head === null ? e !== null : e === null || e.block !== head.block + n || e.unwritten !== head.unwritten) break;
      n++;
    }
    return n;
  };
  let res: Iomap | number;
  const again = inode.extents.get(first) ?? null;
  if (again !== null) {
    // a racing allocation under ILOCK_EXCL: returned as it is
    res = { type: again.unwritten ? 'unwritten' : 'mapped', block: again.block, isNew: false, length: runOf(again) };
  } else {
    const hole = runOf(null);
    const start = hole === max ? allocAlignedRun(k, inode, first, max) : null;
    if (start !== null) {
      for (let i = 0; i < max; i++) {
        inode.extents.set(first + i, { block: start + i, unwritten: false });
        zeroNewBlock(k, k.pmem.block(start + i)); // xfs_zero_extent()
      }
      if (sim.rec) sim.log(`xfs_bmapi_write(${inode.name}:${first}+${max}, CONVERT|ZERO): blk ${start}-${start + max - 1} allocated and zeroed`);
      res = { type: 'mapped', block: start, isNew: true, length: max };
    } else {
      let head: Extent | null = null;
      for (let n = 0; n < hole; n++) {
        const b = allocBlock(k, inode, first + n);
        if (b === null) break;
        const ext: Extent = { block: b.nr, unwritten: false };
        inode.extents.set(first + n, ext);
        zeroNewBlock(k, b);
        if (head === null) head = ext;
        else if (ext.block !== head.block + n) break;
      }
      if (head !== null && sim.rec) sim.log(`xfs_bmapi_write(${inode.name}:${first}, CONVERT|ZERO): a ${hole}-block hole allocated from blk ${head.block}`);
      res = head === null ? -28 : { type: 'mapped', block: head.block, isNew: true, length: runOf(head) };
    }
    if (typeof res !== 'number') xfsTransLogInode(k, inode);
  }
  sb.trans.release(sim); // xfs_trans_commit()
  info.ilock.upWrite(sim);
  return res;
}

// fs/xfs/xfs_aops.c __xfs_get_blocks(direct = true, dax_fault = true) as
// xfs_get_blocks_dax_fault(), v4.5–v4.7 (store id 31763501): "if (!create && direct &&
// offset >= i_size_read(inode)) return 0;" then xfs_bmapi_read() under
// xfs_ilock_data_map_shared(); with create and a hole or (IS_DAX) an unwritten extent,
// xfs_iomap_write_direct(); "if (IS_DAX(inode) && create) { ASSERT(!ISUNWRITTEN(&imap));
// /* zeroing is not needed at a higher layer */ new = 0; }"; an unwritten extent is not
// mapped for a lookup ("(create || !ISUNWRITTEN(&imap))"), so a read sees a hole.
// BH_New stays clear for a block inside i_size.
function* xfsGetBlocksDaxFault(k: KernelState, inode: Inode, page: number, create: boolean): Generator<void, Bh | number, void> {
  const info = xfsInfo(inode);
  const hole: Bh = { mapped: false, unwritten: false, isNew: false, block: null };
  yield;
  if (!create && page >= inode.size) return hole;
  yield* info.ilock.downRead(k.sim); // xfs_ilock_data_map_shared()
  const found = yield* xfsBmapiRead(k, inode, page);
  if (create && (found === null || found.unwritten)) {
    const r = yield* xfsIomapWriteDirect(k, inode, page);
    if (typeof r === 'number') return r;
    return { mapped: true, unwritten: false, isNew: false, block: r.block };
  }
  info.ilock.upRead(k.sim);
  if (found === null || found.unwritten) return hole;
  return { mapped: true, unwritten: false, isNew: false, block: found.block };
}

// fs/xfs/xfs_iomap.c xfs_file_iomap_begin(), v4.8–v4.12, for a DAX inode (from memory,
// not verified; the allocation rule is imap_needs_alloc(): "!nimaps || hole || delalloc
// || (IS_DAX(inode) && ISUNWRITTEN(imap))"): xfs_bmapi_read() under
// xfs_ilock_data_map_shared(); an IOMAP_WRITE that needs allocation calls
// xfs_iomap_write_direct() and reports IOMAP_F_NEW; otherwise the lock is dropped and
// xfs_bmbt_to_iomap() reports a hole, an unwritten extent or a mapped block.
// A PMD fault's 2 MiB lookup (`pages` > 1, reads only: huge.ts) reports the run of
// contiguous blocks, or of hole, from `page` (xfs_bmapi_read() maps up to the length asked).
function* xfsFileIomapBegin(k: KernelState, inode: Inode, page: number, flags: number, pages = 1): Generator<void, Iomap | number, void> {
  const info = xfsInfo(inode);
  yield* info.ilock.downRead(k.sim);
  const found = yield* xfsBmapiRead(k, inode, page);
  if (pages > 1) {
    // IOMAP_F_DIRTY is set for a 2 MiB request as for a 4k one (xfsIomapDirty(), v4.15+)
    if (flags & IOMAP_WRITE && found === null) {
      const r = yield* xfsIomapWriteDirectRange(k, inode, page, pages);
      return typeof r === 'number' ? r : { ...r, dirty: xfsIomapDirty(k, inode, flags) };
    }
    let len = 1;
    while (len < pages) {
      const e = inode.extents.get(page + len) ?? null;
      if (found === null ? e !== null : e === null || e.block !== found.block + len || e.unwritten !== found.unwritten) break;
      len++;
    }
    info.ilock.upRead(k.sim);
    const dirty = xfsIomapDirty(k, inode, flags);
    if (found === null) return { type: 'hole', block: null, isNew: false, length: len, dirty };
    return { type: found.unwritten ? 'unwritten' : 'mapped', block: found.block, isNew: false, length: len, dirty };
  }
  if (flags & IOMAP_WRITE && (found === null || found.unwritten)) {
    const r = yield* xfsIomapWriteDirect(k, inode, page);
    if (typeof r === 'number') return r;
    return { type: 'mapped', block: r.block, isNew: true, dirty: xfsIomapDirty(k, inode, flags) };
  }
  info.ilock.upRead(k.sim);
  const dirty = xfsIomapDirty(k, inode, flags);
  if (found === null) return { type: 'hole', block: null, isNew: false, dirty };
  return { type: found.unwritten ? 'unwritten' : 'mapped', block: found.block, isNew: false, dirty };
}

// The IOMAP_F_DIRTY test of xfs_file_iomap_begin(), v4.15–v4.19 (MAP_SYNC series, [PATCH 18/18]
// "xfs: support for synchronous DAX faults", store id 16436262826), made after the allocation:
// "if ((flags & IOMAP_WRITE) && xfs_ipincount(ip) && (ip->i_itemp->ili_fsync_fields &
// ~XFS_ILOG_TIMESTAMP)) iomap->flags |= IOMAP_F_DIRTY;" — an allocation this call made pins
// the inode, so a write fault that allocates always reports it.
function xfsIomapDirty(k: KernelState, inode: Inode, flags: number): boolean {
  return k.flags.xfs_map_sync && (flags & IOMAP_WRITE) !== 0 && xfsInodePinnedDirty(k, inode);
}

// fs/xfs/xfs_iomap.c xfs_file_iomap_end(), v4.8–v4.12 (from memory): only a delalloc
// write has anything to undo; DAX never uses delalloc.
function* xfsFileIomapEnd(): Generator<void, number, void> {
  return 0;
}

/** xfs_iomap_ops, v4.8–v4.12 */
export const xfsIomapOps: IomapOps = { iomapBegin: xfsFileIomapBegin, iomapEnd: xfsFileIomapEnd };

// ---------------------------------------------------------------------------
// Fault handlers

/** The DAX fault handler of the version, with XFS's block mapping. */
function* daxFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  if (!k.flags.dax_entry_lock) return yield* daxFaultV46(k, xfsOps, vma, vmf); // v4.6 __dax_fault()
  if (!k.flags.dax_radix_pmd_entries) return yield* daxFaultV47(k, xfsOps, vma, vmf); // v4.7 dax_fault()
  return yield* daxIomapFault(k, xfsIomapOps, vma, vmf); // v4.8+: dax_iomap_fault(xfs_iomap_ops)
}

// fs/xfs/xfs_file.c xfs_filemap_page_mkwrite(), v4.1–v4.14 (store id 11062151, v4.7-rc1;
// the DAX call is __dax_mkwrite() = __dax_fault() in v4.6, dax_fault() in v4.7,
// dax_iomap_fault() from v4.8): sb_start_pagefault(), file_update_time(),
// XFS_MMAPLOCK_SHARED around the DAX fault. DAX write faults come here from
// xfs_filemap_fault() ("DAX can shortcut the normal fault path on write faults!").
// From v4.14 (store id 24203291321) this is __xfs_filemap_fault(vmf, PE_SIZE_PTE, true); v4.15
// (xfs_map_sync, store id 16436262826): "if (ret & VM_FAULT_NEEDDSYNC) ret =
// dax_finish_sync_fault(vmf, pe_size, pfn);" inside XFS_MMAPLOCK_SHARED.
function* xfsFilemapPageMkwrite(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const inode = k.inode(vma.mapping.file);
  const sb = sbOf(k);
  yield;
  sb.pagefault.acquire(k.sim); // sb_start_pagefault(); file_update_time()
  yield* mmaplockShared(k, inode);
  let ret = yield* daxFault(k, vma, vmf);
  if (ret & VM_FAULT_NEEDDSYNC) ret = yield* k.sim.fn('dax_finish_sync_fault', daxFinishSyncFault(k, vma, vmf, vmf.syncPfn!));
  mmaplockSharedUnlock(k, inode);
  sb.pagefault.release(k.sim);
  return ret;
}

// fs/xfs/xfs_file.c xfs_filemap_fault(), v4.1–v4.14 (store id 11062151): a write fault
// on a DAX inode is a page_mkwrite; a read fault takes XFS_MMAPLOCK_SHARED around the
// DAX fault ("we do not want to trigger unwritten extent conversion on read faults").
function* xfsFilemapFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  if (vmf.flags & FAULT_FLAG_WRITE) return yield* xfsFilemapPageMkwrite(k, vma, vmf);
  const inode = k.inode(vma.mapping.file);
  yield* mmaplockShared(k, inode);
  const ret = yield* daxFault(k, vma, vmf);
  mmaplockSharedUnlock(k, inode);
  return ret;
}

// fs/xfs/xfs_file.c xfs_filemap_pfn_mkwrite(), v4.1–v4.14 (store id 11062151): "we cycle
// the XFS_MMAPLOCK_SHARED to ensure we serialise the fault barrier in place":
// sb_start_pagefault(), file_update_time(), MMAPLOCK_SHARED, SIGBUS past i_size, else
// dax_pfn_mkwrite().
// v4.14 (91d25ba8a6b0, store id 24203291321): the same, with "ret = dax_iomap_fault(vmf,
// PE_SIZE_PTE, &xfs_iomap_ops);" in place of dax_pfn_mkwrite(): a full DAX write fault.
// v4.15 (xfs_pfn_mkwrite_full_fault): "return __xfs_filemap_fault(vmf, PE_SIZE_PTE, true);"
// (the 4.15+ text, store id 41539715), which also finishes synchronous faults.
function* xfsFilemapPfnMkwrite(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const inode = k.inode(vma.mapping.file);
  const sb = sbOf(k);
  if (k.flags.xfs_pfn_mkwrite_full_fault) return yield* xfsFilemapPageMkwrite(k, vma, vmf);
  yield;
  sb.pagefault.acquire(sim);
  yield* mmaplockShared(k, inode);
  yield; // size = (i_size_read(inode) + PAGE_SIZE - 1) >> PAGE_SHIFT
  let ret: number;
  if (vmf.pgoff >= inode.size) {
    if (sim.rec) sim.log(`xfs_filemap_pfn_mkwrite: i_size ${inode.peekSize()} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    ret = VM_FAULT_SIGBUS;
  } else if (k.flags.dax_zero_page_holes) {
    ret = yield* daxFault(k, vma, vmf); // 91d25ba8a6b0 (v4.14): dax_pfn_mkwrite() is gone
  } else if (!k.flags.dax_entry_lock) {
    ret = yield* daxPfnMkwriteV46(k, vma, vmf);
  } else if (k.flags.dax_radix_pmd_entries) {
    ret = yield* daxPfnMkwriteV49Plus(k, vma, vmf);
  } else {
    ret = yield* daxPfnMkwriteV47(k, vma, vmf);
  }
  mmaplockSharedUnlock(k, inode);
  sb.pagefault.release(sim);
  return ret;
}

// fs/xfs/xfs_file.c xfs_filemap_pmd_fault(), v4.9–v4.10, and xfs_filemap_huge_fault(),
// v4.11–v4.12 (from memory, not verified; "xfs: use struct iomap based DAX PMD fault path"
// is in the series of 642261ac995e, v4.9): sb_start_pagefault() and file_update_time() for a
// write, XFS_MMAPLOCK_SHARED around dax_iomap_pmd_fault(xfs_iomap_ops). v4.7–v4.8: the
// get_block dax_pmd_fault(), which falls back (CONFIG_FS_DAX_PMD depends on BROKEN). v4.6's
// __dax_pmd_fault() with XFS's get_block is not modelled (kernel.ts refuses it).
function* xfsFilemapPmdFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const inode = k.inode(vma.mapping.file);
  const sb = sbOf(k);
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  yield;
  if (write) sb.pagefault.acquire(k.sim);
  yield* mmaplockShared(k, inode);
  let ret: number;
  if (k.flags.dax_radix_pmd_entries) {
    ret = yield* daxIomapPmdFault(k, xfsIomapOps, vma, vmf);
    // v4.15 (xfs_map_sync): __xfs_filemap_fault(vmf, PE_SIZE_PMD, ...) finishes a synchronous PMD
    // fault the same way, "ret = dax_finish_sync_fault(vmf, pe_size, pfn);" (store id 16436262826)
    if (ret & VM_FAULT_NEEDDSYNC) ret = yield* k.sim.fn('dax_finish_sync_fault', daxFinishSyncFaultPmd(k, vma, vmf, vmf.syncPfn!));
  } else {
    yield;
    if (k.sim.rec) k.sim.log('dax_pmd_fault -> VM_FAULT_FALLBACK (CONFIG_FS_DAX_PMD depends on BROKEN)');
    ret = VM_FAULT_FALLBACK;
  }
  mmaplockSharedUnlock(k, inode);
  if (write) sb.pagefault.release(k.sim);
  return ret;
}

export const xfsOps: FsOps = {
  fault: xfsFilemapFault,
  pmdFault: xfsFilemapPmdFault,
  pageMkwrite: xfsFilemapPageMkwrite,
  pfnMkwrite: xfsFilemapPfnMkwrite,
  // the get_block of the v4.6/v4.7 DAX fault (xfs_get_blocks_dax_fault); XFS faults through dax_iomap_fault() from v4.8
  getBlock: (k, vma, page, create) => xfsGetBlocksDaxFault(k, k.inode(vma.mapping.file), page, create),
};

// ---------------------------------------------------------------------------
// Truncate and hole punch

// fs/xfs/xfs_bmap_util.c xfs_itruncate_extents() / xfs_bunmapi() as truncate and punch
// use them (from memory): in a transaction under ILOCK_EXCL, unmap the extents of
// [first, last] and free their blocks.
function* xfsFreeExtents(k: KernelState, inode: Inode, first: number, last: number): Generator<void, number[], void> {
  const sim = k.sim;
  const info = xfsInfo(inode);
  const sb = sbOf(k);
  yield;
  sb.trans.acquire(sim); // xfs_trans_alloc(tr_itruncate / tr_write)
  yield* info.ilock.downWrite(sim);
  const freed: number[] = [];
  for (const page of inode.extents.keys()) {
    if (page < first || page > last) continue;
    const ext = inode.extents.get(page)!;
    inode.extents.delete(page);
    freeBlock(k, k.pmem.block(ext.block));
    freed.push(ext.block);
  }
  if (freed.length) xfsTransLogInode(k, inode);
  sb.trans.release(sim); // xfs_trans_commit()
  info.ilock.upWrite(sim);
  return freed;
}

// fs/xfs/xfs_file.c xfs_break_layouts(inode, &iolock, BREAK_UNMAP), v4.18–v4.19 (4.18+ text,
// store id 41539715), with xfs_break_dax_layouts() and xfs_wait_dax_page(): called with
// XFS_IOLOCK_EXCL and XFS_MMAPLOCK_EXCL held; "do { retry = false; ... error =
// xfs_break_dax_layouts(inode, &retry); if (error || retry) break; /* fall through */ ...
// xfs_break_leased_layouts() } while (error == 0 && retry);". xfs_break_dax_layouts():
// dax_layout_busy_page(); a busy page sets retry and waits with ___wait_var_event(
// &page->_refcount, atomic_read(&page->_refcount) == 1, TASK_INTERRUPTIBLE, 0, 0,
// xfs_wait_dax_page(inode)), which drops XFS_MMAPLOCK_EXCL around schedule(). No pNFS
// layout is ever held, so the leased-layout half has nothing to recall.
function* xfsBreakLayoutsUnmap(k: KernelState, inode: Inode): Generator<void, number, void> {
  const sim = k.sim;
  const info = xfsInfo(inode);
  for (;;) {
    const page = yield* sim.fn('dax_layout_busy_page', daxLayoutBusyPage(k, inode.mapping));
    if (page === null) return 0;
    const error = yield* waitVarRefcountIdle(k, page, function* (what, idle) {
      // fs/xfs/xfs_file.c xfs_wait_dax_page(), v4.18–v4.19
      info.mmaplock.upWrite(sim);
      yield* schedule(sim, what, idle);
      yield* info.mmaplock.downWrite(sim);
    });
    if (error !== 0) return error;
  }
}

// do_truncate() -> notify_change() -> fs/xfs/xfs_iops.c xfs_vn_setattr(ATTR_SIZE) ->
// xfs_setattr_size(), v4.6–v4.17 (store id 29719335 for v4.10–v4.17; v4.6–v4.9 take
// the separate iolock in xfs_vn_setattr() themselves, from memory): inode_lock() in
// do_truncate(); XFS_IOLOCK_EXCL (= inode_lock from v4.10); xfs_break_layouts();
// XFS_MMAPLOCK_EXCL; inode_dio_wait(); truncate_setsize() (i_size_write(), then
// truncate_pagecache()); a transaction under XFS_ILOCK_EXCL that logs the new size and,
// shrinking, frees the blocks past it (xfs_itruncate_extents()).
export function* xfsSetattrSize(k: KernelState, inode: Inode, newSize: number): Generator<void, void, void> {
  const sim = k.sim;
  const info = xfsInfo(inode);
  yield* inode.iRwsem.downWrite(sim); // inode_lock() in do_truncate()
  if (!k.flags.xfs_iolock_is_i_rwsem) yield* info.iolock.downWrite(sim); // xfs_ilock(ip, XFS_IOLOCK_EXCL)
  // xfs_break_layouts() before v4.18: no pNFS layout is ever held here
  if (k.flags.xfs_mmaplock) yield* info.mmaplock.downWrite(sim);
  // v4.18 (store id 1048693566): "xfs_ilock(ip, XFS_MMAPLOCK_EXCL); iolock = XFS_IOLOCK_EXCL |
  // XFS_MMAPLOCK_EXCL; error = xfs_break_layouts(inode, &iolock, BREAK_UNMAP);"
  if (k.flags.xfs_break_dax_layouts) yield* sim.fn('xfs_break_layouts', xfsBreakLayoutsUnmap(k, inode));
  yield;
  const oldSize = inode.size;
  inode.setSize(newSize); // truncate_setsize(): i_size_write()
  if (sim.rec) sim.log(`i_size_write(${inode.name}, ${newSize})`);
  yield* sim.fn('truncate_pagecache', truncatePagecache(k, inode.mapping, newSize));
  if (newSize <= oldSize) {
    const freed = yield* xfsFreeExtents(k, inode, newSize, Number.MAX_SAFE_INTEGER);
    if (freed.length && sim.rec) sim.log(`xfs_itruncate_extents: free blk ${blkList(freed)}`);
  }
  xfsTransLogInode(k, inode); // "ip->i_d.di_size = newsize; xfs_trans_log_inode(tp, ip, XFS_ILOG_CORE);"
  if (k.flags.xfs_mmaplock) info.mmaplock.upWrite(sim);
  if (!k.flags.xfs_iolock_is_i_rwsem) info.iolock.upWrite(sim);
  inode.iRwsem.upWrite(sim);
}

// fs/xfs/xfs_file.c xfs_file_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE),
// v4.6–v4.17 (store id 11062151): xfs_ilock(XFS_IOLOCK_EXCL) (no inode_lock before
// v4.10, where the iolock became i_rwsem), xfs_break_layouts(), XFS_MMAPLOCK_EXCL, then
// fs/xfs/xfs_bmap_util.c xfs_free_file_space() (from memory): inode_dio_wait();
// filemap_write_and_wait_range() of the rounded range; truncate_pagecache_range();
// free the extents in transactions under XFS_ILOCK_EXCL.
export function* xfsFileFallocatePunch(k: KernelState, inode: Inode, first: number, count: number): Generator<void, void, void> {
  const sim = k.sim;
  const info = xfsInfo(inode);
  yield* info.iolock.downWrite(sim);
  // xfs_break_layouts() before v4.18: no pNFS layout is ever held here
  if (k.flags.xfs_mmaplock) yield* info.mmaplock.downWrite(sim);
  // v4.18 (store id 41539715): "uint iolock = XFS_IOLOCK_EXCL | XFS_MMAPLOCK_EXCL; xfs_ilock(ip,
  // iolock); error = xfs_break_layouts(inode, &iolock, BREAK_UNMAP);"
  if (k.flags.xfs_break_dax_layouts) yield* sim.fn('xfs_break_layouts', xfsBreakLayoutsUnmap(k, inode));
  const last = first + count - 1;
  // the DAX flush of the range (xfs_vm_writepages() -> dax_writeback_mapping_range())
  yield* sim.fn('filemap_write_and_wait_range', filemapWriteAndWaitRange(k, inode.mapping, { first, last }));
  yield* sim.fn('truncate_pagecache_range', truncatePagecacheRange(k, inode.mapping, first, last));
  const freed = yield* xfsFreeExtents(k, inode, first, last);
  if (freed.length && sim.rec) sim.log(`xfs_free_file_space: free blk ${blkList(freed)}`);
  if (k.flags.xfs_mmaplock) info.mmaplock.upWrite(sim);
  info.iolock.upWrite(sim);
}

// ---------------------------------------------------------------------------
// read(2) and write(2), v4.6–v4.7: a DAX file is always "direct" (io_is_direct(): IS_DAX),
// so both go through XFS's direct-I/O paths to dax_do_io() with xfs_get_blocks_direct
// and no DIO_LOCKING (flags 0). One op moves one page (rw.ts). XFS's own DAX read/write
// (xfs_file_dax_read()/xfs_file_dax_write() with dax_iomap_rw(), v4.8+) is not modelled.

// fs/xfs/xfs_aops.c __xfs_get_blocks(direct = true, dax_fault = false) as
// xfs_get_blocks_direct(), v4.5–v4.7 (store id 31763501): the same mapping as the DAX
// fault variant, and BH_New for a block at or past i_size ("(offset >= i_size_read(inode))");
// the ioend bookkeeping of xfs_map_direct() is the i_size update after the copy here.
function* xfsGetBlocksDirect(k: KernelState, inode: Inode, page: number, create: boolean): Generator<void, Bh | number, void> {
  const bh = yield* xfsGetBlocksDaxFault(k, inode, page, create);
  if (typeof bh === 'number' || !create) return bh;
  yield; // i_size_read()
  return { ...bh, isNew: page >= inode.size };
}

// fs/xfs/xfs_file.c xfs_rw_ilock() / xfs_rw_iunlock() / xfs_rw_ilock_demote(), v4.6–v4.7
// (store id 11062151): XFS_IOLOCK_EXCL also takes inode_lock() (i_mutex / i_rwsem);
// demoting drops it and downgrades the iolock.
function* xfsRwIlock(k: KernelState, inode: Inode, excl: boolean): Generator<void, void, void> {
  const info = xfsInfo(inode);
  if (excl) {
    yield* inode.iRwsem.downWrite(k.sim);
    yield* info.iolock.downWrite(k.sim);
  } else {
    yield* info.iolock.downRead(k.sim);
  }
}
function xfsRwIunlock(k: KernelState, inode: Inode, excl: boolean): void {
  const info = xfsInfo(inode);
  if (excl) {
    info.iolock.upWrite(k.sim);
    inode.iRwsem.upWrite(k.sim);
  } else {
    info.iolock.upRead(k.sim);
  }
}
function xfsRwIlockDemote(k: KernelState, inode: Inode): void {
  xfsInfo(inode).iolock.downgradeWrite(k.sim); // xfs_ilock_demote(ip, XFS_IOLOCK_EXCL)
  inode.iRwsem.upWrite(k.sim); // inode_unlock()
}

// fs/xfs/xfs_aops.c xfs_end_io_direct_write(), v4.6–v4.7 (the i_size part only).
/** The i_size update of xfs_end_io_direct_write() for a write that ended past EOF (under ip->i_flags_lock). */
function* xfsEndIoDirectWrite(k: KernelState, inode: Inode, page: number): Generator<void, void, void> {
  yield;
  if (page + 1 > inode.size) {
    inode.setSize(page + 1);
    xfsTransLogInode(k, inode); // xfs_setfilesize(): di_size in a transaction
    if (k.sim.rec) k.sim.log(`xfs_end_io_direct_write: i_size_write(${inode.name}, ${page + 1})`);
  }
}

// fs/xfs/xfs_file.c xfs_file_dio_aio_write(), v4.6–v4.7 (store id 11062151; DAX writes
// come here from xfs_file_write_iter(): "if ((iocb->ki_flags & IOCB_DIRECT) ||
// IS_DAX(inode))"): a block-aligned write takes XFS_IOLOCK_SHARED unless the mapping has
// pages (hole pages), then XFS_IOLOCK_EXCL (with inode_lock); with pages, the WHOLE file
// is written back (filemap_write_and_wait()) and invalidated (invalidate_inode_pages2():
// every DAX entry goes, dirty or not, and DAX PTEs stay) and the lock is demoted; then
// ->direct_IO = dax_do_io(xfs_get_blocks_direct, xfs_end_io_direct_write, 0); pages
// appearing meanwhile are invalidated over the written range. xfs_file_aio_write_checks()
// (EOF zeroing, timestamps, privileges) has nothing to do for page-granular writes.
// 8b2180b3bf03 "xfs: don't invalidate whole file on DAX read/write" (v4.8) removed the
// whole-file invalidation for DAX.
export function* xfsFileDioAioWrite(k: KernelState, inode: Inode, page: number, io: Io): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = inode.mapping;
  yield; // mapping->nrpages, read before the lock
  let excl = mapping.nrpages > 0;
  yield* xfsRwIlock(k, inode, excl);
  yield;
  if (mapping.nrpages > 0) {
    const err = yield* sim.fn('filemap_write_and_wait', filemapWriteAndWaitRange(k, mapping, { first: 0, last: Number.MAX_SAFE_INTEGER }));
    if (err) {
      xfsRwIunlock(k, inode, excl);
      return err;
    }
    const ret = yield* sim.fn('invalidate_inode_pages2', invalidateInodePages2Range(k, mapping, 0, Number.MAX_SAFE_INTEGER));
    // "Warn if it does fail."
    if (ret) sim.violate('kernel-warn', `WARN_ON_ONCE(ret) in xfs_file_dio_aio_write(): invalidate_inode_pages2(${inode.name}) -> ${ret}`, 'xfs_file_dio_aio_write');
  }
  if (excl) {
    xfsRwIlockDemote(k, inode);
    excl = false;
  }
  const ret = yield* daxDoIo(k, inode, page, xfsGetBlocksDirect, false, io);
  if (ret > 0) yield* xfsEndIoDirectWrite(k, inode, page);
  yield;
  if (mapping.nrpages > 0) yield* invalidateInodePages2Range(k, mapping, page, page);
  xfsRwIunlock(k, inode, excl);
  return ret;
}

// fs/xfs/xfs_file.c xfs_file_read_iter(), v4.6–v4.7, for IOCB_DIRECT (every DAX read;
// from memory, not verified — notes C.4 summarise it as "XFS_IOLOCK_SHARED, upgraded to
// EXCL around the same whole-file invalidation"): with pages, XFS_IOLOCK_EXCL (+ inode_lock),
// the whole file written back and invalidated, then demoted; else XFS_IOLOCK_SHARED; then
// generic_file_read_iter() -> ->direct_IO = dax_do_io(xfs_get_blocks_direct, flags 0).
export function* xfsFileReadIter(k: KernelState, inode: Inode, page: number, io: Io): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = inode.mapping;
  yield;
  let excl = false;
  if (mapping.nrpages > 0) {
    excl = true;
    yield* xfsRwIlock(k, inode, true);
    yield;
    if (mapping.nrpages > 0) {
      const err = yield* sim.fn('filemap_write_and_wait', filemapWriteAndWaitRange(k, mapping, { first: 0, last: Number.MAX_SAFE_INTEGER }));
      if (err) {
        xfsRwIunlock(k, inode, true);
        return err;
      }
      yield* sim.fn('invalidate_inode_pages2', invalidateInodePages2Range(k, mapping, 0, Number.MAX_SAFE_INTEGER));
    }
    xfsRwIlockDemote(k, inode);
    excl = false;
  } else {
    yield* xfsRwIlock(k, inode, false);
  }
  // generic_file_read_iter(): the range flush, then ->direct_IO
  let ret = yield* filemapWriteAndWaitRange(k, mapping, { first: page, last: page });
  if (!ret) ret = yield* daxDoIo(k, inode, page, xfsGetBlocksDirect, false, io);
  xfsRwIunlock(k, inode, excl);
  return ret;
}

// fs/xfs/xfs_file.c xfs_file_write_iter() for a DAX inode, v4.6–v4.7.
/** write(2) of one page on an XFS DAX file (xfs_file_write_iter(), v4.6–v4.7): `ok`, `short` or an errno word. */
// A `from:` user buffer is read by the copy inside dax_do_io() (rw.ts), faulting its page in
// under the XFS iolock (IOLOCK -> MMAPLOCK, the documented order).
export function* xfsFileWriteIter(k: KernelState, inode: Inode, page: number, value: PageValue, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const io: Io = { ev, value, read: 0, record: null, user };
  const ret = yield* xfsFileDioAioWrite(k, inode, page, io);
  if (io.record !== null) io.record.end = k.sim.step;
  if (ret < 0) return errWord(ret);
  return ret > 0 ? 'ok' : 'short';
}

// fs/xfs/xfs_file.c xfs_file_read_iter() for a DAX inode, v4.6–v4.7.
/** read(2) of one page on an XFS DAX file, v4.6–v4.7: the value, `EOF` or an errno word. */
export function* xfsFileRead(k: KernelState, inode: Inode, page: number, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const io: Io = { ev, value: null, read: 0, record: null, user };
  const ret = yield* xfsFileReadIter(k, inode, page, io);
  if (ret < 0) {
    ev.readStep = 0; // no data returned (e.g. the copy to the user buffer faulted)
    return errWord(ret);
  }
  return ret === 0 ? 'EOF' : io.read;
}

// ---------------------------------------------------------------------------
// read(2) and write(2) from v4.9 (xfs_dax_iomap_rw): xfs_file_read_iter() /
// xfs_file_write_iter() send a DAX inode to xfs_file_dax_read() / xfs_file_dax_write(),
// which call fs/dax.c dax_iomap_rw() (rw-iomap.ts) with xfs_iomap_ops. Sources: the v4.8
// xfs_file.c (store id 8226181826: still dax_do_io() there), the v4.9 rename patch of the
// iomap DAX calls (store ids 3941108621, 3874087435: "xfs_rw_ilock(ip, XFS_IOLOCK_SHARED);
// ret = dax_iomap_rw(iocb, to, &xfs_iomap_ops);" and xfs_file_dax_write()'s "ret =
// dax_iomap_rw(iocb, from, &xfs_iomap_ops); if (ret > 0 && iocb->ki_pos > i_size_read(inode))
// { i_size_write(inode, iocb->ki_pos); error = xfs_setfilesize(ip, pos, ret); }"), the v4.14
// xfs_file.c (store id 24203291321) and notes/kernel-rw-writeback.md §C.5 (17879e8f865f
// "xfs: fix locking for DAX writes", v4.9: XFS_IOLOCK_EXCL for DAX writes).

// fs/xfs/xfs_file.c xfs_rw_ilock() (v4.6–v4.9) / xfs_ilock(ip, XFS_IOLOCK_*) (v4.10+,
// 65523218fa5a: the iolock is i_rwsem, and xfs_rw_ilock() is gone).
function* xfsIolock(k: KernelState, inode: Inode, excl: boolean): Generator<void, void, void> {
  if (!k.flags.xfs_iolock_is_i_rwsem) return yield* xfsRwIlock(k, inode, excl);
  if (excl) yield* inode.iRwsem.downWrite(k.sim);
  else yield* inode.iRwsem.downRead(k.sim);
}
function xfsIounlock(k: KernelState, inode: Inode, excl: boolean): void {
  if (!k.flags.xfs_iolock_is_i_rwsem) return xfsRwIunlock(k, inode, excl);
  if (excl) inode.iRwsem.upWrite(k.sim);
  else inode.iRwsem.upRead(k.sim);
}

// fs/xfs/xfs_file.c xfs_file_aio_write_checks(), v4.9–v4.19 (v4.8 text store id 8226181826,
// v4.14 id 24203291321), as the DAX write calls it with XFS_IOLOCK_EXCL already held:
// generic_write_checks(); xfs_break_layouts() (BREAK_WRITE: pNFS leases only, never held
// here); under ip->i_flags_lock "if (iocb->ki_pos > i_size_read(inode))": inode_dio_wait()
// (no direct I/O here) and xfs_zero_eof() -> iomap_zero_range() over [i_size, pos), which
// skips holes and unwritten extents. Past EOF the model has only holes, or a block a failed
// copy left there, zeroed when it was allocated, so there is nothing to zero and the range
// is only looked at. file_update_time(), file_remove_privs(): no effect here.
function* xfsFileAioWriteChecks(k: KernelState, inode: Inode, page: number): Generator<void, number, void> {
  yield; // spin_lock(&ip->i_flags_lock); i_size_read()
  const size = inode.size;
  if (page > size && k.sim.rec) k.sim.log(`xfs_zero_eof(${inode.name}, ${size}..${page - 1}): nothing but holes to zero`);
  return 0;
}

// fs/xfs/xfs_aops.c xfs_setfilesize(ip, offset, size), v4.6–v4.19 (from memory): a
// transaction (tr_fsyncts) under XFS_ILOCK_EXCL that sets di_size to the new EOF and logs
// the inode core.
function* xfsSetfilesize(k: KernelState, inode: Inode): Generator<void, void, void> {
  const info = xfsInfo(inode);
  const sb = sbOf(k);
  yield;
  sb.trans.acquire(k.sim); // xfs_trans_alloc(mp, &M_RES(mp)->tr_fsyncts, ...)
  yield* info.ilock.downWrite(k.sim);
  xfsTransLogInode(k, inode); // ip->i_d.di_size = isize; xfs_trans_log_inode(tp, ip, XFS_ILOG_CORE)
  sb.trans.release(k.sim); // xfs_trans_commit()
  info.ilock.upWrite(k.sim);
}

// fs/xfs/xfs_file.c xfs_file_dax_write(), v4.9–v4.19 (see the section head): XFS_IOLOCK_EXCL
// (v4.9: xfs_rw_ilock(), which takes inode_lock() first; v4.10+: i_rwsem) across
// xfs_file_aio_write_checks(), dax_iomap_rw(xfs_iomap_ops) and, for a write that ended past
// EOF, i_size_write() and xfs_setfilesize(); generic_write_sync() after (no O_SYNC here).
export function* xfsFileDaxWrite(k: KernelState, inode: Inode, page: number, count: number, value: PageValue, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: IomapIo = { ev, value, user, read: 0, pagesRead: [], done: 0, records: [] };
  yield* xfsIolock(k, inode, true);
  let ret = yield* xfsFileAioWriteChecks(k, inode, page);
  if (!ret) {
    ret = yield* sim.fn('dax_iomap_rw', daxIomapRw(k, inode, page, count, xfsIomapOps, io));
    yield; // i_size_read()
    if (ret > 0 && page + ret > inode.size) {
      inode.setSize(page + ret); // i_size_write(inode, iocb->ki_pos)
      if (sim.rec) sim.log(`xfs_file_dax_write: i_size_write(${inode.name}, ${page + ret})`);
      yield* xfsSetfilesize(k, inode);
    }
  }
  xfsIounlock(k, inode, true);
  for (const r of io.records) r.end = sim.step;
  if (ret < 0) return errWord(ret);
  return ret === count ? 'ok' : 'short';
}

// fs/xfs/xfs_file.c xfs_file_dax_read(), v4.9–v4.19 (see the section head): XFS_IOLOCK_SHARED
// (v4.9: xfs_rw_ilock(SHARED), the iolock only; v4.10+: i_rwsem shared) around
// dax_iomap_rw(xfs_iomap_ops). Returns what ext4's DAX read returns: the page's value (several
// pages: joined by spaces), `EOF`, or an errno word.
export function* xfsFileDaxRead(k: KernelState, inode: Inode, page: number, count: number, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const io: IomapIo = { ev, value: null, user, read: 0, pagesRead: [], done: 0, records: [] };
  yield* xfsIolock(k, inode, false);
  const ret = yield* k.sim.fn('dax_iomap_rw', daxIomapRw(k, inode, page, count, xfsIomapOps, io));
  xfsIounlock(k, inode, false);
  if (ret < 0) {
    ev.readStep = 0;
    return errWord(ret);
  }
  if (ret === 0) return 'EOF';
  if (count === 1) return io.read;
  ev.pagesRead = io.pagesRead;
  return io.pagesRead.map((p) => String(p.value)).join(' ');
}
