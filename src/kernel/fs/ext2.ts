// ext2's locks around the DAX calls, v4.6–v4.12: the get_block era (v4.6–v4.8)
// and the iomap era from v4.9 (dax_iomap_fault() with ext2_iomap_ops, the same
// locks): faults under EXT2_I(inode)->dax_sem for read
// (5726b27b09cc, v4.5), truncate under it for write, block allocation
// pre-zeroed under truncate_mutex before the block is spliced into the map.
// Sources: notes/kernel-rw-writeback.md §C.1–C.3 (fs/ext2/file.c store ids
// 32073903 and 37256359832, ext2_setsize() 18658040918, ext2_get_blocks()
// 45323244292 and 17997460508). ext2 has no hole punch.
import { LockdepMap, Mutex, RwSem } from '../../sim/sync.js';
import { allocBlock, freeBlock } from '../blockmap.js';
import {
  FAULT_FLAG_WRITE, VM_FAULT_SIGBUS, daxFaultV46, daxFaultV47, daxPfnMkwriteV46, daxPfnMkwriteV47,
  type Bh, type FsOps, type Vmf,
} from '../fault.js';
import type { Vma } from '../pagetable.js';
import type { Inode, KernelState } from '../state.js';
import { truncatePagecache } from '../truncate.js';
import { IOMAP_WRITE, daxIomapFault, daxPfnMkwriteV49Plus, type Iomap, type IomapOps } from '../dax-iomap.js';
import { zeroNewBlock } from '../media.js';

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

// fs/ext2/inode.c ext2_get_blocks() for one block, v4.6–v4.9: the map is read
// without a lock (ext2_get_branch() verifies the chain); to allocate, take
// truncate_mutex, look again, allocate, zero the block (v4.6 dax_clear_sectors(),
// v4.7+ sb_issue_zeroout(), 3dc29161070a) and only then splice it in. The block
// is not reported as new before e568df6b84ff (v4.10).
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
  return { mapped: true, unwritten: false, isNew: false, block: b.nr };
}

// fs/ext2/inode.c ext2_iomap_begin(), v4.9–v4.19 (store id 32073903 is the v4.9
// fs/ext2/file.c that calls it): ext2_get_blocks(create = flags & IOMAP_WRITE) for the
// block; 0 blocks is IOMAP_HOLE, else IOMAP_MAPPED (ext2 has no unwritten extents).
// IOMAP_F_NEW only feeds the major-fault count here, so it is left out.
function* ext2IomapBegin(k: KernelState, inode: Inode, page: number, flags: number): Generator<void, Iomap | number, void> {
  const r = yield* ext2GetBlock(k, inode, page, (flags & IOMAP_WRITE) !== 0);
  if (typeof r === 'number') return r;
  if (!r.mapped) return { type: 'hole', block: null, isNew: false };
  return { type: 'mapped', block: r.block, isNew: false };
}

// fs/ext2/inode.c ext2_iomap_end(), v4.9–v4.19: only a short IOMAP_WRITE of a mapped
// extent does anything (ext2_write_failed() truncates blocks past i_size); a fault
// reports its page written or 0 bytes on an error, and never allocates past i_size.
function* ext2IomapEnd(_k: KernelState, _inode: Inode, _page: number, _written: number, _flags: number, _iomap: Iomap): Generator<void, number, void> {
  return 0;
}

/** ext2_iomap_ops, v4.9–v4.19 */
export const ext2IomapOps: IomapOps = { iomapBegin: ext2IomapBegin, iomapEnd: ext2IomapEnd };

// fs/ext2/file.c ext2_dax_fault() (also ->page_mkwrite, as ext2_dax_mkwrite() in
// v4.6 with the same locking), v4.5–v4.12: sb_start_pagefault() for a write, then
// dax_sem for read around the DAX fault handler: dax_fault(ext2_get_block) up to
// v4.8, dax_iomap_fault(ext2_iomap_ops) from v4.9 (store id 32073903; the v4.11
// ->fault signature change, store id 2450038994, keeps the locking).
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

// fs/ext2/file.c ext2_dax_pfn_mkwrite(), v4.5–v4.12 (v4.9 store id 32073903, v4.11
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

export const ext2Ops: FsOps = {
  fault: ext2DaxFault,
  pageMkwrite: ext2DaxFault,
  pfnMkwrite: ext2DaxPfnMkwrite,
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
// under inode_lock; dax_truncate_page() (v4.6–v4.8) / iomap_zero_range() (v4.9+) of
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
  if (freed.length && sim.rec) sim.log(`__ext2_truncate_blocks: free blk ${freed.join(',')}`);
  if (k.flags.ext2_dax_sem) info.daxSem.upWrite(sim);
  inode.iRwsem.upWrite(sim);
}
